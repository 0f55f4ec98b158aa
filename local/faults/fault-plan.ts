/**
 * Fault injection for local mode: a switch, off by default, that makes the local cloud misbehave
 * the ways the real one can, so tests (and anyone curious) can see the pipeline keep its promises:
 * every frame counted once, every job finished, nothing lost. Turned on with the FRAMES_FAULTS
 * environment variable, a comma-separated list of the names below (or `all`). The deployable
 * bundles are unchanged: each fault lives in the local servers, the local event router and
 * poller, or (for the processor's faults) in a local wrapper around the configured processor.
 */

import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

export const FAULTS_VARIABLE = 'FRAMES_FAULTS';
/** Where the faulty processor notes that a run's worker crash has happened, so redelivery succeeds. */
export const FAULT_STATE_VARIABLE = 'FRAMES_FAULT_STATE';

/** The fixed shape of each fault: named here so tests and the README can state them. */
export const FAULT_SETTINGS = {
  /** The processor throws for frames with index % every === at (on every attempt). */
  processorThrows: { every: 7, at: 3 },
  /** The worker's process is killed while processing this frame, once per run. */
  workerCrashAtIndex: 2,
  /** The first MediaConvert job fails with ERROR once it has stored this many frames. */
  mediaConvertErrorAfterFrames: 3,
  /** How long the S3 server refuses connections, from the first read of a frame. */
  s3OutageMs: 3_000,
  /** Every this-many-th item write to DynamoDB is answered with a throttling error. */
  dynamoThrottleEvery: 3,
  /**
   * With any fault on, a failed frame-queue message is visible again after this long instead of
   * six times the worker's timeout (at least 3 minutes), so a run under faults ends in seconds.
   */
  redeliverySeconds: 5,
  /**
   * mediaconvert-unavailable holds until this file exists in the fault state directory
   * (`touch <data dir>/faults/mediaconvert-available`): the fault a person clears, then redrives.
   */
  mediaConvertAvailableFile: 'mediaconvert-available',
  /**
   * With any fault on, the sweeper runs this often and looks at runs this quiet, instead of the
   * stack's minutes (operations.sweepEveryMinutes, stuckAfterMinutes), so a stalled run ends in
   * seconds. A fanned-out run and one still being submitted get longer, as in the stack: every
   * delivery of a batch, and every retry of an ingress (the SDK's backoff included).
   */
  sweeper: { everySeconds: 2, stuckAfterSeconds: 30, processingStallSeconds: 60, submittingStallSeconds: 180 },
} as const;

export const FAULTS = {
  'duplicate-delivery': 'every event and every queue message is delivered twice, at the same time',
  'processor-throws': `the processor throws for every frame whose index is ${FAULT_SETTINGS.processorThrows.at} more than a multiple of ${FAULT_SETTINGS.processorThrows.every}`,
  'worker-crash': `a frame worker's process is killed (SIGKILL) while it processes frame ${FAULT_SETTINGS.workerCrashAtIndex}, once per run`,
  'mediaconvert-error': `the first MediaConvert job fails with ERROR after storing ${FAULT_SETTINGS.mediaConvertErrorAfterFrames} frames`,
  's3-outage': `the S3 server refuses connections for ${FAULT_SETTINGS.s3OutageMs / 1000} s from the first read of a frame`,
  'dynamodb-throttle': `one item write to DynamoDB in ${FAULT_SETTINGS.dynamoThrottleEvery} is answered ProvisionedThroughputExceededException`,
  'completion-crash':
    "the completion function's process is killed (SIGKILL) in the middle of the first run's fan-out, on every attempt: the failed-events function hands the run to the sweeper, which finishes it",
  'mediaconvert-unavailable':
    `every CreateJob is answered 500 InternalServerErrorException until the file ${FAULT_SETTINGS.mediaConvertAvailableFile} exists in the fault state directory: ` +
    'runs end FAILED (RETRIES_EXHAUSTED) until then, and `frames redrive` resumes them after',
} as const;

/**
 * Faults that `all` leaves out; each is named on its own (or beside `all`):
 * - mediaconvert-unavailable holds until a person clears it, and `all`'s runs must end by themselves;
 * - completion-crash makes the completion function send a run's batches again on each attempt, as
 *   new messages: `all`'s per-frame bounds count deliveries of one message, not copies of it.
 */
export const NOT_IN_ALL: readonly FaultName[] = ['mediaconvert-unavailable', 'completion-crash'];

export type FaultName = keyof typeof FAULTS;
export type FaultPlan = ReadonlySet<FaultName>;

export const NO_FAULTS: FaultPlan = new Set();

export class FaultPlanError extends Error {
  override readonly name = 'FaultPlanError';
}

const isFaultName = (name: string): name is FaultName => Object.hasOwn(FAULTS, name);

/** Reads a FRAMES_FAULTS value: names separated by commas, or `all`; empty means none. */
export function parseFaultPlan(text: string | undefined): FaultPlan {
  const names = (text ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.includes('all')) {
    return new Set((Object.keys(FAULTS) as FaultName[]).filter((name) => !NOT_IN_ALL.includes(name) || names.includes(name)));
  }
  const unknown = names.filter((name) => !isFaultName(name));
  if (unknown.length > 0) {
    throw new FaultPlanError(
      `${FAULTS_VARIABLE} names unknown fault${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `"${name}"`).join(', ')}; ` +
        `known: ${Object.keys(FAULTS).join(', ')} (or all).`,
    );
  }
  return new Set(names as FaultName[]);
}

/** One line per fault that is on, for the warning a local cloud prints when it starts. */
export function describeFaultPlan(plan: FaultPlan): string {
  return [...plan].map((name) => `${name}: ${FAULTS[name]}`).join('; ');
}

/** Each injected fault is appended here (one JSON line), under the fault state directory. */
export const INJECTED_FAULTS_FILE = 'injected.jsonl';

export interface InjectedFault {
  readonly fault: FaultName;
  readonly at: string;
  readonly pid: number;
  readonly detail: string;
}

/**
 * Notes that a fault was injected, so a test can tell a fault that happened and was survived from
 * one that never fired. Appends are atomic for lines this short, from any process.
 */
export function recordInjectedFault(directory: string, fault: FaultName, detail: string): void {
  const line: InjectedFault = { fault, at: new Date().toISOString(), pid: process.pid, detail };
  appendFileSync(join(directory, INJECTED_FAULTS_FILE), `${JSON.stringify(line)}\n`);
}

/** The processor's faults, which a local wrapper around the configured processor injects. */
export const needsFaultyProcessor = (plan: FaultPlan) => plan.has('processor-throws') || plan.has('worker-crash');
