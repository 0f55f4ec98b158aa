import { Construct } from 'constructs';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import type { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import type { LambdaFunction } from './lambda-function';

export interface QueueConsumerProps {
  readonly queue: SqsQueue;
  readonly consumer: LambdaFunction;
  readonly batchSize: number;
  /** The most concurrent invocations this mapping starts (2..1000). */
  readonly maximumConcurrency: number;
}

/**
 * An SQS event source mapping with ReportBatchItemFailures: the function returns the messages that
 * failed, and only those are delivered again.
 */
export class QueueConsumer extends Construct {
  readonly mapping: LambdaEventSourceMapping;

  constructor(scope: Construct, id: string, props: QueueConsumerProps) {
    super(scope, id);
    this.mapping = new LambdaEventSourceMapping(this, 'mapping', {
      eventSourceArn: props.queue.arn,
      functionName: props.consumer.function.arn,
      batchSize: props.batchSize,
      functionResponseTypes: ['ReportBatchItemFailures'],
      scalingConfig: { maximumConcurrency: props.maximumConcurrency },
      // The role's queue permissions must exist before Lambda validates the mapping.
      dependsOn: [props.consumer.policy],
    });
  }
}
