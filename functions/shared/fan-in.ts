import { PipelineError } from './errors';
import type { ResultsStore } from './results-store';
import type { RunRef, RunStore } from './job-table';
import { type JobRecord, ERROR_CODE } from '../../pipeline/job-record';
import { mayStart } from '../../pipeline/run-lifecycle';
import {
  type FrameError,
  type FrameResult,
  type RunSummary,
  SUMMARY_FAILED_FRAMES_LIMIT,
} from '../../pipeline/results-format';
import { type RunLayout, runLayout } from '../../pipeline/run-layout';

export interface FanInDependencies {
  readonly runs: RunStore;
  readonly results: ResultsStore;
  readonly settings: {
    /** Holds the per-batch results the workers wrote. */
    readonly framesBucket: string;
    readonly egressBucket: string;
    /** How long a fan-in may run before another may take over: the longest a worker can live. */
    readonly fanInLeaseMs: number;
  };
  readonly now: () => Date;
}

export type FanInOutcome =
  | 'completed'
  /** Another fan-in holds a live lease, or the run is no longer PROCESSING: nothing to do here. */
  | 'not-claimed';

/** The record is this run's and its frames are being processed: a batch message still matters. */
export function isProcessing(record: JobRecord | undefined, run: RunRef): record is JobRecord {
  return record?.RunId === run.runId && mayStart('countBatch', record.Status);
}

/** Every frame of the run has been counted, as processed or as failed. */
export function isFullyCounted(record: JobRecord): boolean {
  return (
    mayStart('completeRun', record.Status) &&
    record.TotalFrames !== undefined &&
    (record.ProcessedFrames ?? 0) + (record.FailedFrames ?? 0) >= record.TotalFrames
  );
}

/** Where a run's objects are, from its record; a record without RunPrefix is not this pipeline's. */
export function runLayoutOf(record: JobRecord): RunLayout {
  if (!record.RunPrefix) {
    throw new PipelineError(
      ERROR_CODE.runPrefixMissing,
      `The record of ${JSON.stringify(record.VideoId)} has no RunPrefix; it was not written by this pipeline's ingress function.`,
    );
  }
  return runLayout(record.RunPrefix);
}

/** Per-batch result objects fetched ahead of the one being written, to hide S3's latency. */
const PREFETCH = 8;

/**
 * Writes a fully counted run's results.jsonl (per-batch results concatenated in batch order, which
 * is index order) and summary.json to the egress bucket, then sets COMPLETE.
 *
 * Exactly one fan-in runs at a time: it starts by taking a lease on the record that lasts as long
 * as a worker can live. Whoever finds the run counted but not COMPLETE calls this; if the holder
 * crashed, its redelivered message finds the lease expired and finishes the work. Both outputs are
 * a pure function of the batch results, so a takeover rewrites the same bytes.
 */
export async function fanIn(dependencies: FanInDependencies, run: RunRef): Promise<FanInOutcome> {
  const { runs, results, settings } = dependencies;
  const record = await runs.claimFanIn(run, dependencies.now(), settings.fanInLeaseMs);
  if (!record) return 'not-claimed';
  if (!isFullyCounted(record)) {
    throw new PipelineError(
      ERROR_CODE.fanInNotReady,
      `Run ${run.runId} of ${JSON.stringify(run.videoId)} is not fully counted (${record.ProcessedFrames ?? 0} processed + ${record.FailedFrames ?? 0} failed of ${record.TotalFrames}).`,
    );
  }
  const layout = runLayoutOf(record);
  const tally = { lines: 0, failedFrames: [] as RunSummary['failedFrames'][number][] };

  await results.putStream(
    settings.egressBucket,
    layout.resultsKey,
    concatenatedBatchResults(results, settings.framesBucket, layout, record.BatchCount ?? 0, tally),
    'application/x-ndjson',
  );
  if (tally.lines !== record.TotalFrames) {
    throw new PipelineError(
      ERROR_CODE.resultsIncomplete,
      `The batch results of run ${run.runId} hold ${tally.lines} lines for ${record.TotalFrames} frames.`,
    );
  }

  const completedAt = dependencies.now().toISOString();
  const summary = summarize(record, tally.failedFrames, settings.egressBucket, layout.resultsKey, completedAt);
  await results.putText(settings.egressBucket, layout.summaryKey, `${JSON.stringify(summary, null, 2)}\n`, 'application/json');
  await runs.completeRun(
    run,
    { bucket: settings.egressBucket, resultsKey: layout.resultsKey, summaryKey: layout.summaryKey },
    completedAt,
  );
  return 'completed';
}

