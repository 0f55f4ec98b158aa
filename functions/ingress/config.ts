import { requireEnv, requirePositiveEnv } from '../shared/env';
import { ConfigurationError } from '../shared/errors';
import {
  InvalidCaptureSettingError,
  parseFrameRate,
  parseMaxCaptures,
  parseQuality,
} from '../../pipeline/capture-settings';
import { ENV } from '../../pipeline/definition';
import type { IngressSettings } from './submit-job';

export interface IngressConfig extends IngressSettings {
  readonly jobTable: string;
}

/** Reads and checks the ingress function's environment once, at cold start. */
export function loadIngressConfig(env: NodeJS.ProcessEnv = process.env): IngressConfig {
  const parsed = <T>(name: string, parse: (text: string) => T): T => {
    try {
      return parse(requireEnv(name, env));
    } catch (error) {
      if (!(error instanceof InvalidCaptureSettingError)) throw error;
      throw new ConfigurationError(`Environment variable ${name} is invalid: ${error.message}`);
    }
  };
  return {
    jobTable: requireEnv(ENV.jobTable, env),
    framesBucket: requireEnv(ENV.framesBucket, env),
    ingressBucket: requireEnv(ENV.ingressBucket, env),
    mediaConvertRoleArn: requireEnv(ENV.mediaConvertRoleArn, env),
    pipelineName: requireEnv(ENV.pipelineName, env),
    defaultCapture: {
      fps: parsed(ENV.defaultFps, parseFrameRate),
      quality: parsed(ENV.defaultQuality, parseQuality),
      maxCaptures: parsed(ENV.defaultMaxCaptures, parseMaxCaptures),
    },
    extraction: {
      maxSegments: requirePositiveEnv(ENV.maxSegments, env),
      minSegmentSeconds: requirePositiveEnv(ENV.minSegmentSeconds, env, { fractional: true }),
      framesPerMessage: requirePositiveEnv(ENV.framesPerMessage, env),
    },
  };
}
