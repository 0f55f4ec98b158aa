import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FAILURE_QUEUE_SETTINGS, frameQueueSettings } from '../../pipeline/definition';
import type { StackConfig } from '../../pipeline/stack-config';
import { pipelineNames } from '../../pipeline/topology';
import { ensureJobTable } from '../dynamo-server';
import type { FaultWiring } from './fault-wiring';

export interface LocalQueues {
  readonly frameQueueUrl: string;
  readonly frameQueueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
  readonly failureQueueUrls: Readonly<Record<'ingress-failures' | 'completion-failures', string>>;
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
    VisibilityTimeout: String(FAILURE_QUEUE_SETTINGS.visibilityTimeoutSeconds),
  };
  return {
    frameQueueUrl,
    frameQueueArn: await queueArn(clients.sqs, frameQueueUrl),
    deadLetterQueueUrl,
    deadLetterQueueArn,
    failureQueueUrls: {
      'ingress-failures': await createQueue(clients.sqs, names.failureQueues['ingress-failures'], failureQueueAttributes),
      'completion-failures': await createQueue(clients.sqs, names.failureQueues['completion-failures'], failureQueueAttributes),
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
