import { messageOf } from '../shared/errors';
import {
  type FanInDependencies,
  type FanInOutcome,
  fanIn,
  isFullyCounted,
  isProcessing,
  runLayoutOf,
} from '../shared/fan-in';
import type { RunRef } from '../shared/job-table';
import type { FrameBatchMessage } from '../../pipeline/frame-message';
import { ERROR_CODE } from '../../pipeline/job-record';
import { type FrameResult, toJsonLines } from '../../pipeline/results-format';

export type DeadLetterOutcome = {
  readonly videoId: string;
  readonly runId: string;
  readonly batch: number;
  /**
   * counted: the batch's frames were counted now (as failed, or from results a worker had written);
   * already-counted: the batch was counted but its fan-in kept failing; stale: the run moved on.
   */
  readonly outcome: 'counted' | 'already-counted' | 'stale';
  readonly fanIn?: FanInOutcome | 'failed';
};

/**
 * A frame batch that failed every delivery (maxReceiveCount) reached the dead-letter queue. Its
 * frames must still be counted, or the run would wait forever: if a worker had written the batch's
 * results before failing, those are counted; otherwise every frame is recorded as failed, named in
 * the results with the reason. If that completes the run, the fan-in runs here; if the fan-in
 * itself is what kept failing, the run is marked FAILED rather than left PROCESSING.
 */
export async function recordDeadLetter(
  dependencies: FanInDependencies,
  message: FrameBatchMessage,
): Promise<DeadLetterOutcome> {
  const run: RunRef = { videoId: message.videoId, runId: message.runId };
  const base = { videoId: message.videoId, runId: message.runId, batch: message.batch };
  const { runs, results, settings } = dependencies;
  let record = await runs.get(message.videoId);
  if (!isProcessing(record, run)) return { ...base, outcome: 'stale' };

  let outcome: DeadLetterOutcome['outcome'] = 'already-counted';
  if (!record.DoneBatches?.has(message.batch)) {
    const key = runLayoutOf(record).batchResultsKey(message.batch);
    let lines = await results.getText(settings.framesBucket, key);
    if (lines === undefined) {
      lines = toJsonLines(message.frames.map(deadLettered));
      await results.putText(settings.framesBucket, key, lines, 'application/x-ndjson');
    }
    const failed = lines
      .split('\n')
      .filter((line) => line.length > 0 && (JSON.parse(line) as FrameResult).error !== undefined).length;
    const count = await runs.countBatch(run, message.batch, message.frames.length - failed, failed, dependencies.now().toISOString());
    if (count.state === 'not-current') return { ...base, outcome: 'stale' };
    record = count.record;
    outcome = count.state === 'counted' ? 'counted' : 'already-counted';
  }
  if (!isFullyCounted(record)) return { ...base, outcome };

  try {
    return { ...base, outcome, fanIn: await fanIn(dependencies, run) };
  } catch (error) {
    await runs.failProcessing(
      run,
      {
        Code: ERROR_CODE.fanInFailed,
        Message: `Every frame was counted, but writing the results failed on every attempt: ${messageOf(error)}. The per-batch results are kept under s3://${settings.framesBucket}/${record.RunPrefix}/batches/ until the frames expire.`,
      },
      dependencies.now().toISOString(),
    );
    return { ...base, outcome, fanIn: 'failed' };
  }
}

function deadLettered(frame: FrameBatchMessage['frames'][number]): FrameResult {
  return {
    index: frame.index,
    timestampMs: frame.timestampMs,
    ...(frame.producerTimestampMs === undefined ? {} : { producerTimestampMs: frame.producerTimestampMs }),
    key: frame.key,
    error: {
      name: 'DeadLettered',
      message: "The frame's batch failed every delivery to the frame worker (a crash, a timeout or a storage error; see the worker's log), so it was not processed.",
    },
  };
}
