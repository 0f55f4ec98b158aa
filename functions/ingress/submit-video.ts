import { RejectedInputError } from '../shared/errors';
import type { CaptureSettings } from '../../pipeline/capture-settings';
import { type JobRecord, ERROR_CODE, JOB_STATUS } from '../../pipeline/job-record';
import { runLayout } from '../../pipeline/run-layout';
import { CLIP_PIECES_PREFIX } from '../../pipeline/definition';
import { resolveCaptureSettings } from './capture-overrides';
import { type ExtractionPlan, planExtraction } from './extraction-plan';
import { httpStatusOf } from '../shared/errors';
import { mayStart } from '../../pipeline/run-lifecycle';
import { type IngressDependencies, type SubmitOutcome, recordRejected, reopenedIfRedriven, submitClaimedRun } from './submit-job';
import type { UploadedObject } from './uploaded-objects';
import {
  assertUsableVideoKey,
  decodeEventKey,
  normalizeSequencer,
  runIdForUpload,
  storagePrefixForVideo,
  videoIdForKey,
} from './video-key';

interface Run {
  readonly videoId: string;
  readonly runId: string;
  readonly key: string;
  readonly object: UploadedObject;
}

/**
 * Turns one uploaded object into one MediaConvert frame-capture job, exactly once per upload.
 *
 * Order matters. The run is claimed in the job table before CreateJob, because MediaConvert's
 * client request token only deduplicates for one minute while EventBridge may redeliver later.
 * A redelivery that finds its run claimed but without a job id looks for the job by its run id
 * (a crash may have happened between CreateJob and recording it) before it creates one.
 */
export async function submitVideo(
  dependencies: IngressDependencies,
  object: UploadedObject,
  /** The event came back through `frames redrive`: a run the pipeline gave up on may resume. */
  redriven = false,
): Promise<SubmitOutcome> {
  // Undecodable keys (never sent by S3) are kept verbatim so the failure is still recorded.
  const decodedKey = decodeEventKey(object.encodedKey);
  const key = decodedKey ?? object.encodedKey;
  // The pieces of KVS clips are written here by this function; their runs are already under way.
  if (key.startsWith(CLIP_PIECES_PREFIX)) return { outcome: 'ignored', key };
  const run: Run = {
    videoId: videoIdForKey(key),
    runId: runIdForUpload(object.bucket, key, object.sequencer),
    key,
    object,
  };

  let capture: CaptureSettings;
  let size: number;
  try {
    if (decodedKey === undefined) {
      throw new RejectedInputError(
        ERROR_CODE.invalidKey,
        `The event's key ${JSON.stringify(object.encodedKey)} is not URL-encoded as S3 sends keys; the event did not come from S3.`,
      );
    }
    assertUsableVideoKey(key);
    const head = await dependencies.objects.head(object.bucket, key, object.etag);
    if (head.state === 'replaced') return { outcome: 'superseded', videoId: run.videoId, runId: run.runId };
    if (head.state === 'missing') {
      throw new RejectedInputError(
        ERROR_CODE.sourceNotFound,
        `s3://${object.bucket}/${key} was deleted before its job could be submitted; upload it again.`,
      );
    }
    if (head.size === 0) {
      throw new RejectedInputError(
        ERROR_CODE.emptyObject,
        `s3://${object.bucket}/${key} is empty (0 bytes); upload the complete video file.`,
      );
    }
    size = head.size;
    capture = resolveCaptureSettings(head.metadata, dependencies.settings.defaultCapture);
  } catch (error) {
    if (!(error instanceof RejectedInputError)) throw error;
    return recordRejected(dependencies, sourceAttributes(run, dependencies.now()), error);
  }

  // The header says whether the video can be split across jobs; a read that fails is retried.
  let plan: ExtractionPlan;
  try {
    plan = await planExtraction(dependencies.objects, { bucket: object.bucket, key, etag: object.etag, size }, capture, dependencies.settings.extraction);
  } catch (error) {
    // If-Match pins the version the event is about: replaced since, its own event starts its run.
    if (httpStatusOf(error) === 412) return { outcome: 'superseded', videoId: run.videoId, runId: run.runId };
    throw error;
  }
  const layout = runLayout(`${storagePrefixForVideo(run.videoId)}/${run.runId}`);
  const { framesPrefix, proxyPrefix } = layout;
  const record: JobRecord = {
    ...sourceAttributes(run, dependencies.now()),
    SourceSize: size,
    Status: JOB_STATUS.submitted,
    RunPrefix: layout.runPrefix,
    FramesPrefix: framesPrefix,
    ProxyPrefix: proxyPrefix,
    FpsNumerator: capture.fps.numerator,
    FpsDenominator: capture.fps.denominator,
    Quality: capture.quality,
    MaxCaptures: capture.maxCaptures,
    ExtractionPlan: plan.description,
    ...(plan.kind === 'segmented'
      ? {
          Segments: plan.segments,
          SegmentJobs: {},
          SegmentPercents: {},
          SourceRateNumerator: plan.sourceRate.numerator,
          SourceRateDenominator: plan.sourceRate.denominator,
          DurationMs: plan.durationMs,
          FramesPerBatch: dependencies.settings.extraction.framesPerMessage,
        }
      : {}),
  };

  const claim = await dependencies.jobs.claimRun(record);
  let claimedAt = new Date(record.CreatedAt);
  let segmented = plan.kind === 'segmented' ? { sourceRate: plan.sourceRate, segments: plan.segments, recorded: {} } : undefined;
  if (!claim.claimed) {
    if (claim.current.RunId !== run.runId) return { outcome: 'superseded', videoId: run.videoId, runId: run.runId };
    const current = await reopenedIfRedriven(dependencies, claim.current, redriven, record);
    if (!stillSubmitting(current)) return { outcome: 'duplicate', videoId: run.videoId, runId: run.runId };
    // Our run, claimed, not every job recorded: an earlier delivery crashed or is still in flight.
    // It goes on with the plan on the record, never a new one (the config may have changed since).
    claimedAt = new Date(current.CreatedAt);
    segmented = segmentedPlanOf(current);
  }

  return submitClaimedRun(dependencies, {
    videoId: run.videoId,
    runId: run.runId,
    inputUris: [`s3://${object.bucket}/${key}`],
    capture,
    framesPrefix,
    proxyPrefix,
    claimedAt,
    claimedNow: claim.claimed,
    ...(segmented ? { segmented } : {}),
  });
}

