import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { JOB_STATUS, type JobRecord } from '../pipeline/job-record';
import { CliError, EXIT } from './exit-codes';
import { type JobReport, jobReport } from './job-report';
import { JobNeverStartedError, watchJob } from './job-polling';
import type { PipelineConnection } from './pipeline-connection';
import type { ProgressView } from './progress-view';

/**
 * Follows a video's new run (the one after `previousRunId`) to COMPLETE or FAILED, showing its
 * progress, and fetches a COMPLETE run's results into `<data dir>/results/<run prefix>/`.
 */
export async function followToReport(options: {
  readonly connection: PipelineConnection;
  readonly videoId: string;
  readonly previousRunId?: string;
  /** Follows this state of the record instead of a new run (watchJob's `follows`). */
  readonly follows?: (record: JobRecord) => boolean;
  readonly view: ProgressView;
  readonly dataDirectory: string;
}): Promise<JobReport> {
  const { connection } = options;
  const record = await watchJob({
    dynamodb: connection.dynamodb,
    table: connection.jobTable,
    videoId: options.videoId,
    previousRunId: options.previousRunId,
    follows: options.follows,
    onUpdate: (update) => options.view.update(update),
  });
  const local =
    record.Status === JOB_STATUS.complete && record.ResultsKey
      ? await downloadResults(connection.s3, record, join(options.dataDirectory, 'results', record.RunPrefix ?? record.RunId))
      : {};
  return jobReport(record, local);
}

/** Downloads a COMPLETE run's results.jsonl and summary.json into `target`; resolves their paths. */
export async function downloadResults(s3: S3Client, record: JobRecord, target: string): Promise<{ results: string; summary?: string }> {
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

/** A run that never started is a problem of the local cloud: say where its logs are. */
export function explainNeverStarted(error: unknown, dataDirectory: string, warnings: readonly string[]): never {
  if (error instanceof JobNeverStartedError) {
    throw new CliError(
      `${error.message}. The function logs are in ${join(dataDirectory, 'logs')}${warnings.length ? `; ${warnings.join('; ')}` : ''}.`,
      EXIT.environment,
    );
  }
  throw error;
}
