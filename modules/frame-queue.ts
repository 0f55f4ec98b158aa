import { Construct } from 'constructs';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { SqsQueueRedriveAllowPolicy } from '@cdktf/provider-aws/lib/sqs-queue-redrive-allow-policy';
import type { PolicyStatement } from '../pipeline/iam-policy';
import { policyDocument } from './policy-document';
import type { frameQueueSettings } from '../pipeline/definition';

export interface FrameQueueProps {
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  /** From pipeline/definition.ts `frameQueueSettings`, which local mode's poller also reads. */
  readonly settings: ReturnType<typeof frameQueueSettings>;
}

/**
 * The frame queue, where the completion function fans out frame batches, and its dead-letter
 * queue, where a batch goes after maxReceiveCount failed deliveries. Both encrypted (SQS-managed
 * SSE); only the frame queue may redrive into the dead-letter queue; `restrictTo` adds the TLS-only policies.
 */
export class FrameQueue extends Construct {
  readonly queue: SqsQueue;
  readonly deadLetterQueue: SqsQueue;

  constructor(scope: Construct, id: string, props: FrameQueueProps) {
    super(scope, id);
    const { settings } = props;

    this.deadLetterQueue = new SqsQueue(this, 'dead-letters', {
      name: props.deadLetterQueueName,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: settings.messageRetentionSeconds,
      visibilityTimeoutSeconds: settings.deadLetterVisibilityTimeoutSeconds,
    });
    this.queue = new SqsQueue(this, 'queue', {
      name: props.queueName,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: settings.messageRetentionSeconds,
      visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
      redrivePolicy: JSON.stringify({
        deadLetterTargetArn: this.deadLetterQueue.arn,
        maxReceiveCount: settings.maxReceiveCount,
      }),
    });
    // A resource of its own: on the queue itself it would make the two queues refer to each other.
    // Without it the dead-letter queue would accept redrives from any queue in the account.
    new SqsQueueRedriveAllowPolicy(this, 'redrive-allow', {
      queueUrl: this.deadLetterQueue.url,
      redriveAllowPolicy: JSON.stringify({ redrivePermission: 'byQueue', sourceQueueArns: [this.queue.arn] }),
    });
  }

  /** The queues' policies (pipeline/permissions.ts: TLS only). */
  restrictTo(policies: { readonly queue: readonly PolicyStatement[]; readonly deadLetters: readonly PolicyStatement[] }): void {
    new SqsQueuePolicy(this, 'queue-policy', { queueUrl: this.queue.url, policy: policyDocument(policies.queue) });
    new SqsQueuePolicy(this, 'dead-letters-policy', { queueUrl: this.deadLetterQueue.url, policy: policyDocument(policies.deadLetters) });
  }
}
