import { type CompletionDependencies, type CompletionOutcome, handleJobStateChange } from '../completion/handle-job-state';
import { type JobStateChange, jobStateChangeOf } from '../completion/job-state-events';
import { fanIn, isFullyCounted } from '../shared/fan-in';
import type { RunRepairs, RunStore } from '../shared/job-table';
import type { JobState, MediaConverter } from '../shared/media-converter';
import { JOB_USER_METADATA } from '../../pipeline/definition';
import { shellQuote } from '../../pipeline/shell-quote';
import { type JobRecord, ERROR_CODE, JOB_STATUS, segmentJobKey } from '../../pipeline/job-record';
import { segmentPrefix } from '../../pipeline/run-layout';

export interface SweeperSettings {
  /** A run whose record has not changed for this long is looked at. */
  readonly stuckAfterMs: number;
  /**
   * A fanned-out run is only given up on after this long without a batch counted: longer than a
   * batch can take through every delivery to the dead-letter queue and its handler.
   */
  readonly processingStallMs: number;
  /** A run still CLIPPING, or SUBMITTED without a job, is only ended after every retry of its ingress. */
  readonly submittingStallMs: number;
}

export interface SweeperDependencies extends CompletionDependencies {
  readonly runs: RunStore & RunRepairs;
  readonly mediaConvert: Pick<MediaConverter, 'getJob' | 'cancelJob'>;
  readonly sweeper: SweeperSettings;
}

/** Repairs a run gets before the sweeper ends it instead. */
export const MAX_SWEEP_ATTEMPTS = 3;

export type SweepAction =
  /** Nothing is wrong yet: the run changed recently, or MediaConvert is still at work on it. */
  | { readonly action: 'healthy' | 'extraction-running' }
  /** The job's final state was handled as its event would have been (the completion function's own code). */
  | { readonly action: 'replayed-job-state'; readonly jobStatus: string; readonly outcome: CompletionOutcome['outcome'] }
  /** Every frame was counted but the results were never written: the fan-in ran. */
  | { readonly action: 'fanned-in' }
  /** Beyond repair: FAILED with RUN_STALLED, and why. */
  | { readonly action: 'ended'; readonly reason: string }
  /** The run moved on while the sweeper looked: nothing done. */
  | { readonly action: 'moved-on' };

/**
 * Decides and does what one running run needs. Each repair is the pipeline's own step, which
 * is idempotent (workers count each batch once; the fan-in holds a lease; every write is
 * conditional), so a sweep that overlaps a late event or another sweep changes nothing twice.
 */
export async function repairRun(dependencies: SweeperDependencies, record: JobRecord): Promise<SweepAction> {
  const { runs, sweeper } = dependencies;
  const now = dependencies.now();
  const run = { videoId: record.VideoId, runId: record.RunId };
  const quietForMs = now.getTime() - new Date(record.UpdatedAt).getTime();
  // A segmented run is fanned out once every segment is, even if the run's own note of it was lost.
  const everySegmentOut = (record.Segments?.length ?? 0) > 0 && record.FannedOutSegments?.size === record.Segments!.length;
  const fannedOut = record.Status === JOB_STATUS.processing && (record.FannedOutAt !== undefined || everySegmentOut);
  // Batches may be out at their workers for a long while; a counted run only waits for its fan-in.
  const awaitsBatches = fannedOut && !isFullyCounted(record);
  const due = record.RepairRequestedAt !== undefined || quietForMs >= (awaitsBatches ? sweeper.processingStallMs : sweeper.stuckAfterMs);
  if (!due) return { action: 'healthy' };

  const end = async (reason: string): Promise<SweepAction> => {
    const ended = await runs.abandonRun(
      run,
      record.Status,
      { Code: ERROR_CODE.runStalled, Message: `The sweeper ended this run: ${reason}` },
      now.toISOString(),
      record.FailedEvent,
      // Only the run as read: one that moved on meanwhile is not ended.
      record.UpdatedAt,
    );
    return ended ? { action: 'ended', reason } : { action: 'moved-on' };
  };
  const startAgain = record.FailedEvent
    ? `Its event is kept: once the cause is fixed, run: npx frames redrive ${shellQuote(record.VideoId)}`
    : 'Upload the video again to start a new run.';
  if ((record.SweepAttempts ?? 0) >= MAX_SWEEP_ATTEMPTS) {
    return end(
      `${MAX_SWEEP_ATTEMPTS} repairs did not move it on from ${record.Status}${record.LastError ? ` (last error: ${record.LastError})` : ''}. ${startAgain}`,
    );
  }

  if (fannedOut) {
    if (isFullyCounted(record)) {
      // The fan-in's own lease keeps this from racing a worker that is finishing it now.
      if (!(await runs.recordSwept(run, record.Status, 'fan-in', now.toISOString()))) return { action: 'moved-on' };
      return (await fanIn(dependencies, run)) === 'completed' ? { action: 'fanned-in' } : { action: 'moved-on' };
    }
    const counted = (record.ProcessedFrames ?? 0) + (record.FailedFrames ?? 0);
    return end(
      `${counted} of ${record.TotalFrames ?? '?'} frames were counted and no batch has come back for ${minutes(quietForMs)}; ` +
        `the rest of its frame messages were lost. ${startAgain}`,
    );
  }
  // Still being submitted: a segmented run keeps submitting while its first segments move it on.
  const submitting =
    record.Status === JOB_STATUS.clipping ||
    (!record.MediaConvertJobId && (record.Status === JOB_STATUS.submitted || (record.Segments?.length ?? 0) > 0));
  if (submitting && record.RepairRequestedAt === undefined && quietForMs < sweeper.submittingStallMs) return { action: 'healthy' };
  if (record.Status === JOB_STATUS.clipping) {
    return end(`it was still clipping after ${minutes(quietForMs)}, with no ingress function at work on it. Request the clip again.`);
  }
  const jobId = record.MediaConvertJobId ?? jobIdOfKeptEvent(record);
  if (!jobId) {
    return end(`it was never submitted to MediaConvert (${minutes(quietForMs)} without a job). Upload the video again to start a new run.`);
  }
  if (record.Segments?.length) return repairSegments(dependencies, record, end);
  const job = await dependencies.mediaConvert.getJob(jobId);
  if (!job) return end(`MediaConvert does not know its job ${jobId}. Upload the video again to start a new run.`);
  if (job.status === 'SUBMITTED' || job.status === 'PROGRESSING') return { action: 'extraction-running' };

  const change = await finalJobState(dependencies, record, job, record.FramesPrefix ?? '');
  if (!(await runs.recordSwept(run, record.Status, `replay ${job.status}`, now.toISOString()))) return { action: 'moved-on' };
  const outcome = await handleJobStateChange(dependencies, change);
  return { action: 'replayed-job-state', jobStatus: job.status, outcome: outcome.outcome };
}

