import type { JobError, JobRecord, JobStatus, FailedEvent } from '../../pipeline/job-record';
import { ERROR_CODE, JOB_STATUS } from '../../pipeline/job-record';
import { OPERATIONS_LOG } from '../../pipeline/definition';
import { isRunning, mayStart } from '../../pipeline/run-lifecycle';
import { jobStateChangeOf } from '../completion/job-state-events';
import { clipDeliveryOf } from '../ingress/clip-requests';
import { clipRunOf } from '../ingress/submit-clip';
import { uploadRunOf } from '../ingress/submit-video';
import { uploadedObjectsOf } from '../ingress/uploaded-objects';
import { PipelineError, messageOf } from '../shared/errors';
import { shellQuote } from '../../pipeline/shell-quote';
import type { RunRef, RunRepairs } from '../shared/job-table';
import { forRun, logger } from '../shared/logger';
import type { FailedEventMessage } from './failed-event-message';

export interface FailedEventDependencies {
  readonly runs: RunRepairs;
  readonly settings: { readonly ingressBucket: string };
  readonly now: () => Date;
}

export type FailedEventOutcome =
  /** The run was running: now FAILED with RETRIES_EXHAUSTED, the event kept on it. */
  | { readonly outcome: 'failed'; readonly videoId: string; readonly runId: string; readonly from: JobStatus }
  /**
   * The completion function failed on a job's final event, but the sweeper can redo its work from
   * MediaConvert's record of the job: asked to, on its next pass.
   */
  | { readonly outcome: 'left-to-sweeper'; readonly videoId: string; readonly runId: string }
  /** The run was never recorded (the function failed before its first write): recorded FAILED now. */
  | { readonly outcome: 'recorded'; readonly videoId: string; readonly runId: string }
  /** The run had already ended (completed, or failed for a reason of its own), or a newer run replaced it. */
  | { readonly outcome: 'no-longer-running'; readonly videoId: string; readonly runId: string; readonly status?: JobStatus }
  /** The event names no run: recorded under `unattributed/<message id>`. */
  | { readonly outcome: 'unattributed'; readonly videoId: string }
  /** A progress update, or another tool's job: nothing to end. */
  | { readonly outcome: 'ignored'; readonly reason: string };

/** A run the event was for, and, for events the ingress function failed on, its first record. */
interface EventRun extends RunRef {
  readonly firstRecord?: Omit<JobRecord, 'Status'>;
  readonly initialStatus: JobStatus;
}

/**
 * One event that failed every retry: the run it was for is marked FAILED (RETRIES_EXHAUSTED) with
 * the function's last error, and the event is kept on the record, where `frames redrive` finds it.
 * Idempotent: a redelivered message finds the run already FAILED.
 */
export async function recordFailedEvent(dependencies: FailedEventDependencies, received: FailedEventMessage): Promise<FailedEventOutcome[]> {
  const at = dependencies.now().toISOString();
  const message = await withKeptEvent(dependencies, received);
  const kept: FailedEvent = { target: message.target, event: message.eventText, failedAt: at, error: message.error };
  const runs = message.unreadable ? { unattributed: 'its body is not JSON' } : runsOfEvent(dependencies, message);
  if ('unattributed' in runs) return [await recordUnattributed(dependencies, message, kept, runs.unattributed)];
  if ('ignored' in runs) return [{ outcome: 'ignored', reason: runs.ignored }];

  const outcomes: FailedEventOutcome[] = [];
  for (const run of runs.runs) {
    forRun(run);
    outcomes.push(await endRun(dependencies, message, run, kept, at));
  }
  return outcomes;
}

async function endRun(
  dependencies: FailedEventDependencies,
  message: FailedEventMessage,
  run: EventRun,
  kept: FailedEvent,
  at: string,
  attempt = 1,
): Promise<FailedEventOutcome> {
  const { runs } = dependencies;
  const error: JobError = {
    Code: ERROR_CODE.retriesExhausted,
    Message:
      `The ${message.target} function failed on this run's event on every retry: ${message.error}. ` +
      `The event is kept on this record; once the cause is fixed, run: npx frames redrive ${shellQuote(run.videoId)}`,
  };
  const current = await runs.get(run.videoId);
  if (current?.RunId === run.runId) {
    if (!isRunning(current.Status)) {
      // Ended already (the sweeper, a late event): keep this event if the run can be redriven with it.
      if (current.Status === JOB_STATUS.failed && !current.FailedEvent) await runs.keepFailedEvent(run, kept);
      return { outcome: 'no-longer-running', ...ref(run), status: current.Status };
    }
    if (!endedByThisFailure(message.target, current)) return { outcome: 'no-longer-running', ...ref(run), status: current.Status };
    const handOver = message.target === 'completion' && (await runs.requestRepair(run, kept, at));
    if (handOver) return { outcome: 'left-to-sweeper', ...ref(run) };
    if (message.target === 'ingress' && (await runs.abandonRun(run, current.Status, error, at, kept, current.UpdatedAt))) {
      return { outcome: 'failed', ...ref(run), from: current.Status };
    }
    // The run moved on between the read and the write: read once more and decide again.
    if (attempt < 2) return endRun(dependencies, message, run, kept, dependencies.now().toISOString(), attempt + 1);
    throw new PipelineError(ERROR_CODE.retriesExhausted, `Run ${run.runId} of ${JSON.stringify(run.videoId)} kept changing while its failed event was recorded; the message is retried.`);
  }
  if (!run.firstRecord) return { outcome: 'no-longer-running', ...ref(run), status: current?.Status };
  // Never recorded: the function failed before its first write. The claim's own condition keeps
  // a newer upload's run from being replaced; a clip request has no S3 sequencer to order runs
  // by (only the time each was received), so its record is claimed only where there is none.
  const claim = await runs.claimRun(
    {
      ...run.firstRecord,
      Status: JOB_STATUS.failed,
      Error: error,
      FailedFrom: run.initialStatus,
      FailedEvent: kept,
      CompletedAt: at,
      UpdatedAt: at,
    },
    { onlyIfAbsent: run.initialStatus === JOB_STATUS.clipping },
  );
  return claim.claimed ? { outcome: 'recorded', ...ref(run) } : { outcome: 'no-longer-running', ...ref(run), status: claim.current.Status };
}

