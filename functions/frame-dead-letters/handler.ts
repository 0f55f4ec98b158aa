import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { FanInDependencies } from '../shared/fan-in';
import { readFrameBatchRecord } from '../shared/frame-message-schema';
import { logger } from '../shared/logger';
import { handleMessagesOneByOne } from '../shared/sqs-batch';
import { S3ResultsStore } from '../shared/results-store';
import { DynamoJobTable } from '../shared/job-table';
import { loadWorkerConfig } from '../shared/worker-config';
import { recordDeadLetter } from './record-dead-letter';

const config = loadWorkerConfig();

const dependencies: FanInDependencies = {
  runs: new DynamoJobTable(DynamoDBDocumentClient.from(new DynamoDBClient({})), config.jobTable),
  results: new S3ResultsStore(new S3Client({})),
  settings: config,
  now: () => new Date(),
};

async function handleRecord(record: SQSRecord): Promise<void> {
  // Not ours to count when unreadable: left in the dead-letter queue, where a person can read it.
  const message = readFrameBatchRecord(record, 'left in the dead-letter queue');
  const outcome = await recordDeadLetter(dependencies, message);
  logger.warn('dead-lettered frame batch counted', { ...outcome, messageId: record.messageId });
}

/** Frame dead letters: counts the frames of batches the worker could not process as failed. */
export function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return handleMessagesOneByOne(event, context, handleRecord);
}
