import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

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
  return processPartialResponse(event, handleRecord, batchProcessor, {
    context,
    processInParallel: false,
    throwOnFullBatchFailure: false,
  });
}
