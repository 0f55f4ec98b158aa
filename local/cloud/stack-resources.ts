import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FAILURE_QUEUE_SETTINGS, frameQueueSettings } from '../../pipeline/definition';
import type { StackConfig } from '../../pipeline/stack-config';
import { type QueueConsumerSpec, pipelineNames } from '../../pipeline/topology';
import { ensureJobTable } from '../dynamo-server';
import type { FaultWiring } from './fault-wiring';

export interface LocalQueues {
  readonly frameQueueUrl: string;
  readonly frameQueueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
  readonly failureQueueUrls: Readonly<Record<'ingress-failures' | 'completion-failures', string>>;
  /** Every queue a function consumes, by its name in the topology (QueueConsumerSpec.queue). */
  readonly consumed: Readonly<Record<QueueConsumerSpec['queue'], { readonly url: string; readonly arn: string }>>;
}

/**
 * The local mirror of the stack's table and queues, made with the local cloud's own key as
 * Terraform makes them: the job table with its status index, the frame queue with its visibility
 * timeout and redrive to the dead-letter queue, and the failure queues, all from the definition.
 */
export async function provisionStackResources(
  clients: { readonly dynamodb: DynamoDBClient; readonly sqs: SQSClient },
  config: StackConfig,
  faults: FaultWiring,
): Promise<LocalQueues> {
  const names = pipelineNames(config);
  await ensureJobTable(clients.dynamodb, names.jobTable);
  const settings = frameQueueSettings(config.processing);
  const deadLetterQueueUrl = await createQueue(clients.sqs, names.frameDeadLetterQueue, {
    VisibilityTimeout: String(settings.deadLetterVisibilityTimeoutSeconds),
    MessageRetentionPeriod: String(settings.messageRetentionSeconds),
  });
  const deadLetterQueueArn = await queueArn(clients.sqs, deadLetterQueueUrl);
  const frameQueueUrl = await createQueue(clients.sqs, names.frameQueue, {
    VisibilityTimeout: String(faults.frameVisibilitySeconds(settings.visibilityTimeoutSeconds)),
    MessageRetentionPeriod: String(settings.messageRetentionSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterQueueArn, maxReceiveCount: settings.maxReceiveCount }),
  });
  const failureQueueAttributes = {
    MessageRetentionPeriod: String(FAILURE_QUEUE_SETTINGS.messageRetentionSeconds),
    // Under faults, a failed event the failed-events function could not record comes back in seconds.
    VisibilityTimeout: String(faults.frameVisibilitySeconds(FAILURE_QUEUE_SETTINGS.visibilityTimeoutSeconds)),
  };
  const frameQueueArn = await queueArn(clients.sqs, frameQueueUrl);
  const failureQueueUrls = {
    'ingress-failures': await createQueue(clients.sqs, names.failureQueues['ingress-failures'], failureQueueAttributes),
    'completion-failures': await createQueue(clients.sqs, names.failureQueues['completion-failures'], failureQueueAttributes),
  };
  return {
    frameQueueUrl,
    frameQueueArn,
    deadLetterQueueUrl,
    deadLetterQueueArn,
    failureQueueUrls,
    consumed: {
      frames: { url: frameQueueUrl, arn: frameQueueArn },
      'frames-dead-letters': { url: deadLetterQueueUrl, arn: deadLetterQueueArn },
      'ingress-failures': { url: failureQueueUrls['ingress-failures'], arn: await queueArn(clients.sqs, failureQueueUrls['ingress-failures']) },
      'completion-failures': { url: failureQueueUrls['completion-failures'], arn: await queueArn(clients.sqs, failureQueueUrls['completion-failures']) },
    },
  };
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  return QueueUrl!;
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return Attributes!.QueueArn!;
}