/**
 * The run an uploaded object starts and its record's first attributes, from the event alone (the
 * failed-events function names the same run); undefined for the pieces of KVS clips, which this
 * function writes itself.
 */
export function uploadRunOf(object: UploadedObject, now: Date) {
  const key = decodeEventKey(object.encodedKey) ?? object.encodedKey;
  if (key.startsWith(CLIP_PIECES_PREFIX)) return undefined;
  const run: Run = { videoId: videoIdForKey(key), runId: runIdForUpload(object.bucket, key, object.sequencer), key, object };
  return { run, source: sourceAttributes(run, now) };
}

function sourceAttributes(run: Run, now: Date) {
  const at = now.toISOString();
  return {
    VideoId: run.videoId,
    RunId: run.runId,
    SourceBucket: run.object.bucket,
    SourceKey: run.key,
    SourceETag: run.object.etag,
    SourceSize: run.object.size,
    SourceSequencer: normalizeSequencer(run.object.sequencer),
    ...(run.object.versionId ? { SourceVersionId: run.object.versionId } : {}),
    CreatedAt: at,
    UpdatedAt: at,
  };
}

/**
 * A claimed run whose submission is not finished: a one-job run SUBMITTED without its job; a
 * segmented one without MediaConvertJobId (written once every segment's job is), whatever its
 * first segments have moved it to meanwhile.
 */
function stillSubmitting(current: JobRecord): boolean {
  if (current.MediaConvertJobId) return false;
  if (current.Segments?.length) return mayStart('recordSegmentJob', current.Status);
  return current.Status === JOB_STATUS.submitted;
}

/** The segment plan a claimed run was given, with the segments' jobs already recorded. */
function segmentedPlanOf(current: JobRecord) {
  if (!current.Segments?.length) return undefined;
  return {
    sourceRate: { numerator: current.SourceRateNumerator ?? 1, denominator: current.SourceRateDenominator ?? 1 },
    segments: current.Segments,
    recorded: current.SegmentJobs ?? {},
  };
}
