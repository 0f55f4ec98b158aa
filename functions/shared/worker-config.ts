import { requireEnv } from './env';
import { ConfigurationError } from './errors';
import { ENV } from '../../pipeline/definition';

/** What the frame worker and the dead-letter handler read from their environment. */
export interface WorkerConfig {
  readonly jobTable: string;
  readonly framesBucket: string;
  readonly egressBucket: string;
  readonly fanInLeaseMs: number;
  /** Named in the outcome events (pipeline/outcome-event.ts). */
  readonly pipelineName: string;
}

/** Reads and checks the environment once, at cold start. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const leaseSeconds = Number(requireEnv(ENV.fanInLeaseSeconds, env));
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 1) {
    throw new ConfigurationError(`Environment variable ${ENV.fanInLeaseSeconds} must be a whole number of seconds, got ${JSON.stringify(env[ENV.fanInLeaseSeconds])}`);
  }
  return {
    jobTable: requireEnv(ENV.jobTable, env),
    framesBucket: requireEnv(ENV.framesBucket, env),
    egressBucket: requireEnv(ENV.egressBucket, env),
    fanInLeaseMs: leaseSeconds * 1000,
    pipelineName: requireEnv(ENV.pipelineName, env),
  };
}
