import { S3Client } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { FanInDependencies } from '../shared/fan-in';
import { readFrameBatchRecord } from '../shared/frame-message-schema';
import { forRun, logger, withLogContext } from '../shared/logger';
import { handleMessagesOneByOne } from '../shared/sqs-batch';
import { S3ResultsStore } from '../shared/results-store';
import { announcingJobTable } from '../shared/outcome-events';
import { loadWorkerConfig } from '../shared/worker-config';
import { recordDeadLetter } from './record-dead-letter';

const config = loadWorkerConfig();

const dependencies: FanInDependencies = {
  runs: announcingJobTable(config.jobTable, config.pipelineName),
  results: new S3ResultsStore(new S3Client({})),
  settings: config,
  now: () => new Date(),
};

async function handleRecord(record: SQSRecord): Promise<void> {
  // Not ours to count when unreadable: left in the dead-letter queue, where a person can read it.
  const message = readFrameBatchRecord(record, 'left in the dead-letter queue');
  forRun(message);
  const outcome = await recordDeadLetter(dependencies, message);
  logger.warn('dead-lettered frame batch counted', { ...outcome, messageId: record.messageId });
}

/** Frame dead letters: counts the frames of batches the worker could not process as failed. */
export const handler = withLogContext((event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  handleMessagesOneByOne(event, context, handleRecord),
);
