import { type FanInDependencies, fanIn } from '../shared/fan-in';
import type { FrameQueue } from '../shared/frame-queue';
import type { FrameStore } from '../shared/frame-store';
import type { MediaConverter } from '../shared/media-converter';
import type { RunRef, RunStore } from '../shared/job-table';
import { type JobError, type JobRecord, ERROR_CODE, JOB_STATUS } from '../../pipeline/job-record';
import { batchCountOf, frameBatchMessages, runFanOutOf } from './frame-batches';
import { frameOutputOf } from './frame-output';
import { mayStart } from '../../pipeline/run-lifecycle';
import type { CompletedOutput, JobStateChange } from './job-state-events';
import { handleSegmentStateChange } from './handle-segment-state';

export interface CompletionSettings {
  readonly framesBucket: string;
  readonly egressBucket: string;
  readonly framesPerMessage: number;
  readonly fanInLeaseMs: number;
}

export interface CompletionDependencies extends FanInDependencies {
  readonly runs: RunStore;
  /** A failed segmented run's other segments' jobs are canceled (functions/completion/handle-segment-state.ts). */
  readonly mediaConvert: Pick<MediaConverter, 'cancelJob'>;
  readonly frames: FrameStore;
  readonly queue: FrameQueue;
  readonly settings: CompletionSettings;
}

export type CompletionOutcome = {
  readonly videoId: string;
  readonly runId: string;
  readonly jobId: string;
  readonly status: JobStateChange['status'];
  /**
   * recorded: the job record moved; fanned-out: frames counted and every batch sent;
   * completed: a video with no frames finished at once; failed: recorded as FAILED;
   * ignored: an old run's event, a duplicate, or progress that is not ahead.
   */
  readonly outcome: 'recorded' | 'fanned-out' | 'completed' | 'failed' | 'ignored';
  readonly totalFrames?: number;
  readonly messages?: number;
};

/**
 * One MediaConvert job state change. Every write is conditional on the event's run being the
 * video's current run and on the status moving forward, so duplicate, late and out-of-order
 * events are no-ops.
 */
export async function handleJobStateChange(
  dependencies: CompletionDependencies,
  change: JobStateChange,
): Promise<CompletionOutcome> {
  const run: RunRef = { videoId: change.videoId, runId: change.runId };
  const base = { videoId: change.videoId, runId: change.runId, jobId: change.jobId, status: change.status };
  const at = dependencies.now().toISOString();
  const { runs } = dependencies;

  // A segmented run's job (pipeline/segment-plan.ts): counted and fanned out on its own.
  if (change.segment !== undefined) return handleSegmentStateChange(dependencies, { ...change, segment: change.segment });

  switch (change.status) {
    case 'STATUS_UPDATE': {
      const moved = await runs.recordExtractProgress(run, change.jobId, change.percentComplete, at);
      return { ...base, outcome: moved ? 'recorded' : 'ignored' };
    }
    case 'ERROR':
    case 'CANCELED': {
      const failed = await runs.failExtraction(run, change.jobId, mediaConvertFailure(change), at);
      return { ...base, outcome: failed ? 'failed' : 'ignored' };
    }
    case 'COMPLETE':
      return completeExtraction(dependencies, run, change, base);
  }
}

export function mediaConvertFailure(change: Extract<JobStateChange, { status: 'ERROR' | 'CANCELED' }>): JobError {
  if (change.status === 'CANCELED') {
    return {
      Code: ERROR_CODE.mediaConvertCanceled,
      Message: `MediaConvert job ${change.jobId} was canceled before it finished. Upload the video again to start a new run.`,
    };
  }
  return {
    Code: ERROR_CODE.mediaConvertError,
    Message: `MediaConvert job ${change.jobId} failed with error ${change.errorCode ?? '(no code)'}: ${change.errorMessage}${adviceFor(change.errorCode)}`,
    ...(change.errorCode !== undefined ? { ServiceCode: change.errorCode } : {}),
  };
}

/**
 * What a person can do about an input MediaConvert could not open (error 1010, "Unable to open
 * input file"), so the job record says more than the code.
 */
function adviceFor(errorCode: number | string | undefined): string {
  const code = Number(errorCode);
  if (code === 1010) {
    return '. MediaConvert could not read the upload as a video: check that it is a complete video file (not truncated, not a still image, with a video track) and upload it again.';
  }
  return '';
}

