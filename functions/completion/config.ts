import { requireEnv } from '../shared/env';
import { ConfigurationError } from '../shared/errors';
import { type WorkerConfig, loadWorkerConfig } from '../shared/worker-config';
import { ENV } from '../../pipeline/definition';
import type { CompletionSettings } from './handle-job-state';

export interface CompletionConfig extends CompletionSettings, WorkerConfig {
  readonly frameQueueUrl: string;
}

/** Reads and checks the completion function's environment once, at cold start. */
export function loadCompletionConfig(env: NodeJS.ProcessEnv = process.env): CompletionConfig {
  const framesPerMessage = Number(requireEnv(ENV.framesPerMessage, env));
  if (!Number.isInteger(framesPerMessage) || framesPerMessage < 1) {
    throw new ConfigurationError(
      `Environment variable ${ENV.framesPerMessage} must be a positive whole number, got ${JSON.stringify(env[ENV.framesPerMessage])}`,
    );
  }
  return {
    ...loadWorkerConfig(env),
    frameQueueUrl: requireEnv(ENV.frameQueueUrl, env),
    framesPerMessage,
  };
}
