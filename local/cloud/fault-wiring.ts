import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FAULT_SETTINGS, type FaultName, type FaultPlan, needsFaultyProcessor, recordInjectedFault } from '../faults/fault-plan';

/** What the S3 and MediaConvert process injects (local/services-process.ts). */
export interface ServicesFaults {
  /** Where injected faults are noted (recordInjectedFault). */
  readonly stateDirectory: string;
  /** Refuse connections for `ms` from the first GET of an object in `bucket` (s3-outage). */
  readonly s3Outage?: { readonly bucket: string; readonly ms: number };
  /** The first job fails with ERROR after storing this many frames (mediaconvert-error). */
  readonly mediaConvertErrorAfterFrames?: number;
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
    } satisfies ServicesFaults,
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
