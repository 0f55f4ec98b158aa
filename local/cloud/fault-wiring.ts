import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ENV } from '../../pipeline/definition';
import type { JsonProtocolGateOptions } from '../iam/json-protocol-gate';
import { FAULT_SETTINGS, type FaultName, type FaultPlan, needsFaultyProcessor, recordInjectedFault } from '../faults/fault-plan';

/** What the S3 and MediaConvert process injects (local/services-process.ts). */
export interface ServicesFaults {
  /** Where injected faults are noted (recordInjectedFault). */
  readonly stateDirectory: string;
  /** Refuse connections for `ms` from the first GET of an object in `bucket` (s3-outage). */
  readonly s3Outage?: { readonly bucket: string; readonly ms: number };
  /** The first job fails with ERROR after storing this many frames (mediaconvert-error). */
  readonly mediaConvertErrorAfterFrames?: number;
  /** Every CreateJob fails until this file exists (mediaconvert-unavailable). */
  readonly mediaConvertAvailableFile?: string;
}

/**
 * Where each fault of a plan (local/faults/fault-plan.ts) is wired into the local cloud, in one
 * place: the servers, the router and pollers, the frame worker's processor, the queue's timing.
 */
export function faultWiring(plan: FaultPlan, dataDirectory: string, framesBucket: string) {
  const stateDirectory = join(dataDirectory, 'faults');
  if (plan.size > 0) mkdirSync(stateDirectory, { recursive: true });
  const note = (fault: FaultName) => (detail: string) => recordInjectedFault(stateDirectory, fault, detail);
  return {
    plan,
    stateDirectory,
    services: {
      stateDirectory,
      s3Outage: plan.has('s3-outage') ? { bucket: framesBucket, ms: FAULT_SETTINGS.s3OutageMs } : undefined,
      mediaConvertErrorAfterFrames: plan.has('mediaconvert-error') ? FAULT_SETTINGS.mediaConvertErrorAfterFrames : undefined,
      mediaConvertAvailableFile: plan.has('mediaconvert-unavailable') ? join(stateDirectory, FAULT_SETTINGS.mediaConvertAvailableFile) : undefined,
    } satisfies ServicesFaults,
    /** Told when the completion function's fan-out should crash (completion-crash). */
    completionCrash: plan.has('completion-crash') ? note('completion-crash') : undefined,
    /** The sweeper's schedule and thresholds: the stack's, or seconds under faults. */
    sweeper: (configured: { everySeconds: number; environment: Readonly<Record<string, string>> }) =>
      plan.size === 0
        ? configured
        : {
            everySeconds: FAULT_SETTINGS.sweeper.everySeconds,
            environment: {
              ...configured.environment,
              [ENV.stuckAfterSeconds]: String(FAULT_SETTINGS.sweeper.stuckAfterSeconds),
              [ENV.processingStallSeconds]: String(FAULT_SETTINGS.sweeper.processingStallSeconds),
              [ENV.submittingStallSeconds]: String(FAULT_SETTINGS.sweeper.submittingStallSeconds),
            },
          },
    /** Given to the router and the pollers: every event and batch delivered twice. */
    duplicate: plan.has('duplicate-delivery') ? note('duplicate-delivery') : undefined,
    /** The frame worker's processor is wrapped by local/faults/faulty-processor.ts. */
    wrapsProcessor: needsFaultyProcessor(plan),
    /** With any fault on, a failed frame message comes back after seconds, not six worker timeouts. */
    frameVisibilitySeconds: (configured: number) => (plan.size > 0 ? FAULT_SETTINGS.redeliverySeconds : configured),
    /** One item write in so many is throttled (dynamodb-throttle), and each is noted. */
    dynamoThrottle: plan.has('dynamodb-throttle') ? { every: FAULT_SETTINGS.dynamoThrottleEvery, note: note('dynamodb-throttle') } : undefined,
  };
}

export type FaultWiring = ReturnType<typeof faultWiring>;

/**
 * The completion-crash fault, on the SQS endpoint: the first run whose frame batches the
 * completion function sends has that function's process killed once SQS has taken one
 * SendMessageBatch (those messages enqueued, the rest never sent, FannedOutAt never written), on
 * every attempt; batches sent at the same moment by the dying attempt are dropped. Its event then
 * fails every retry, and the failed-events function hands the run to the sweeper.
 */
export function completionCrashInterrupt(
  note: (detail: string) => void,
  frameQueueUrl: string,
  killCompletion: () => Promise<void>,
): NonNullable<JsonProtocolGateOptions['interrupt']> {
  let crashingRun: string | undefined;
  let killing: Promise<void> | undefined;
  const frameQueuePath = new URL(frameQueueUrl).pathname;
  return ({ principal, operation, input }) => {
    if (principal !== 'completion' || operation !== 'SendMessageBatch') return undefined;
    if (!String(input.QueueUrl ?? '').endsWith(frameQueuePath)) return undefined;
    const [first] = (input.Entries as { MessageBody?: string }[] | undefined) ?? [];
    const runId = (JSON.parse(first?.MessageBody ?? '{}') as { runId?: string }).runId;
    crashingRun ??= runId;
    if (!runId || runId !== crashingRun) return undefined;
    // A call that arrives while its process is being killed never reaches SQS.
    if (killing) return { forward: false, then: () => killing! };
    let done: () => void = () => undefined;
    killing = new Promise<void>((resolve) => (done = resolve));
    return {
      forward: true,
      then: async () => {
        note(`completion killed mid-fan-out of run ${runId}`);
        await killCompletion();
        killing = undefined;
        done();
      },
    };
  };
}
