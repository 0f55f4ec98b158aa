import frameCaptureTemplate from '../../job-templates/frame-capture.json';
import { RejectedInputError, messageOf } from '../shared/errors';
import type { JobStore } from '../shared/job-table';
import { renderTemplate } from '../shared/job-template';
import type { JobSettings, MediaConverter } from '../shared/media-converter';
import type { ObjectStore } from '../shared/object-store';
import type { CaptureSettings } from '../../pipeline/capture-settings';
import { JOB_TAG_KEY, JOB_USER_METADATA } from '../../pipeline/definition';
import { type JobError, type JobRecord, type RunSegment, ERROR_CODE, JOB_STATUS, segmentJobKey } from '../../pipeline/job-record';
import { FRAME_BASE_NAME, PROXY_BASE_NAME, segmentPrefix } from '../../pipeline/run-layout';
import { inputClippingOf } from '../../pipeline/segment-plan';
import type { FrameRate } from '../../pipeline/capture-settings';
import type { StreamArchive } from './kvs-archive';

export interface IngressSettings {
  readonly framesBucket: string;
  /** Where KVS clips are written (under CLIP_PIECES_PREFIX) for MediaConvert to read. */
  readonly ingressBucket: string;
  readonly mediaConvertRoleArn: string;
  /** Marks this stack's jobs, so its rules ignore other MediaConvert jobs in the account. */
  readonly pipelineName: string;
  readonly defaultCapture: CaptureSettings;
  /** How a long video is split across jobs (pipeline/segment-plan.ts), and the batch size it numbers batches by. */
  readonly extraction: { readonly maxSegments: number; readonly minSegmentSeconds: number; readonly framesPerMessage: number };
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
  /** A segmented run: one job per segment, each clipped to its frames (functions/ingress/extraction-plan.ts). */
  readonly segmented?: {
    readonly sourceRate: FrameRate;
    readonly segments: readonly RunSegment[];
    /** Segments whose jobs are recorded already (a redelivery after a crash), by segmentJobKey. */
    readonly recorded: Readonly<Record<string, string>>;
  };
}

/** What one CreateJob submits: the whole video, or one segment of it. */
interface JobToCreate {
  readonly settings: JobSettings;
  readonly userMetadata: Record<string, string>;
  readonly clientRequestToken: string;
}

/**
 * Creates (or finds) the run's MediaConvert job and records it. MediaConvert's client request
 * token only deduplicates for one minute while events may be redelivered later, hence findJob.
 */
export async function submitClaimedRun(dependencies: IngressDependencies, run: RunToSubmit): Promise<SubmitOutcome> {
  const { settings } = dependencies;
  const runMetadata = {
    [JOB_USER_METADATA.pipeline]: settings.pipelineName,
    [JOB_USER_METADATA.videoId]: run.videoId,
    [JOB_USER_METADATA.runId]: run.runId,
  };
  if (run.segmented) return submitSegments(dependencies, run, run.segmented, runMetadata);

  const created = await createOrFindJob(dependencies, run, {
    settings: frameCaptureSettings(run.inputUris, run.capture, settings.framesBucket, run.framesPrefix, run.proxyPrefix),
    userMetadata: runMetadata,
    clientRequestToken: run.runId,
  });
  if (created.outcome === 'failed') return created;
  return recordJob(dependencies, run, created.jobId);
}

/**
 * One job per segment, in order, each recorded as it is created; a redelivery skips the segments
 * already recorded. The run's MediaConvertJobId (segment 0's job) is written last: until then the
 * run is still being submitted, as a one-job run without its job is.
 */
async function submitSegments(
  dependencies: IngressDependencies,
  run: RunToSubmit,
  plan: NonNullable<RunToSubmit['segmented']>,
  runMetadata: Record<string, string>,
): Promise<SubmitOutcome> {
  const { settings } = dependencies;
  const jobIds: string[] = [];
  for (const [index, segment] of plan.segments.entries()) {
    const known = plan.recorded[segmentJobKey(index)];
    if (known) {
      jobIds.push(known);
      continue;
    }
    const created = await createOrFindJob(dependencies, run, {
      settings: segmentCaptureSettings(run, settings.framesBucket, plan, index, segment),
      userMetadata: { ...runMetadata, [JOB_USER_METADATA.segment]: String(index) },
      clientRequestToken: `${run.runId}-${index}`,
    });
    if (created.outcome === 'failed') return created;
    const recorded = await dependencies.jobs.recordSegmentSubmission(run, index, created.jobId, dependencies.now().toISOString());
    if (!recorded.recorded) {
      // Superseded, or another delivery recorded its own job for this segment: this one is not needed.
      await dependencies.mediaConvert.cancelJob(created.jobId);
      return { outcome: recorded.current?.RunId === run.runId ? 'duplicate' : 'superseded', videoId: run.videoId, runId: run.runId };
    }
    jobIds.push(created.jobId);
  }
  return recordJob(dependencies, run, jobIds[0]);
}

