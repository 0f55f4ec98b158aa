import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SqsFrameQueue } from '../shared/frame-queue';
import { S3FrameStore } from '../shared/frame-store';
import { logger } from '../shared/logger';
import { S3ResultsStore } from '../shared/results-store';
import { DynamoJobTable } from '../shared/job-table';
import { loadCompletionConfig } from './config';
import { type CompletionDependencies, type CompletionOutcome, handleJobStateChange } from './handle-job-state';
import { jobStateChangeOf } from './job-state-events';

const config = loadCompletionConfig();
const s3 = new S3Client({});

const dependencies: CompletionDependencies = {
  runs: new DynamoJobTable(DynamoDBDocumentClient.from(new DynamoDBClient({})), config.jobTable),
  frames: new S3FrameStore(s3),
  results: new S3ResultsStore(s3),
  queue: new SqsFrameQueue(new SQSClient({}), config.frameQueueUrl),
  settings: config,
  now: () => new Date(),
};

/**
 * Completion: a "MediaConvert Job State Change" event in; progress, failure, or the frame count and
 * the fan-out to the frame queue out. Throws on unexpected failures so EventBridge's invocation is
 * retried (and, when retries run out, kept in the completion failure queue).
 */
export async function handler(event: unknown): Promise<CompletionOutcome | undefined> {
  const change = jobStateChangeOf(event);
  if (!change) {
    logger.info('job state ignored: not a state or a job of this pipeline');
    return undefined;
  }
  const outcome = await handleJobStateChange(dependencies, change);
  logger.info('job state handled', { ...outcome });
  return outcome;
}
