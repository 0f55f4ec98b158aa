import frameCaptureTemplate from '../../job-templates/frame-capture.json';
import { RejectedInputError, messageOf } from '../shared/errors';
import type { JobStore } from '../shared/job-table';
import { renderTemplate } from '../shared/job-template';
import type { JobSettings, MediaConverter } from '../shared/media-converter';
import type { ObjectStore } from '../shared/object-store';
import type { CaptureSettings } from '../../pipeline/capture-settings';
import { JOB_TAG_KEY, JOB_USER_METADATA } from '../../pipeline/definition';
import { type JobError, type JobRecord, ERROR_CODE, JOB_STATUS } from '../../pipeline/job-record';
import { FRAME_BASE_NAME, PROXY_BASE_NAME } from '../../pipeline/run-layout';
import type { StreamArchive } from './kvs-archive';

export interface IngressSettings {
  readonly framesBucket: string;
  /** Where KVS clips are written (under CLIP_PIECES_PREFIX) for MediaConvert to read. */
  readonly ingressBucket: string;
  readonly mediaConvertRoleArn: string;
  /** Marks this stack's jobs, so its rules ignore other MediaConvert jobs in the account. */
  readonly pipelineName: string;
  readonly defaultCapture: CaptureSettings;
}

export interface IngressDependencies {
  readonly jobs: JobStore;
  readonly objects: ObjectStore;
  readonly mediaConvert: MediaConverter;
  readonly archive: StreamArchive;
  readonly settings: IngressSettings;
  readonly now: () => Date;
}

export type SubmitOutcome =
  | { readonly outcome: 'submitted'; readonly videoId: string; readonly runId: string; readonly jobId: string }
  | { readonly outcome: 'failed'; readonly videoId: string; readonly runId: string; readonly error: JobError }
  /** Redelivery of a request already handled: nothing was done. */
  | { readonly outcome: 'duplicate'; readonly videoId: string; readonly runId: string }
  /** The video has been uploaded or requested again since: the newer run is the one that counts. */
  | { readonly outcome: 'superseded'; readonly videoId: string; readonly runId: string }
  /** An object the pipeline wrote itself (a KVS clip's piece): not a video to submit. */
  | { readonly outcome: 'ignored'; readonly key: string };

/** A claimed run, SUBMITTED in the job table, that needs its MediaConvert job. */
export interface RunToSubmit {
  readonly videoId: string;
  readonly runId: string;
  /** MediaConvert stitches several inputs end to end, in this order, into one timeline. */
  readonly inputUris: readonly string[];
  readonly capture: CaptureSettings;
  readonly framesPrefix: string;
  readonly proxyPrefix: string;
  /**
   * When the run was claimed, and whether by this delivery. A redelivery that finds the run
   * claimed without a job id looks for a job by run id first: a crash may have happened between
   * CreateJob and recording it.
   */
  readonly claimedAt: Date;
  readonly claimedNow: boolean;
}

/**
 * Creates (or finds) the run's MediaConvert job and records it. MediaConvert's client request
 * token only deduplicates for one minute while events may be redelivered later, hence findJob.
 */