async function completeExtraction(
  dependencies: CompletionDependencies,
  run: RunRef,
  change: Extract<JobStateChange, { status: 'COMPLETE' }>,
  base: Pick<CompletionOutcome, 'videoId' | 'runId' | 'jobId' | 'status'>,
): Promise<CompletionOutcome> {
  const { runs, settings } = dependencies;
  const record = await runs.get(run.videoId);
  if (!awaitsFrameCount(record, change) || !record.FramesPrefix) return { ...base, outcome: 'ignored' };

  // MediaConvert lists only the last capture; its 0-based index + 1 is the count (0: no capture).
  // Its path also says how the captures are named, whatever the template's base name and modifier.
  const frames = { bucket: settings.framesBucket, prefix: record.FramesPrefix };
  const found = frameOutputOf(change.outputs, frames);
  if (found.kind === 'unrecognised') {
    return failCount(dependencies, run, change, base, {
      Code: ERROR_CODE.frameOutputUnrecognised,
      Message:
        `MediaConvert job ${change.jobId} completed, but ${found.reason}, so this run's frames cannot be counted. ` +
        `Check the frame-capture output of the job template (job-templates/frame-capture.json): one FRAME_CAPTURE output ` +
        `whose destination is under s3://${frames.bucket}/${frames.prefix}. Then upload the video again to start a new run.`,
    });
  }

  const reported = found.kind === 'captured' ? found.last.index + 1 : 0;
  const mismatch =
    found.kind === 'captured'
      ? await captureMismatch(dependencies, found.last.namePrefix, frames, reported)
      : await strayCaptures(dependencies, frames);
  if (mismatch) {
    return failCount(
      dependencies,
      run,
      change,
      base,
      {
        Code: ERROR_CODE.frameCountMismatch,
        Message:
          `MediaConvert reported ${reported} frame(s)${found.kind === 'captured' ? ` (last: ${found.lastPath})` : ''} but ` +
          `${mismatch.text}. The frames of this run cannot be trusted; upload the video again to start a new run.`,
      },
      mismatch.count,
    );
  }

  const totalFrames = reported;
  const framesPerBatch = record.FramesPerBatch ?? settings.framesPerMessage;
  const measured = found.kind === 'captured' ? found.output : longestOutput(change.outputs);
  const started = await runs.startProcessing(
    run,
    change.jobId,
    {
      totalFrames,
      framesPerBatch,
      batchCount: batchCountOf(totalFrames, framesPerBatch),
      frameWidth: measured?.widthPx,
      frameHeight: measured?.heightPx,
      durationMs: measured?.durationMs,
    },
    dependencies.now().toISOString(),
  );
  if (!started) return { ...base, outcome: 'ignored' };

  if (found.kind === 'nothing-captured') {
    // Nothing to fan out: the (empty) results are written at once and the run is COMPLETE.
    await fanIn(dependencies, run);
    return { ...base, outcome: 'completed', totalFrames };
  }

  const sent = await dependencies.queue.sendAll(
    frameBatchMessages({ ...runFanOutOf(record, settings.framesBucket, found.last.namePrefix, framesPerBatch), totalFrames }),
  );
  await runs.recordFannedOut(run, dependencies.now().toISOString());
  return { ...base, outcome: 'fanned-out', totalFrames, messages: sent.messages };
}

/**
 * The record is this run's and still waiting for its frames to be counted: SUBMITTED or
 * EXTRACTING, or PROCESSING with a fan-out that did not finish (a crash; the redelivered COMPLETE
 * sends every batch again, and the workers count each batch once).
 */
function awaitsFrameCount(record: JobRecord | undefined, change: JobStateChange): record is JobRecord {
  if (!record || record.RunId !== change.runId) return false;
  if (record.MediaConvertJobId && record.MediaConvertJobId !== change.jobId) return false;
  return mayStart('startProcessing', record.Status) && (record.Status !== JOB_STATUS.processing || !record.FannedOutAt);
}

/** Records a run whose frames could not be counted as FAILED (unless the event is a stale one). */
async function failCount(
  dependencies: CompletionDependencies,
  run: RunRef,
  change: Extract<JobStateChange, { status: 'COMPLETE' }>,
  base: Pick<CompletionOutcome, 'videoId' | 'runId' | 'jobId' | 'status'>,
  failure: JobError,
  listed?: number,
): Promise<CompletionOutcome> {
  const failed = await dependencies.runs.failExtraction(run, change.jobId, failure, dependencies.now().toISOString());
  return { ...base, outcome: failed ? 'failed' : 'ignored', ...(listed === undefined ? {} : { totalFrames: listed }) };
}

export interface Mismatch {
  /** What the listing holds, for the message. */
  readonly text: string;
  readonly count: number;
}

/** Lists the captures named `<namePrefix>.NNNNNNN.jpg`: exactly 0..reported-1, or a mismatch. */
export async function captureMismatch(
  dependencies: CompletionDependencies,
  namePrefix: string,
  frames: { readonly bucket: string; readonly prefix: string },
  reported: number,
): Promise<Mismatch | undefined> {
  const listing = await dependencies.frames.listFrames(frames.bucket, namePrefix);
  if (listing.count === reported && listing.firstGap === undefined) return undefined;
  return {
    count: listing.count,
    text:
      `s3://${frames.bucket}/${frames.prefix} holds ${listing.count} named ${namePrefix.slice(frames.prefix.length)}.NNNNNNN.jpg` +
      `${listing.firstGap !== undefined ? `, first missing or extra index ${listing.firstGap}` : ''}`,
  };
}

/** A job that reported no capture must have left none in the run's frames location either. */
async function strayCaptures(
  dependencies: CompletionDependencies,
  frames: { readonly bucket: string; readonly prefix: string },
): Promise<Mismatch | undefined> {
  const found = await dependencies.frames.findCaptures(frames.bucket, frames.prefix);
  if (found.count === 0) return undefined;
  return {
    count: found.count,
    text: `s3://${frames.bucket}/${frames.prefix} holds ${found.count} object(s) named like captures (first: ${found.firstKey})`,
  };
}

function longestOutput(outputs: readonly CompletedOutput[]): CompletedOutput | undefined {
  return [...outputs].sort((a, b) => (b.durationMs ?? 0) - (a.durationMs ?? 0))[0];
}
