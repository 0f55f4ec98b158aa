import { createReadStream, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import {
  type CaptureSettings,
  InvalidCaptureSettingError,
  formatFrameRate,
  parseFrameRate,
  parseMaxCaptures,
  parseQuality,
} from '../pipeline/capture-settings';
import { OVERRIDE_METADATA } from '../pipeline/definition';
import { CliError, EXIT } from './exit-codes';
import { explainNeverStarted, followToReport, printReports } from './follow-job';
import type { JobReport } from './job-report';
import { readJob } from './job-watch';
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
 * The capture options given on the command line, parsed with the pipeline's own parsers so a typo
 * fails at once (exit 2) with the same message the job would record.
 */
export function parseCaptureOptions(options: CaptureOptions): Partial<CaptureSettings> {
  try {
    return {
      ...(options.fps !== undefined ? { fps: parseFrameRate(options.fps) } : {}),
      ...(options.quality !== undefined ? { quality: parseQuality(options.quality) } : {}),
      ...(options.maxCaptures !== undefined ? { maxCaptures: parseMaxCaptures(options.maxCaptures) } : {}),
    };
  } catch (error) {
    if (error instanceof InvalidCaptureSettingError) throw new CliError(error.message, EXIT.usage);
    throw error;
  }
}

/** The capture overrides as the S3 object metadata the ingress function reads. */
export function overrideMetadata(options: CaptureOptions): Record<string, string> {
  const { fps, quality, maxCaptures } = parseCaptureOptions(options);
  const metadata: Record<string, string> = {};
  if (fps !== undefined) metadata[OVERRIDE_METADATA.fps] = formatFrameRate(fps);
  if (quality !== undefined) metadata[OVERRIDE_METADATA.quality] = String(quality);
  if (maxCaptures !== undefined) metadata[OVERRIDE_METADATA.maxCaptures] = String(maxCaptures);
  return metadata;
}

export interface VideoToRun {
  readonly path: string;
  readonly key: string;
  readonly size: number;
}

/** The size of a file named on the command line, or a usage error that says why it cannot be read. */
export function fileSizeOf(path: string): number {
  try {
    const stats = statSync(path);
    if (!stats.isFile()) throw new CliError(`${path} is not a file.`, EXIT.usage);
    return stats.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`, EXIT.usage);
  }
}

/** Checks the files and names their keys before anything starts. */
export function videosToRun(paths: readonly string[], key: string | undefined, suffixes: readonly string[]): VideoToRun[] {
  if (paths.length === 0) throw new CliError('Name at least one video file.', EXIT.usage);
  if (key !== undefined && paths.length > 1) throw new CliError('--key names one video; give one file with it.', EXIT.usage);
  const videos = paths.map((path) => {
    const size = fileSizeOf(path);
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

export async function uploadVideo(
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
  if (connection.faults.length > 0) io.stderr.write(`Fault injection is on (FRAMES_FAULTS): ${connection.faults.join(', ')}\n`);
  const view = progressView(io.stderr, videos.map((video) => video.key));
  let reports: JobReport[];
  try {
    reports = await Promise.all(
      videos.map(async (video) => {
        const previous = await readJob(connection.dynamodb, connection.jobTable, video.key);
        await uploadVideo(connection, video, metadata, (bytes) => view.uploaded(video.key, bytes, video.size));
        return followToReport({ connection, videoId: video.key, previousRunId: previous?.RunId, view, dataDirectory: options.dataDirectory });
      }),
    );
  } catch (error) {
    explainNeverStarted(error, options.dataDirectory, warnings);
  } finally {
    view.stop();
    await connection.close();
  }
  return printReports(reports, options.json, io.stdout);
}
