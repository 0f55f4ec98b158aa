import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { JobRecord } from '../pipeline/job-record';
import { isFinished, readJob } from './job-reads';

/** A job record never appeared for an upload: the event was not routed, or ingress kept failing. */
export class JobNeverStartedError extends Error {
  override readonly name = 'JobNeverStartedError';
}

/** How long a finished run's report waits for its outcome event to be noted (AnnouncedAt). */
const ANNOUNCEMENT_WAIT_MS = 3_000;

/**
 * Follows one video's record until its run (the one that differs from `previousRunId`, the run
 * recorded before this upload) is COMPLETE or FAILED, reporting every change. Polls the table
 * with one consistent read at a time, which is nothing next to the pipeline's own writes: every
 * `pollMs` while the record changes, backing off by half again per unchanged read up to
 * `maxPollMs` (a long MediaConvert job reports once a minute), and back to `pollMs` on a change.
 */
export async function watchJob(options: {
  readonly dynamodb: DynamoDBDocumentClient;
  readonly table: string;
  readonly videoId: string;
  readonly previousRunId?: string;
  /**
   * Which state of the record to follow, instead of "a run other than previousRunId": a
   * redriven run keeps its run id, and is followed once it has left the failure it was in.
   */
  readonly follows?: (record: JobRecord) => boolean;
  readonly onUpdate: (record: JobRecord) => void;
  /** Called after every read with the wait before the next one (tests watch the backoff). */
  readonly onPoll?: (nextDelayMs: number) => void;
  readonly pollMs?: number;
  /** The longest wait between reads when nothing changes; `pollMs` (no backoff) unless given. */
  readonly maxPollMs?: number;
  /** How long to wait for the run's record to appear before giving up. */
  readonly startTimeoutMs?: number;
}): Promise<JobRecord> {
  const pollMs = options.pollMs ?? 250;
  const maxPollMs = Math.max(options.maxPollMs ?? pollMs, pollMs);
  let delay = pollMs;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const startedBy = Date.now() + startTimeoutMs;
  let last = '';
  let finishedAt: number | undefined;
  for (;;) {
    const record = await readJob(options.dynamodb, options.table, options.videoId);
    if (record && (options.follows ? options.follows(record) : record.RunId !== options.previousRunId)) {
      const fingerprint = `${record.Status}|${record.ExtractPercent}|${record.ProcessedFrames}|${record.FailedFrames}|${record.TotalFrames}`;
      if (fingerprint !== last) {
        last = fingerprint;
        delay = pollMs;
        options.onUpdate(record);
      } else {
        delay = Math.min(Math.round(delay * 1.5), maxPollMs);
      }
      // The outcome event is put on the bus just after the final write: wait a moment for it,
      // so the report can say it was sent.
      if (isFinished(record) && (record.AnnouncedAt || Date.now() >= (finishedAt ??= Date.now()) + ANNOUNCEMENT_WAIT_MS)) return record;
    } else if (Date.now() > startedBy) {
      throw new JobNeverStartedError(`No job started for ${JSON.stringify(options.videoId)} within ${Math.round(startTimeoutMs / 1000)} s`);
    }
    options.onPoll?.(delay);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
