import { Construct } from 'constructs';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';

export interface FailureQueueProps {
  readonly queueName: string;
}

/** SQS keeps messages at most 14 days: the time someone has to look at a failed event. */
const RETENTION_SECONDS = 14 * 24 * 60 * 60;

/**
 * Where events that could not be handled are kept instead of lost: the ingress rule's deliveries
 * that EventBridge could not make, and invocations that failed every retry. Encrypted; its access
 * policy is written by whoever sends to it (see IngressTrigger).
 */
export class FailureQueue extends Construct {
  readonly queue: SqsQueue;

  constructor(scope: Construct, id: string, props: FailureQueueProps) {
    super(scope, id);
    this.queue = new SqsQueue(this, 'queue', {
      name: props.queueName,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: RETENTION_SECONDS,
    });
  }
}