async function* concatenatedBatchResults(
  results: ResultsStore,
  bucket: string,
  layout: RunLayout,
  batchCount: number,
  tally: { lines: number; failedFrames: RunSummary['failedFrames'][number][] },
): AsyncGenerator<string> {
  const fetch = (batch: number) => {
    const text = results.getText(bucket, layout.batchResultsKey(batch));
    text.catch(() => undefined); // awaited in order below; this only keeps an early rejection from going unhandled
    return text;
  };
  const ahead: Promise<string | undefined>[] = [];
  for (let batch = 0; batch < Math.min(PREFETCH, batchCount); batch += 1) ahead.push(fetch(batch));

  for (let batch = 0; batch < batchCount; batch += 1) {
    const text = await ahead.shift()!;
    if (batch + PREFETCH < batchCount) ahead.push(fetch(batch + PREFETCH));
    if (text === undefined) {
      throw new PipelineError(ERROR_CODE.batchResultsMissing, `Batch ${batch} was counted but ${layout.batchResultsKey(batch)} does not exist.`);
    }
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      tally.lines += 1;
      const result = JSON.parse(line) as FrameResult;
      if (result.error && tally.failedFrames.length < SUMMARY_FAILED_FRAMES_LIMIT) {
        tally.failedFrames.push({ index: result.index, key: result.key, error: result.error as FrameError });
      }
    }
    yield text.endsWith('\n') || text.length === 0 ? text : `${text}\n`;
  }
}

function summarize(
  record: JobRecord,
  failedFrames: RunSummary['failedFrames'],
  egressBucket: string,
  resultsKey: string,
  completedAt: string,
): RunSummary {
  const between = (from?: string, to?: string) =>
    from && to ? new Date(to).getTime() - new Date(from).getTime() : undefined;
  const numerator = record.FpsNumerator ?? 0;
  const denominator = record.FpsDenominator ?? 1;
  return {
    videoId: record.VideoId,
    runId: record.RunId,
    source: {
      bucket: record.SourceBucket,
      key: record.SourceKey,
      ...(record.SourceETag ? { etag: record.SourceETag } : {}),
      ...(record.SourceStream
        ? {
            stream: {
              stream: record.SourceStream,
              start: record.ClipStart ?? '',
              end: record.ClipEnd ?? '',
              timestampType: record.ClipTimestampType ?? '',
              firstProducerTimestamp: record.ClipFirstProducerTimestamp,
              fragments: record.ClipFragments,
              pieces: record.ClipPieces,
            },
          }
        : {}),
    },
    settings: {
      fps: `${numerator}/${denominator}`,
      fpsNumerator: numerator,
      fpsDenominator: denominator,
      quality: record.Quality ?? 0,
      maxCaptures: record.MaxCaptures ?? 0,
      framesPerBatch: record.FramesPerBatch ?? 0,
    },
    frames: {
      total: record.TotalFrames ?? 0,
      processed: record.ProcessedFrames ?? 0,
      failed: record.FailedFrames ?? 0,
      ...(record.FrameWidth !== undefined ? { width: record.FrameWidth } : {}),
      ...(record.FrameHeight !== undefined ? { height: record.FrameHeight } : {}),
    },
    ...(record.DurationMs !== undefined ? { durationMs: record.DurationMs } : {}),
    results: { bucket: egressBucket, key: resultsKey },
    timings: {
      createdAt: record.CreatedAt,
      ...(record.SubmittedAt ? { submittedAt: record.SubmittedAt } : {}),
      ...(record.ExtractedAt ? { extractedAt: record.ExtractedAt } : {}),
      ...(record.FanInStartedAt ? { fanInStartedAt: record.FanInStartedAt } : {}),
      completedAt,
      stagesMs: {
        submit: between(record.CreatedAt, record.SubmittedAt),
        extract: between(record.SubmittedAt ?? record.CreatedAt, record.ExtractedAt),
        process: between(record.ExtractedAt, record.FanInStartedAt),
        fanIn: between(record.FanInStartedAt, completedAt),
        total: between(record.CreatedAt, completedAt) ?? 0,
      },
    },
    failedFrames,
  };
}
