import type { RunRef } from '../shared/job-table';
import { PipelineError, messageOf } from '../shared/errors';
import { logger } from '../shared/logger';
import { type JobError, type JobRecord, type RunSegment, ERROR_CODE, segmentJobKey } from '../../pipeline/job-record';
import { segmentPrefix } from '../../pipeline/run-layout';
import { isRunning, mayStart } from '../../pipeline/run-lifecycle';
import { batchCountOf, frameBatchMessages, runFanOutOf } from './frame-batches';
import { frameOutputOf } from './frame-output';
import { type CompletionDependencies, type CompletionOutcome, captureMismatch, mediaConvertFailure } from './handle-job-state';
import type { JobStateChange } from './job-state-events';

type SegmentChange = JobStateChange & { readonly segment: number };

/**
 * One job of a segmented run (pipeline/segment-plan.ts). Each segment is checked and fanned out
 * on its own as its job completes, so the first frames are processed while later segments are
 * still being extracted: its captures must be exactly the count the plan made (which is what one
 * job would have captured over those frames), and its batches carry run-wide indices,
 * timestamps and batch numbers. The run is fully counted, and fanned in, only when every
 * segment's batches are; a segment that fails fails the run.
 */
export async function handleSegmentStateChange(dependencies: CompletionDependencies, change: SegmentChange): Promise<CompletionOutcome> {
  const run: RunRef = { videoId: change.videoId, runId: change.runId };
  const base = { videoId: change.videoId, runId: change.runId, jobId: change.jobId, status: change.status };
  const { runs, settings } = dependencies;
  const record = await runs.get(run.videoId);
  if (
    record?.RunId === change.runId &&
    isRunning(record.Status) &&
    !record.MediaConvertJobId &&
    record.Segments?.[change.segment] &&
    !record.SegmentJobs?.[segmentJobKey(change.segment)]
  ) {
    // The ingress is still submitting (it writes MediaConvertJobId once every segment's job is
    // recorded) and has created this segment's job without recording it yet: failing the
    // invocation has EventBridge deliver the event again. Earlier segments may already have moved
    // the run on to EXTRACTING or PROCESSING.
    throw new PipelineError(ERROR_CODE.segmentNotRecorded, `Segment ${change.segment + 1} of run ${change.runId}: job ${change.jobId} is not recorded on the run yet; the event will be retried.`);
  }
  const segment = segmentOfChange(record, change);
  if (!record || !segment) return { ...base, outcome: 'ignored' };
  const segments = record.Segments!.length;
  const at = () => dependencies.now().toISOString();
  const fail = async (failure: JobError, listed?: number): Promise<CompletionOutcome> => {
    const failed = await runs.failSegment(run, change.segment, change.jobId, failure, at());
    if (failed) await cancelOtherSegments(dependencies, record, change.segment);
    return { ...base, outcome: failed ? 'failed' : 'ignored', ...(listed === undefined ? {} : { totalFrames: listed }) };
  };
  const about = `Segment ${change.segment + 1} of ${segments} (captures ${segment.FirstCapture}..${segment.FirstCapture + segment.Captures - 1})`;

  switch (change.status) {
    case 'STATUS_UPDATE': {
      if (!mayStart('recordExtractProgress', record.Status)) return { ...base, outcome: 'ignored' };
      const percents = record.Segments!.map((_, index) =>
        index === change.segment ? change.percentComplete : record.FannedOutSegments?.has(index) ? 100 : (record.SegmentPercents?.[segmentJobKey(index)] ?? 0),
      );
      const overall = Math.floor(percents.reduce((sum, percent) => sum + percent, 0) / segments);
      const moved = await runs.recordSegmentProgress(run, change.segment, change.jobId, { segment: change.percentComplete, overall }, at());
      return { ...base, outcome: moved ? 'recorded' : 'ignored' };
    }
    case 'ERROR':
    case 'CANCELED': {
      const failure = mediaConvertFailure(change);
      return fail({ ...failure, Message: `${about}: ${failure.Message}` });
    }
    case 'COMPLETE':
      break;
  }
  if (record.FannedOutSegments?.has(change.segment) && mayStart('recordFannedOut', record.Status) && !record.FannedOutAt) {
    // Fanned out before, but the run's FannedOutAt was never written (a crash between the two
    // writes): writing it again is harmless, and the sweeper counts on it.
    await runs.recordSegmentFannedOut(run, change.segment, at());
    return { ...base, outcome: 'ignored' };
  }
  if (!mayStart('startProcessing', record.Status) || record.FannedOutSegments?.has(change.segment) || !record.FramesPrefix) {
    return { ...base, outcome: 'ignored' };
  }

  const frames = { bucket: settings.framesBucket, prefix: segmentPrefix(record.FramesPrefix, change.segment) };
  const found = frameOutputOf(change.outputs, frames);
  const startAgain = 'Upload the video again to start a new run.';
  if (found.kind === 'unrecognised') {
    return fail({ Code: ERROR_CODE.frameOutputUnrecognised, Message: `${about}: MediaConvert job ${change.jobId} completed, but ${found.reason}. ${startAgain}` });
  }
  const reported = found.kind === 'captured' ? found.last.index + 1 : 0;
  if (found.kind !== 'captured' || reported !== segment.Captures) {
    return fail({
      Code: ERROR_CODE.frameCountMismatch,
      Message:
        `${about}: MediaConvert job ${change.jobId} captured ${reported} frame(s) where one job over the same frames captures ${segment.Captures}, ` +
        `so its frames cannot be numbered as the run's. Set extraction.maxSegments to 1 to capture such videos in one job, and upload the video again.`,
    });
  }
  const mismatch = await captureMismatch(dependencies, found.last.namePrefix, frames, reported);
  if (mismatch) {
    return fail(
      { Code: ERROR_CODE.frameCountMismatch, Message: `${about}: MediaConvert reported ${reported} frame(s) (last: ${found.lastPath}) but ${mismatch.text}. ${startAgain}` },
      mismatch.count,
    );
  }

  const framesPerBatch = record.FramesPerBatch ?? settings.framesPerMessage;
  const totalFrames = record.Segments!.reduce((sum, each) => sum + each.Captures, 0);
  const started = await runs.startSegment(
    run,
    change.segment,
    change.jobId,
    {
      totalFrames,
      framesPerBatch,
      batchCount: record.Segments!.reduce((sum, each) => sum + batchCountOf(each.Captures, framesPerBatch), 0),
      frameWidth: found.output.widthPx,
      frameHeight: found.output.heightPx,
    },
    at(),
  );
  if (!started) return { ...base, outcome: 'ignored' };
  const sent = await dependencies.queue.sendAll(
    frameBatchMessages({
      ...runFanOutOf(record, settings.framesBucket, found.last.namePrefix, framesPerBatch),
      totalFrames: segment.Captures,
      firstIndex: segment.FirstCapture,
      firstBatch: segment.FirstBatch,
    }),
  );
  await runs.recordSegmentFannedOut(run, change.segment, at());
  return { ...base, outcome: 'fanned-out', totalFrames: segment.Captures, messages: sent.messages };
}

/** The segment the event's job captures, when the record is its run's and the job is the one recorded for it. */
function segmentOfChange(record: JobRecord | undefined, change: SegmentChange): RunSegment | undefined {
  if (!record || record.RunId !== change.runId) return undefined;
  if (record.SegmentJobs?.[segmentJobKey(change.segment)] !== change.jobId) return undefined;
  return record.Segments?.[change.segment];
}

/**
 * The run failed: the jobs of its other segments still extracting are canceled rather than paid
 * for (their late events find the run FAILED and change nothing). Best effort: a job that ended
 * meanwhile refuses, and that refusal changes nothing either.
 */
async function cancelOtherSegments(dependencies: CompletionDependencies, record: JobRecord, failedSegment: number): Promise<void> {
  const others = (record.Segments ?? [])
    .map((_, index) => index)
    .filter((index) => index !== failedSegment && !record.FannedOutSegments?.has(index))
    .flatMap((index) => record.SegmentJobs?.[segmentJobKey(index)] ?? []);
  await Promise.all(
    others.map((jobId) =>
      dependencies.mediaConvert.cancelJob(jobId).catch((error: unknown) => {
        logger.warn('segment job not canceled', { jobId, error: messageOf(error) });
      }),
    ),
  );
}
