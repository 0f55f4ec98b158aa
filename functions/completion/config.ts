import { requireEnv, requirePositiveEnv } from '../shared/env';
import { type WorkerConfig, loadWorkerConfig } from '../shared/worker-config';
import { ENV } from '../../pipeline/definition';
import type { CompletionSettings } from './handle-job-state';

export interface CompletionConfig extends CompletionSettings, WorkerConfig {
  readonly frameQueueUrl: string;
}

/** Reads and checks the completion function's environment once, at cold start. */
export function loadCompletionConfig(env: NodeJS.ProcessEnv = process.env): CompletionConfig {
  return {
    ...loadWorkerConfig(env),
    frameQueueUrl: requireEnv(ENV.frameQueueUrl, env),
    framesPerMessage: requirePositiveEnv(ENV.framesPerMessage, env),
  };
}
