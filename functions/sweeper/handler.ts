import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { loadCompletionConfig } from '../completion/config';
import { requireEnv } from '../shared/env';
import { ConfigurationError } from '../shared/errors';
import { SqsFrameQueue } from '../shared/frame-queue';
import { S3FrameStore } from '../shared/frame-store';
import { logger, withLogContext } from '../shared/logger';
import { SdkMediaConverter, createMediaConvertClient } from '../shared/media-converter';
import { announcingJobTable } from '../shared/outcome-events';
import { S3ResultsStore } from '../shared/results-store';
import { ENV } from '../../pipeline/definition';
import type { SweeperDependencies } from './repair-run';
import { type SweepReport, SweepErrors, sweep } from './sweep';

const config = loadCompletionConfig();
const s3 = new S3Client({});

const positive = (name: string) => {
  const value = Number(requireEnv(name));
  if (!Number.isInteger(value) || value < 1) throw new ConfigurationError(`Environment variable ${name} must be a positive whole number, got ${JSON.stringify(process.env[name])}`);
  return value;
};
const limit = positive(ENV.sweepLimit);

const dependencies: SweeperDependencies = {
  runs: announcingJobTable(config.jobTable, config.pipelineName),
  frames: new S3FrameStore(s3),
  results: new S3ResultsStore(s3),
  queue: new SqsFrameQueue(new SQSClient({}), config.frameQueueUrl),
  mediaConvert: new SdkMediaConverter(createMediaConvertClient()),
  settings: config,
  sweeper: {
    stuckAfterMs: positive(ENV.stuckAfterSeconds) * 1000,
    processingStallMs: positive(ENV.processingStallSeconds) * 1000,
    submittingStallMs: positive(ENV.submittingStallSeconds) * 1000,
  },
  now: () => new Date(),
};

/** The sweeper, on a schedule: finds runs stalled in a running state and repairs or ends each. */
export const handler = withLogContext(async (): Promise<SweepReport> => {
  const report = await sweep(dependencies, limit);
  logger.info('sweep finished', { ...report });
  if (report.errors > 0) throw new SweepErrors(report);
  return report;
});
