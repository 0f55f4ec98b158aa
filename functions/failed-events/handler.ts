import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { requireEnv } from '../shared/env';
import { logger, withLogContext } from '../shared/logger';
import { announcingJobTable } from '../shared/outcome-events';
import { handleMessagesOneByOne } from '../shared/sqs-batch';
import { ENV } from '../../pipeline/definition';
import { readFailedEventMessage } from './failed-event-message';
import { type FailedEventDependencies, recordFailedEvent } from './record-failed-event';

const dependencies: FailedEventDependencies = {
  runs: announcingJobTable(requireEnv(ENV.jobTable), requireEnv(ENV.pipelineName)),
  settings: { ingressBucket: requireEnv(ENV.ingressBucket) },
  now: () => new Date(),
};

async function handleRecord(record: SQSRecord): Promise<void> {
  const message = readFailedEventMessage(record);
  const outcomes = await recordFailedEvent(dependencies, message);
  for (const outcome of outcomes) logger.warn('failed event recorded', { ...outcome, target: message.target, messageId: message.messageId });
}

/**
 * Failed events: consumes both failure queues. Each event that failed every retry ends its run
 * (FAILED, RETRIES_EXHAUSTED, the event kept for `frames redrive`), so no run waits forever for
 * a function that gave up. A message that cannot be recorded stays in its queue (retried).
 */
export const handler = withLogContext((event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  handleMessagesOneByOne(event, context, handleRecord),
);