/**
 * Whether the function's failure is what holds the run: the ingress's part is over once a job is
 * recorded (CLIPPING, or SUBMITTED without a job, are its); the completion's once every batch is
 * sent (its frames then reach the workers whatever became of the event).
 */
function endedByThisFailure(target: FailedEventMessage['target'], current: JobRecord): boolean {
  if (target === 'ingress') return current.Status === JOB_STATUS.clipping || (current.Status === JOB_STATUS.submitted && !current.MediaConvertJobId);
  return mayStart('requestRepair', current.Status) && !current.FannedOutAt;
}

const ref = (run: RunRef) => ({ videoId: run.videoId, runId: run.runId });

/**
 * A redrive request that failed again stands for the run's kept event (a redrive keeps it on the
 * record): that is what is kept again, so the run can be redriven again.
 */
async function withKeptEvent(dependencies: FailedEventDependencies, message: FailedEventMessage): Promise<FailedEventMessage> {
  if (!message.redrive) return message;
  const record = await dependencies.runs.get(message.redrive.videoId);
  const kept = record?.RunId === message.redrive.runId ? record.FailedEvent : undefined;
  if (!kept) return message;
  return { ...message, event: JSON.parse(kept.event) as unknown, eventText: kept.event };
}


/** The runs an event was for, read as the function that failed on it reads it. */
function runsOfEvent(
  dependencies: FailedEventDependencies,
  message: FailedEventMessage,
): { runs: EventRun[] } | { unattributed: string } | { ignored: string } {
  try {
    if (message.target === 'completion') {
      const change = jobStateChangeOf(message.event);
      if (!change) return { ignored: 'not a job state this pipeline acts on, or not one of its jobs' };
      // Progress that could not be recorded ends nothing: the job's final event (or the sweeper) moves the run.
      if (change.status === 'STATUS_UPDATE') return { ignored: 'a progress update' };
      return { runs: [{ videoId: change.videoId, runId: change.runId, initialStatus: JOB_STATUS.extracting }] };
    }
    const now = dependencies.now();
    const clip = clipDeliveryOf(message.event, message.requestId, now);
    if (clip) {
      const { run, source } = clipRunOf(clip, dependencies.settings.ingressBucket, now);
      return { runs: [{ videoId: run.videoId, runId: run.runId, firstRecord: source, initialStatus: JOB_STATUS.clipping }] };
    }
    return {
      runs: uploadedObjectsOf(message.event).flatMap((object) => {
        const upload = uploadRunOf(object, now);
        return upload ? [{ videoId: upload.run.videoId, runId: upload.run.runId, firstRecord: upload.source, initialStatus: JOB_STATUS.submitted }] : [];
      }),
    };
  } catch (error) {
    // Malformed clip requests, events of no known shape: there is no video to record them under.
    if (error instanceof PipelineError) return { unattributed: messageOf(error) };
    throw error;
  }
}

/**
 * An event that names no run is still recorded where a person looks: a FAILED record under
 * `unattributed/<message id>` (listed by `frames list --status FAILED`), and a log line the stack
 * counts and alarms on (OPERATIONS_LOG.unattributedEvent).
 */
async function recordUnattributed(
  dependencies: FailedEventDependencies,
  message: FailedEventMessage,
  kept: FailedEvent,
  why: string,
): Promise<FailedEventOutcome> {
  const at = kept.failedAt;
  const videoId = `unattributed/${message.messageId}`;
  forRun({ videoId, runId: message.messageId });
  await dependencies.runs.claimRun({
    VideoId: videoId,
    RunId: message.messageId,
    Status: JOB_STATUS.failed,
    SourceBucket: '',
    SourceKey: '',
    SourceSequencer: '0',
    Error: {
      Code: ERROR_CODE.malformedEvent,
      Message:
        `The ${message.target} function failed on an event that names no video (${why}); its last error: ${message.error}. ` +
        'The event is kept on this record (FailedEvent); correct it and send it again.',
    },
    FailedEvent: kept,
    CreatedAt: at,
    UpdatedAt: at,
    CompletedAt: at,
  });
  logger.warn(OPERATIONS_LOG.unattributedEvent.message, { target: message.target, messageId: message.messageId, why });
  return { outcome: 'unattributed', videoId };
}