/**
 * Creates the job, or finds the one an earlier delivery created before it could record it.
 * MediaConvert's client request token only deduplicates for one minute while events may be
 * redelivered later, hence findJob.
 */
async function createOrFindJob(
  dependencies: IngressDependencies,
  run: RunToSubmit,
  job: JobToCreate,
): Promise<{ readonly outcome: 'created'; readonly jobId: string } | Extract<SubmitOutcome, { outcome: 'failed' }>> {
  const { settings } = dependencies;
  try {
    // The run id (and a segment's number) name the job; the rest of the metadata is the same for every job of the stack.
    const names = Object.fromEntries(
      Object.entries(job.userMetadata).filter(([key]) => key === JOB_USER_METADATA.runId || key === JOB_USER_METADATA.segment),
    );
    const found = run.claimedNow ? undefined : await dependencies.mediaConvert.findJob(names, run.claimedAt);
    const jobId =
      found ??
      (await dependencies.mediaConvert.createJob({
        settings: job.settings,
        roleArn: settings.mediaConvertRoleArn,
        userMetadata: job.userMetadata,
        tags: { [JOB_TAG_KEY]: settings.pipelineName },
        // How often MediaConvert reports progress (the template's; AWS's default is once a minute).
        statusUpdateInterval: (frameCaptureTemplate as { StatusUpdateInterval?: string }).StatusUpdateInterval,
        clientRequestToken: job.clientRequestToken,
      }));
    return { outcome: 'created', jobId };
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
}

/** Records the run's job; a job nobody will follow (the run was superseded meanwhile) is canceled. */
async function recordJob(dependencies: IngressDependencies, run: RunToSubmit, jobId: string): Promise<SubmitOutcome> {
  const recorded = await dependencies.jobs.recordSubmission(run.videoId, run.runId, jobId, dependencies.now().toISOString(), run.segmented !== undefined);
  if (!recorded.recorded && recorded.current?.MediaConvertJobId !== jobId) {
    // The run was superseded while we submitted, or another delivery recorded a different job:
    // this job's events would be ignored, so stop it rather than pay for it. (A segmented run's
    // segment jobs are each recorded already; only a superseded run's are left to run out.)
    if (!run.segmented) await dependencies.mediaConvert.cancelJob(jobId);
    return { outcome: 'superseded', videoId: run.videoId, runId: run.runId };
  }
  return { outcome: 'submitted', videoId: run.videoId, runId: run.runId, jobId };
}

/**
 * Segment `index`'s job: the run's template with the input clipped to the segment's frames, its
 * captures capped at the segment's count, and its frames and proxy under the segment's own
 * prefix, so each job's captures are numbered from 0 as MediaConvert numbers them.
 */
function segmentCaptureSettings(
  run: RunToSubmit,
  framesBucket: string,
  plan: NonNullable<RunToSubmit['segmented']>,
  index: number,
  segment: RunSegment,
): JobSettings {
  const rendered = frameCaptureSettings(
    run.inputUris,
    { ...run.capture, maxCaptures: segment.Captures },
    framesBucket,
    segmentPrefix(run.framesPrefix, index),
    segmentPrefix(run.proxyPrefix, index),
  );
  const clipping = inputClippingOf(
    { index, firstSourceFrame: segment.FirstSourceFrame, endSourceFrame: segment.EndSourceFrame, firstCapture: segment.FirstCapture, captures: segment.Captures },
    plan.segments.length,
    plan.sourceRate,
  );
  return { ...rendered, Inputs: (rendered.Inputs ?? []).map((input) => ({ ...input, InputClippings: [clipping] })) };
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
    ...(claimed.ExtractionPlan !== undefined ? { ExtractionPlan: claimed.ExtractionPlan } : {}),
    ...(claimed.Segments
      ? {
          Segments: claimed.Segments,
          SegmentJobs: claimed.SegmentJobs ?? {},
          SegmentPercents: {},
          SourceRateNumerator: claimed.SourceRateNumerator,
          SourceRateDenominator: claimed.SourceRateDenominator,
          FramesPerBatch: claimed.FramesPerBatch,
        }
      : {}),
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
