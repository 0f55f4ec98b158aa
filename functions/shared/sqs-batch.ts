import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger } from './logger';

const batchProcessor = new BatchProcessor(EventType.SQS);

/**
 * Handles an SQS event from an event source mapping with ReportBatchItemFailures: messages one at a
 * time (each frame batch already works on several frames at once), and a message whose handler
 * throws is reported as failed, so only it is delivered again. Every failed message is listed in
 * the response even when all failed: the same redelivery, without an invocation error in the
 * metrics for what is a per-message outcome.
 */
export function handleMessagesOneByOne(
  event: SQSEvent,
  context: Context,
  handleRecord: (record: SQSRecord) => Promise<void>,
): Promise<SQSBatchResponse> {
  // One structured line per failed message, under its run (the handler set the keys), since the
  // batch response reports it to Lambda without an invocation error.
  const logged = async (record: SQSRecord) => {
    try {
      await handleRecord(record);
    } catch (error) {
      logger.error('message failed; it is delivered again', { messageId: record.messageId, error: error as Error });
      throw error;
    }
  };
  return processPartialResponse(event, logged, batchProcessor, {
    context,
    processInParallel: false,
    throwOnFullBatchFailure: false,
  });
}
