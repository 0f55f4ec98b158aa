import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { loadCompletionConfig } from '../completion/config';
import { requirePositiveEnv } from '../shared/env';
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

const limit = requirePositiveEnv(ENV.sweepLimit);

const dependencies: SweeperDependencies = {
  runs: announcingJobTable(config.jobTable, config.pipelineName),
  frames: new S3FrameStore(s3),
  results: new S3ResultsStore(s3),
  queue: new SqsFrameQueue(new SQSClient({}), config.frameQueueUrl),
  mediaConvert: new SdkMediaConverter(createMediaConvertClient()),
  settings: config,
  sweeper: {
    stuckAfterMs: requirePositiveEnv(ENV.stuckAfterSeconds) * 1000,
    processingStallMs: requirePositiveEnv(ENV.processingStallSeconds) * 1000,
    submittingStallMs: requirePositiveEnv(ENV.submittingStallSeconds) * 1000,
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
