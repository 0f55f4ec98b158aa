import { mapWithConcurrency } from '../shared/concurrency';
import { messageOf } from '../shared/errors';
import {
  type FanInDependencies,
  type FanInOutcome,
  fanIn,
  isFullyCounted,
  isProcessing,
  runLayoutOf,
} from '../shared/fan-in';
import type { FrameStore } from '../shared/frame-store';
import type { ResultsStore } from '../shared/results-store';
import type { RunRef, RunStore } from '../shared/job-table';
import type { ProcessFrame } from './frame-processor';
import type { FrameBatchMessage, FrameReference } from '../../pipeline/frame-message';
import type { JobRecord } from '../../pipeline/job-record';
import { type FrameError, type FrameResult, type JsonValue, toJsonLines } from '../../pipeline/results-format';
import { PipelineError } from '../shared/errors';
import { ERROR_CODE } from '../../pipeline/job-record';

export interface WorkerDependencies extends FanInDependencies {
  readonly runs: RunStore;
  readonly frames: FrameStore;
  readonly results: ResultsStore;
  readonly processFrame: ProcessFrame;
  /** Waits between processor attempts; injected so tests need not sleep. */
  readonly pause?: (ms: number) => Promise<void>;
}

export type BatchOutcome = {
  readonly videoId: string;
  readonly runId: string;
  readonly batch: number;
  /**
   * processed: counted by this delivery; duplicate: counted by an earlier one;
   * stale: the run was superseded, failed or finished, so the batch is dropped.
   */
  readonly outcome: 'processed' | 'duplicate' | 'stale';
  readonly processedFrames?: number;
  readonly failedFrames?: number;
  readonly fanIn?: FanInOutcome;
};

/** Frames fetched and processed at once: sharp uses libvips' own threads for each. */
const FRAME_CONCURRENCY = 4;
/** A processor error is tried this many times in all before the frame is recorded as failed. */
export const PROCESSOR_ATTEMPTS = 3;
const RETRY_PAUSE_MS = 100;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One queue message: process its frames, write one results object for the batch, count it once,
 * and, when that count completes the run, fan in.
 *
 * Frame-level trouble (the processor throws every attempt, the JPEG is missing) becomes a failed
 * frame in the results. Anything else (S3 or DynamoDB unavailable) throws, so the message is
 * redelivered; after maxReceiveCount deliveries it reaches the dead-letter queue, whose handler
 * counts its frames as failed. Either way the run's count completes.
 */
export async function processFrameBatch(
  dependencies: WorkerDependencies,
  message: FrameBatchMessage,
): Promise<BatchOutcome> {
  const run: RunRef = { videoId: message.videoId, runId: message.runId };
  const base = { videoId: message.videoId, runId: message.runId, batch: message.batch };
  const record = await dependencies.runs.get(message.videoId);
  if (!isProcessing(record, run)) return { ...base, outcome: 'stale' };

  if (record.DoneBatches?.has(message.batch)) {
    // Redelivered after it was counted: perhaps the delivery that counted it crashed before its fan-in.
    return { ...base, outcome: 'duplicate', fanIn: await fanInIfCounted(dependencies, record, run) };
  }

  const results = await mapWithConcurrency(message.frames, FRAME_CONCURRENCY, (frame) =>
    processOne(dependencies, message, frame),
  );
  const layout = runLayoutOf(record);
  await dependencies.results.putText(
    dependencies.settings.framesBucket,
    layout.batchResultsKey(message.batch),
    toJsonLines(results),
    'application/x-ndjson',
  );

  const failedFrames = results.filter((result) => result.error).length;
  const processedFrames = results.length - failedFrames;
  const count = await dependencies.runs.countBatch(
    run,
    message.batch,
    processedFrames,
    failedFrames,
    dependencies.now().toISOString(),
  );
  if (count.state === 'not-current') return { ...base, outcome: 'stale' };
  const outcome = count.state === 'counted' ? 'processed' : 'duplicate';
  const fanInOutcome = await fanInIfCounted(dependencies, count.record, run);
  return { ...base, outcome, processedFrames, failedFrames, ...(fanInOutcome ? { fanIn: fanInOutcome } : {}) };
}

async function fanInIfCounted(
  dependencies: WorkerDependencies,
  record: JobRecord,
  run: RunRef,
): Promise<FanInOutcome | undefined> {
  return isFullyCounted(record) ? fanIn(dependencies, run) : undefined;
}

async function processOne(
  dependencies: WorkerDependencies,
  message: FrameBatchMessage,
  frame: FrameReference,
): Promise<FrameResult> {
  const line = {
    index: frame.index,
    timestampMs: frame.timestampMs,
    ...(frame.producerTimestampMs === undefined ? {} : { producerTimestampMs: frame.producerTimestampMs }),
    key: frame.key,
  };
  const image = await dependencies.frames.getFrame(message.bucket, frame.key);
  if (image === undefined) {
    return { ...line, error: { name: 'FrameMissing', message: `s3://${message.bucket}/${frame.key} does not exist.` } };
  }
  const pause = dependencies.pause ?? sleep;
  let lastError: FrameError = { name: 'Error', message: 'not attempted' };
  for (let attempt = 1; attempt <= PROCESSOR_ATTEMPTS; attempt += 1) {
    try {
      const output = await dependencies.processFrame(
        { videoId: message.videoId, runId: message.runId, bucket: message.bucket, ...frame },
        image,
      );
      return { ...line, output: asJson(output) };
    } catch (error) {
      lastError = {
        name: error instanceof Error ? error.name : 'Error',
        message: `${messageOf(error)} (failed ${attempt} of ${PROCESSOR_ATTEMPTS} attempts)`,
      };
      if (error instanceof OutputNotSerialisableError) break;
      if (attempt < PROCESSOR_ATTEMPTS) await pause(RETRY_PAUSE_MS * attempt);
    }
  }
  return { ...line, error: lastError };
}

class OutputNotSerialisableError extends PipelineError {
  override readonly name = 'OutputNotSerialisable';

  constructor(message: string) {
    super(ERROR_CODE.outputNotSerialisable, message);
  }
}

/**
 * The processor's output as it will be stored. A processor that returns nothing (it wrote its
 * results elsewhere) gets `null`; anything else JSON cannot hold is the processor's error.
 */
function asJson(output: JsonValue | undefined): JsonValue {
  if (output === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(output);
  } catch (error) {
    throw new OutputNotSerialisableError(`The processor's output cannot be written as JSON: ${messageOf(error)}`);
  }
  if (text === undefined) throw new OutputNotSerialisableError('The processor returned a value JSON cannot hold (a function or a symbol).');
  return JSON.parse(text) as JsonValue;
}
