import { S3Client } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
// Resolved at build time to the processor the stack configuration names (default-processor.ts).
import { processFrame } from '@frames/processor';
import { readFrameBatchRecord } from '../shared/frame-message-schema';
import { S3FrameStore } from '../shared/frame-store';
import { forRun, logger, withLogContext } from '../shared/logger';
import { handleMessagesOneByOne } from '../shared/sqs-batch';
import { S3ResultsStore } from '../shared/results-store';
import { announcingJobTable } from '../shared/outcome-events';
import { loadWorkerConfig } from '../shared/worker-config';
import { type WorkerDependencies, processFrameBatch } from './process-batch';

const config = loadWorkerConfig();
const s3 = new S3Client({});

const dependencies: WorkerDependencies = {
  runs: announcingJobTable(config.jobTable, config.pipelineName),
  frames: new S3FrameStore(s3),
  results: new S3ResultsStore(s3),
  processFrame,
  settings: config,
  now: () => new Date(),
};

/** One message: a batch of frames. Throwing reports just this message as failed (redelivered). */
async function handleRecord(record: SQSRecord): Promise<void> {
  const message = readFrameBatchRecord(record, 'reported failed; it moves to the dead-letter queue after maxReceiveCount receives');
  forRun(message);
  const outcome = await processFrameBatch(dependencies, message);
  logger.info('frame batch handled', { ...outcome, messageId: record.messageId });
}

/**
 * Frame worker: SQS batches of frame-batch messages in, partial batch failures out
 * (the event source mapping has ReportBatchItemFailures), so one bad message never makes its
 * neighbours run again.
 */
export const handler = withLogContext((event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  handleMessagesOneByOne(event, context, handleRecord),
);
