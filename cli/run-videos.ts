import { createReadStream, createWriteStream, mkdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  InvalidCaptureSettingError,
  formatFrameRate,
  parseFrameRate,
  parseMaxCaptures,
  parseQuality,
} from '../pipeline/capture-settings';
import { OVERRIDE_METADATA } from '../pipeline/definition';
import { JOB_STATUS, type JobRecord } from '../pipeline/job-record';
import { CliError, EXIT } from './exit-codes';
import { type JobReport, describeReport, jobReport } from './job-report';
import { JobNeverStartedError, readJob, watchJob } from './job-watch';
import { type PipelineConnection, connectLocalPipeline } from './pipeline-connection';
import { loadProjectStackConfig } from '../pipeline/stack-config';
import { progressView } from './progress-view';

export interface CaptureOptions {
  readonly fps?: string;
  readonly quality?: string;
  readonly maxCaptures?: string;
}

export interface RunOptions extends CaptureOptions {
  readonly dataDirectory: string;
  readonly processor?: string;
  readonly key?: string;
  readonly json?: boolean;
}

export interface Io {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/**
 * The capture overrides as the S3 object metadata the ingress function reads, checked here with
 * the pipeline's own parsers so a typo fails at once with the same message the job would record.
 */
export function overrideMetadata(options: CaptureOptions): Record<string, string> {
  const metadata: Record<string, string> = {};
  try {
    if (options.fps !== undefined) metadata[OVERRIDE_METADATA.fps] = formatFrameRate(parseFrameRate(options.fps));
    if (options.quality !== undefined) metadata[OVERRIDE_METADATA.quality] = String(parseQuality(options.quality));
    if (options.maxCaptures !== undefined) metadata[OVERRIDE_METADATA.maxCaptures] = String(parseMaxCaptures(options.maxCaptures));
  } catch (error) {
    if (error instanceof InvalidCaptureSettingError) throw new CliError(error.message, EXIT.usage);
    throw error;
  }
  return metadata;
}

interface VideoToRun {
  readonly path: string;
  readonly key: string;
  readonly size: number;
}

/** Checks the files and names their keys before anything starts. */
export function videosToRun(paths: readonly string[], key: string | undefined, suffixes: readonly string[]): VideoToRun[] {
  if (paths.length === 0) throw new CliError('Name at least one video file.', EXIT.usage);
  if (key !== undefined && paths.length > 1) throw new CliError('--key names one video; give one file with it.', EXIT.usage);
  const videos = paths.map((path) => {
    let size: number;
    try {
      const stats = statSync(path);
      if (!stats.isFile()) throw new CliError(`${path} is not a file.`, EXIT.usage);
      size = stats.size;
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`, EXIT.usage);
    }
    const objectKey = key ?? basename(path);
    if (!suffixes.some((suffix) => objectKey.toLowerCase().endsWith(suffix.toLowerCase()))) {
      throw new CliError(
        `${objectKey} does not end in one of the video suffixes the pipeline picks up (${suffixes.join(', ')}); rename it or pass --key name.mp4.`,
        EXIT.usage,
      );
    }
    return { path: resolve(path), key: objectKey, size };
  });
  const keys = new Set<string>();
  for (const video of videos) {
    if (keys.has(video.key)) throw new CliError(`Two of the videos would have the same key ${video.key}; run them one at a time.`, EXIT.usage);
    keys.add(video.key);
  }
  return videos;
}

/** Multipart above 8 MiB, four parts in flight: what the AWS CLI does for large files. */
const PART_SIZE = 8 * 1024 * 1024;

async function uploadVideo(
  connection: PipelineConnection,
  video: VideoToRun,
  metadata: Record<string, string>,
  onProgress: (bytes: number) => void,
): Promise<void> {
  const upload = new Upload({
    client: connection.s3,
    partSize: PART_SIZE,
    queueSize: 4,
    params: { Bucket: connection.ingressBucket, Key: video.key, Body: createReadStream(video.path), Metadata: metadata },
  });
  upload.on('httpUploadProgress', (progress) => onProgress(progress.loaded ?? 0));
  await upload.done();
  onProgress(video.size);
}

async function downloadResults(s3: S3Client, record: JobRecord, directory: string): Promise<{ results: string; summary?: string }> {
  const target = join(directory, 'results', record.RunPrefix ?? record.RunId);
  mkdirSync(target, { recursive: true });
  const fetch = async (key: string, name: string) => {
    const object = await s3.send(new GetObjectCommand({ Bucket: record.ResultsBucket, Key: key }));
    const path = join(target, name);
    await pipeline(object.Body as Readable, createWriteStream(path));
    return path;
  };
  return {
    results: await fetch(record.ResultsKey!, 'results.jsonl'),
    summary: record.SummaryKey ? await fetch(record.SummaryKey, 'summary.json') : undefined,
  };
}

/**
 * `frames run`: uploads each video into the local pipeline's ingress bucket, follows its job to the
 * end, fetches the results of COMPLETE runs, and reports. Resolves with the exit code.
 */
export async function runVideos(paths: readonly string[], options: RunOptions, io: Io): Promise<number> {
  const metadata = overrideMetadata(options);
  const videos = videosToRun(paths, options.key, loadProjectStackConfig().videoSuffixes);
  const warnings: string[] = [];
  const connection = await connectLocalPipeline({
    dataDirectory: options.dataDirectory,
    processor: options.processor,
    onWarning: (message) => warnings.push(message),
  });
  const view = progressView(io.stderr, videos.map((video) => video.key));
  let reports: JobReport[];
  try {
    reports = await Promise.all(
      videos.map(async (video) => {
        const previous = await readJob(connection.dynamodb, connection.jobTable, video.key);
        await uploadVideo(connection, video, metadata, (bytes) => view.uploaded(video.key, bytes, video.size));
        const record = await watchJob({
          dynamodb: connection.dynamodb,
          table: connection.jobTable,
          videoId: video.key,
          previousRunId: previous?.RunId,
          onUpdate: (update) => view.update(update),
        });
        const local = record.Status === JOB_STATUS.complete && record.ResultsKey
          ? await downloadResults(connection.s3, record, options.dataDirectory)
          : {};
        return jobReport(record, local);
      }),
    );
  } catch (error) {
    if (error instanceof JobNeverStartedError) {
      throw new CliError(
        `${error.message}. The function logs are in ${join(options.dataDirectory, 'logs')}${warnings.length ? `; ${warnings.join('; ')}` : ''}.`,
        EXIT.environment,
      );
    }
    throw error;
  } finally {
    view.stop();
    await connection.close();
  }
  for (const report of reports) {
    if (options.json) io.stdout.write(`${JSON.stringify(report)}\n`);
    else io.stdout.write(`${describeReport(report)}\n`);
  }
  return reports.every((report) => report.status === JOB_STATUS.complete) ? EXIT.ok : EXIT.jobFailed;
}