export async function submitClaimedRun(dependencies: IngressDependencies, run: RunToSubmit): Promise<SubmitOutcome> {
  const { settings } = dependencies;
  let jobId: string | undefined;
  try {
    jobId = run.claimedNow
      ? undefined
      : await dependencies.mediaConvert.findJob(JOB_USER_METADATA.runId, run.runId, run.claimedAt);
    jobId ??= await dependencies.mediaConvert.createJob({
      settings: frameCaptureSettings(run.inputUris, run.capture, settings.framesBucket, run.framesPrefix, run.proxyPrefix),
      roleArn: settings.mediaConvertRoleArn,
      userMetadata: {
        [JOB_USER_METADATA.pipeline]: settings.pipelineName,
        [JOB_USER_METADATA.videoId]: run.videoId,
        [JOB_USER_METADATA.runId]: run.runId,
      },
      tags: { [JOB_TAG_KEY]: settings.pipelineName },
      // How often MediaConvert reports progress (the template's; AWS's default is once a minute).
      statusUpdateInterval: (frameCaptureTemplate as { StatusUpdateInterval?: string }).StatusUpdateInterval,
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
      { Code: ERROR_CODE.submitRetrying, Message: `Submitting to MediaConvert failed and will be retried: ${messageOf(error)}` },
      at,
    );
    throw error;
  }

  const recorded = await dependencies.jobs.recordSubmission(run.videoId, run.runId, jobId, dependencies.now().toISOString());
  if (!recorded.recorded && recorded.current?.MediaConvertJobId !== jobId) {
    // The run was superseded while we submitted, or another delivery recorded a different job:
    // this job's events would be ignored, so stop it rather than pay for it.
    await dependencies.mediaConvert.cancelJob(jobId);
    return { outcome: 'superseded', videoId: run.videoId, runId: run.runId };
  }
  return { outcome: 'submitted', videoId: run.videoId, runId: run.runId, jobId };
}

/**
 * A run found already claimed by this event's run: when `frames redrive` sent the event back and
 * the run failed because the pipeline gave up on it, it goes back to the status it failed from
 * (pipeline/run-lifecycle.ts, reopenRun) and the caller carries on from there. Otherwise the
 * record is returned as it is.
 */
export async function reopenedIfRedriven(
  dependencies: IngressDependencies,
  current: JobRecord,
  redriven: boolean,
  claimed: JobRecord,
): Promise<JobRecord> {
  if (!redriven || current.Status !== JOB_STATUS.failed) return current;
  const started: Partial<JobRecord> = {
    RunPrefix: claimed.RunPrefix,
    FramesPrefix: claimed.FramesPrefix,
    ProxyPrefix: claimed.ProxyPrefix,
    FpsNumerator: claimed.FpsNumerator,
    FpsDenominator: claimed.FpsDenominator,
    Quality: claimed.Quality,
    MaxCaptures: claimed.MaxCaptures,
    ...(claimed.SourceSize !== undefined ? { SourceSize: claimed.SourceSize } : {}),
  };
  const reopened = await dependencies.jobs.reopenRun({ videoId: current.VideoId, runId: current.RunId }, dependencies.now().toISOString(), started);
  return reopened ?? current;
}

/**
 * Records a run whose input a person must fix as FAILED before anything was submitted. A
 * redelivery finds its own run already recorded (duplicate); a later upload or request of the
 * video wins over it (superseded).
 */
export async function recordRejected(
  dependencies: IngressDependencies,
  source: Omit<JobRecord, 'Status' | 'Error'>,
  error: RejectedInputError,
): Promise<SubmitOutcome> {
  const failure = { Code: error.code, Message: error.message };
  const { VideoId: videoId, RunId: runId } = source;
  const claim = await dependencies.jobs.claimRun({ ...source, Status: JOB_STATUS.failed, Error: failure, CompletedAt: source.UpdatedAt });
  if (!claim.claimed) return { outcome: claim.current.RunId === runId ? 'duplicate' : 'superseded', videoId, runId };
  return { outcome: 'failed', videoId, runId, error: failure };
}

/**
 * Renders job-templates/frame-capture.json for one run. The template has one input; a run with
 * several (a KVS clip's pieces) gets a copy of it per input, in order.
 */
export function frameCaptureSettings(
  inputUris: readonly string[],
  capture: CaptureSettings,
  framesBucket: string,
  framesPrefix: string,
  proxyPrefix: string,
): JobSettings {
  // Destinations end in a base name, so captures are `frame.NNNNNNN.jpg` and the proxy
  // `proxy.mp4` whatever the input was called.
  const rendered = renderTemplate(frameCaptureTemplate, {
    inputUri: inputUris[0],
    framesDestination: `s3://${framesBucket}/${framesPrefix}${FRAME_BASE_NAME}`,
    proxyDestination: `s3://${framesBucket}/${proxyPrefix}${PROXY_BASE_NAME}`,
    fpsNumerator: capture.fps.numerator,
    fpsDenominator: capture.fps.denominator,
    maxCaptures: capture.maxCaptures,
    quality: capture.quality,
  }) as { Settings: JobSettings };
  const [input] = rendered.Settings.Inputs ?? [];
  return {
    ...rendered.Settings,
    Inputs: inputUris.map((uri) => ({ ...input, FileInput: uri })),
  };
}