/**
 * The job's final state as its event would have said it: the kept event itself when the
 * failed-events function kept one; else GetJob's answer, with the frame output found by listing
 * the run's frames (GetJob never reports output paths; the completion function checks the count
 * against the listing either way).
 */
async function finalJobState(
  dependencies: SweeperDependencies,
  record: JobRecord,
  job: JobState,
  framesPrefix: string,
  segment?: number,
): Promise<JobStateChange> {
  const kept = record.FailedEvent?.target === 'completion' ? jobStateChangeOf(JSON.parse(record.FailedEvent.event)) : undefined;
  if (kept && kept.jobId === job.jobId && kept.status === job.status) return kept;
  const base = { jobId: job.jobId, videoId: record.VideoId, runId: record.RunId, ...(segment === undefined ? {} : { segment }) };
  if (job.status === 'ERROR') {
    return { ...base, status: 'ERROR', errorCode: job.errorCode, errorMessage: job.errorMessage ?? 'MediaConvert gave no error message.' };
  }
  if (job.status !== 'COMPLETE') return { ...base, status: 'CANCELED' };
  const bucket = dependencies.settings.framesBucket;
  const captures = await dependencies.frames.findCaptures(bucket, framesPrefix);
  const measured = job.outputs.find((output) => output.widthPx !== undefined) ?? job.outputs[0];
  return {
    ...base,
    status: 'COMPLETE',
    outputs: [{ paths: captures.lastKey ? [`s3://${bucket}/${captures.lastKey}`] : [], durationMs: measured?.durationMs, widthPx: measured?.widthPx, heightPx: measured?.heightPx }],
  };
}

/**
 * A segmented run that is not fanned out: every segment still out is looked up, and each whose
 * job ended is replayed as its event would have been (counted and fanned out, or failed).
 */
async function repairSegments(
  dependencies: SweeperDependencies,
  record: JobRecord,
  end: (reason: string) => Promise<SweepAction>,
): Promise<SweepAction> {
  const run = { videoId: record.VideoId, runId: record.RunId };
  const open = (record.Segments ?? []).map((_, index) => index).filter((index) => !record.FannedOutSegments?.has(index));
  const jobs = await Promise.all(
    open.map(async (index) => {
      const jobId = record.SegmentJobs?.[segmentJobKey(index)];
      return { index, jobId, job: jobId ? await dependencies.mediaConvert.getJob(jobId) : undefined };
    }),
  );
  const lost = jobs.find(({ job }) => !job);
  if (lost) {
    return end(`MediaConvert does not know the job ${lost.jobId ?? '(none recorded)'} of segment ${lost.index + 1}. Upload the video again to start a new run.`);
  }
  const ended = jobs.filter(({ job }) => job!.status !== 'SUBMITTED' && job!.status !== 'PROGRESSING');
  if (ended.length === 0) return { action: 'extraction-running' };
  const what = ended.map(({ index, job }) => `segment ${index + 1} ${job!.status}`).join(', ');
  if (!(await dependencies.runs.recordSwept(run, record.Status, `replay ${what}`, dependencies.now().toISOString()))) return { action: 'moved-on' };
  let outcome: CompletionOutcome['outcome'] = 'ignored';
  for (const { index, job } of ended) {
    const prefix = segmentPrefix(record.FramesPrefix ?? '', index);
    outcome = (await handleJobStateChange(dependencies, await finalJobState(dependencies, record, job!, prefix, index))).outcome;
    if (outcome === 'failed') break;
  }
  return { action: 'replayed-job-state', jobStatus: ended.map(({ job }) => job!.status).join(','), outcome };
}

function jobIdOfKeptEvent(record: JobRecord): string | undefined {
  if (record.FailedEvent?.target !== 'completion') return undefined;
  const detail = (JSON.parse(record.FailedEvent.event) as { detail?: { jobId?: string; userMetadata?: Record<string, string> } }).detail;
  return detail?.userMetadata?.[JOB_USER_METADATA.runId] === record.RunId ? detail.jobId : undefined;
}

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;
