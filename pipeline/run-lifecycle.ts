/**
 * The run lifecycle, written once: which status each job-table operation may start from, and
 * which status it leaves the run in. The job table's conditional writes
 * (functions/shared/job-table.ts) derive their status conditions from this table, and the
 * predicates the functions and the sweeper use (`mayStart`, `isRunning`) read it too, so a new
 * transition is one line here rather than a condition string in several files.
 *
 *   CLIPPING ──▶ SUBMITTED ──▶ EXTRACTING ──▶ PROCESSING ──▶ COMPLETE
 *       │            │  └──────────────────────▲   │
 *       └────────────┴──────────────┴────────────┴──▶ FAILED ──(redrive)──▶ the status it failed from
 *
 * Every write is also conditional on the run still being the video's current one (`RunId`), so
 * a newer upload always wins and late events of an old run change nothing.
 */
import { type FailedEvent, type JobRecord, type JobStatus, ERROR_CODE, JOB_STATUS } from './job-record';

const { clipping, submitted, extracting, processing, complete, failed } = JOB_STATUS;

/** Runs in these states are waiting for the pipeline to do something; COMPLETE and FAILED are final. */
export const RUNNING_STATUSES = [clipping, submitted, extracting, processing] as const satisfies readonly JobStatus[];
export const FINAL_STATUSES = [complete, failed] as const satisfies readonly JobStatus[];

export interface Transition {
  /** The statuses the operation may start from. */
  readonly from: readonly JobStatus[];
  /** The status it leaves the run in; absent when it records progress without moving the run. */
  readonly to?: JobStatus;
}

/** Every operation on a run, keyed by the job table's method that performs it. */
export const RUN_LIFECYCLE = {
  /** A KVS clip was pulled into the ingress bucket: its job can be submitted. */
  recordClipped: { from: [clipping], to: submitted },
  /** The MediaConvert job of a submitted run (once: the write also requires no job yet). */
  recordSubmission: { from: [submitted] },
  /**
   * A segmented run: one segment's job, and then segment 0's as the run's. Also from EXTRACTING
   * and PROCESSING: the segments submitted first report progress and complete while the ingress
   * (or its retry) is still submitting the rest.
   */
  recordSegmentJob: { from: [submitted, extracting, processing] },
  /** Why a clip or submission is being retried, so the record says what happens meanwhile. */
  recordSubmitRetry: { from: [clipping, submitted] },
  /** A clip or submission failed in a way a retry cannot fix. */
  failSubmission: { from: [clipping, submitted], to: failed },
  /** MediaConvert reported progress. */
  recordExtractProgress: { from: [submitted, extracting], to: extracting },
  /** MediaConvert failed or canceled the job, or its frames could not be counted. */
  failExtraction: { from: [submitted, extracting], to: failed },
  /**
   * A segmented run: one segment's job failed or was canceled, or its frames could not be
   * counted. Also from PROCESSING: other segments may already be processing.
   */
  failSegment: { from: [submitted, extracting, processing], to: failed },
  /**
   * MediaConvert finished and the frames are counted. Also from PROCESSING while the fan-out is
   * not finished (the write then requires no FannedOutAt): a repeated COMPLETE, or the sweeper,
   * finishes a fan-out that stopped halfway.
   */
  startProcessing: { from: [submitted, extracting, processing], to: processing },
  /** Every batch message was sent. */
  recordFannedOut: { from: [processing] },
  /** A batch was processed (or dead-lettered): counted once. */
  countBatch: { from: [processing] },
  /** A fan-in takes its lease. */
  claimFanIn: { from: [processing] },
  completeRun: { from: [processing], to: complete },
  /** The results could not be written. */
  failProcessing: { from: [processing], to: failed },
  /**
   * The pipeline gave up on a running run: its event failed every retry (the failure queues'
   * consumer), or the sweeper found it stalled beyond repair.
   */
  abandonRun: { from: RUNNING_STATUSES, to: failed },
  /**
   * `frames redrive` sent the run's kept event back: a run that failed because the pipeline gave
   * up (never because of its input) goes back to the status it failed from.
   */
  reopenRun: { from: [failed] },
  /**
   * An event that failed every retry arrives for a run the sweeper already ended: kept on it, so
   * the run can still be redriven.
   */
  keepFailedEvent: { from: [failed] },
  /** The run's outcome event was put on the bus (once the run is final). */
  recordAnnounced: { from: FINAL_STATUSES },
  /** The sweeper notes what it did to a run it found past its threshold (and counts its attempts). */
  recordSwept: { from: RUNNING_STATUSES },
  /**
   * The completion function failed on a job's final event every retry, but MediaConvert's own
   * record of the job lets the sweeper redo what it would have done: the failed-events function
   * asks it to, rather than failing a run that can still finish.
   */
  requestRepair: { from: [submitted, extracting, processing] },
} as const satisfies Record<string, Transition>;

export type RunOperation = keyof typeof RUN_LIFECYCLE;

/** Whether `operation` may start from a run in `status`. */
export function mayStart(operation: RunOperation, status: JobStatus | undefined): boolean {
  return status !== undefined && (RUN_LIFECYCLE[operation].from as readonly JobStatus[]).includes(status);
}

export function isRunning(status: JobStatus | undefined): boolean {
  return status !== undefined && (RUNNING_STATUSES as readonly JobStatus[]).includes(status);
}

export function isFinal(status: JobStatus | undefined): boolean {
  return status !== undefined && (FINAL_STATUSES as readonly JobStatus[]).includes(status);
}

/**
 * The failures `frames redrive` may send back: those where the pipeline, not the input, gave up.
 * A rejected input or a MediaConvert error would fail again; upload the video again instead.
 */
export const REDRIVABLE_ERROR_CODES: readonly string[] = [ERROR_CODE.retriesExhausted, ERROR_CODE.runStalled];

/** A run `frames redrive` may resume: FAILED because the pipeline gave up, with its event kept (for `target`, when given). */
export function isRedrivable(record: JobRecord | undefined, target?: FailedEvent['target']): record is JobRecord & { FailedEvent: FailedEvent } {
  return (
    record?.Status === JOB_STATUS.failed &&
    record.FailedEvent !== undefined &&
    record.FailedFrom !== undefined &&
    REDRIVABLE_ERROR_CODES.includes(record.Error?.Code ?? '') &&
    (target === undefined || record.FailedEvent.target === target)
  );
}
