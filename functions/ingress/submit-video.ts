import frameCaptureTemplate from '../../job-templates/frame-capture.json';
import { RejectedInputError, messageOf } from '../shared/errors';
import type { JobStore } from '../shared/job-store';
import { renderTemplate } from '../shared/job-template';
import type { JobSettings, MediaConverter } from '../shared/media-converter';
import type { ObjectStore } from '../shared/object-store';
import type { CaptureSettings } from '../../pipeline/capture-settings';
import { JOB_USER_METADATA } from '../../pipeline/definition';
import { type JobError, type JobRecord, ERROR_CODE, JOB_STATUS } from '../../pipeline/job-record';
import { FRAME_BASE_NAME, PROXY_BASE_NAME, runLayout } from '../../pipeline/run-layout';
import { resolveCaptureSettings } from './capture-overrides';
import type { UploadedObject } from './uploaded-objects';
import {
  assertUsableVideoKey,
  decodeEventKey,
  normalizeSequencer,
  runIdForUpload,
  storagePrefixForVideo,
  videoIdForKey,
} from './video-key';

export interface IngressSettings {
  readonly framesBucket: string;
  readonly mediaConvertRoleArn: string;
  /** Marks this stack's jobs, so its rules ignore other MediaConvert jobs in the account. */
  readonly pipelineName: string;
  readonly defaultCapture: CaptureSettings;
}

export interface IngressDependencies {
  readonly jobs: JobStore;
  readonly objects: ObjectStore;
  readonly mediaConvert: MediaConverter;
  readonly settings: IngressSettings;
  readonly now: () => Date;
}

export type SubmitOutcome =
  | { readonly outcome: 'submitted'; readonly videoId: string; readonly runId: string; readonly jobId: string }
  | { readonly outcome: 'failed'; readonly videoId: string; readonly runId: string; readonly error: JobError }
  /** Redelivery of an upload already handled: nothing was done. */
  | { readonly outcome: 'duplicate'; readonly videoId: string; readonly runId: string }
  /** The key has been uploaded again since: the newer upload's own event drives its run. */
  | { readonly outcome: 'superseded'; readonly videoId: string; readonly runId: string };

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
): Promise<SubmitOutcome> {
  // Undecodable keys (never sent by S3) are kept verbatim so the failure is still recorded.
  const decodedKey = decodeEventKey(object.encodedKey);
  const key = decodedKey ?? object.encodedKey;
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
    return rejectBeforeSubmission(dependencies, run, error);
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
  };

  const claim = await dependencies.jobs.claimRun(record);
  let claimedAt = new Date(record.CreatedAt);
  if (!claim.claimed) {
    const { current } = claim;
    if (current.RunId !== run.runId) return { outcome: 'superseded', videoId: run.videoId, runId: run.runId };
    if (current.Status !== JOB_STATUS.submitted || current.MediaConvertJobId) {
      return { outcome: 'duplicate', videoId: run.videoId, runId: run.runId };
    }
    // Our run, claimed, no job recorded: an earlier delivery crashed or is still in flight.
    claimedAt = new Date(current.CreatedAt);
  }

  const { settings } = dependencies;
  let jobId: string | undefined;
  try {
    jobId = claim.claimed
      ? undefined
      : await dependencies.mediaConvert.findJob(JOB_USER_METADATA.runId, run.runId, claimedAt);
    jobId ??= await dependencies.mediaConvert.createJob({
      settings: frameCaptureSettings(run, capture, settings.framesBucket, framesPrefix, proxyPrefix),
      roleArn: settings.mediaConvertRoleArn,
      userMetadata: {
        [JOB_USER_METADATA.pipeline]: settings.pipelineName,
        [JOB_USER_METADATA.videoId]: run.videoId,
        [JOB_USER_METADATA.runId]: run.runId,
      },
      clientRequestToken: run.runId,
    });
  } catch (error) {
    const at = dependencies.now().toISOString();
    if (error instanceof RejectedInputError) {
      const failure = { Code: error.code, Message: error.message };
      await dependencies.jobs.recordFailure(run.videoId, run.runId, failure, at);
      return { outcome: 'failed', videoId: run.videoId, runId: run.runId, error: failure };
    }
    // Unexpected (throttled past the SDK's retries, network, permissions): say so on the record
    // and rethrow, so the event is retried and, when retries run out, kept in the failure queue.
    await dependencies.jobs.recordSubmitRetry(
      run.videoId,
      run.runId,
      { Code: 'SUBMIT_RETRYING', Message: `Submitting to MediaConvert failed and will be retried: ${messageOf(error)}` },
      at,
    );
    throw error;
  }

  const recorded = await dependencies.jobs.recordSubmission(
    run.videoId,
    run.runId,
    jobId,
    dependencies.now().toISOString(),
  );
  if (!recorded.recorded && recorded.current?.MediaConvertJobId !== jobId) {
    // The run was superseded while we submitted, or another delivery recorded a different job:
    // this job's events would be ignored, so stop it rather than pay for it.
    await dependencies.mediaConvert.cancelJob(jobId);
    return { outcome: 'superseded', videoId: run.videoId, runId: run.runId };
  }
  return { outcome: 'submitted', videoId: run.videoId, runId: run.runId, jobId };
}

async function rejectBeforeSubmission(
  dependencies: IngressDependencies,
  run: Run,
  error: RejectedInputError,
): Promise<SubmitOutcome> {
  const failure = { Code: error.code, Message: error.message };
  const claim = await dependencies.jobs.claimRun({
    ...sourceAttributes(run, dependencies.now()),
    Status: JOB_STATUS.failed,
    Error: failure,
  });
  if (!claim.claimed) {
    const outcome = claim.current.RunId === run.runId ? 'duplicate' : 'superseded';
    return { outcome, videoId: run.videoId, runId: run.runId };
  }
  return { outcome: 'failed', videoId: run.videoId, runId: run.runId, error: failure };
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

/** Renders job-templates/frame-capture.json for one run. */
export function frameCaptureSettings(
  run: Pick<Run, 'key' | 'object'>,
  capture: CaptureSettings,
  framesBucket: string,
  framesPrefix: string,
  proxyPrefix: string,
): JobSettings {
  // Destinations end in a base name, so captures are `frame.NNNNNNN.jpg` and the proxy
  // `proxy.mp4` whatever the input was called.
  const rendered = renderTemplate(frameCaptureTemplate, {
    inputUri: `s3://${run.object.bucket}/${run.key}`,
    framesDestination: `s3://${framesBucket}/${framesPrefix}${FRAME_BASE_NAME}`,
    proxyDestination: `s3://${framesBucket}/${proxyPrefix}${PROXY_BASE_NAME}`,
    fpsNumerator: capture.fps.numerator,
    fpsDenominator: capture.fps.denominator,
    maxCaptures: capture.maxCaptures,
    quality: capture.quality,
  }) as { Settings: JobSettings };
  return rendered.Settings;
}
