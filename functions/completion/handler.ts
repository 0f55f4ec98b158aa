import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsFrameQueue } from '../shared/frame-queue';
import { SdkMediaConverter, createMediaConvertClient } from '../shared/media-converter';
import { S3FrameStore } from '../shared/frame-store';
import { forRun, logger, withLogContext } from '../shared/logger';
import { announcingJobTable } from '../shared/outcome-events';
import { S3ResultsStore } from '../shared/results-store';
import { redriveRequestOf } from '../../pipeline/outcome-event';
import { keptEventFor } from '../shared/redrive';
import { loadCompletionConfig } from './config';
import { type CompletionDependencies, type CompletionOutcome, handleJobStateChange } from './handle-job-state';
import { jobStateChangeOf } from './job-state-events';

const config = loadCompletionConfig();
const s3 = new S3Client({});
const table = announcingJobTable(config.jobTable, config.pipelineName);

const dependencies: CompletionDependencies = {
  runs: table,
  frames: new S3FrameStore(s3),
  results: new S3ResultsStore(s3),
  queue: new SqsFrameQueue(new SQSClient({}), config.frameQueueUrl),
  mediaConvert: new SdkMediaConverter(createMediaConvertClient()),
  settings: config,
  now: () => new Date(),
};

/**
 * Completion: a "MediaConvert Job State Change" event in (also when `frames redrive` sends one
 * back); progress, failure, or the frame count and the fan-out to the frame queue out. Throws on
 * unexpected failures so EventBridge's invocation is retried (and, when retries run out, kept in
 * the completion failure queue, whose consumer marks the run FAILED).
 */
export const handler = withLogContext(async (received: unknown): Promise<CompletionOutcome | undefined> => {
  const redrive = redriveRequestOf(received);
  if (redrive) forRun(redrive);
  const event = redrive ? await keptEventFor(redrive, 'completion', table) : received;
  if (event === undefined) return undefined;
  const change = jobStateChangeOf(event);
  if (!change) {
    logger.info('job state ignored: not a state or a job of this pipeline');
    return undefined;
  }
  forRun(change);
  // A run the pipeline gave up on resumes from the status it failed in, then the event is
  // handled as it would have been the first time.
  if (redrive) await table.reopenRun(change, dependencies.now().toISOString());
  const outcome = await handleJobStateChange(dependencies, change);
  logger.info('job state handled', { ...outcome });
  return outcome;
});
