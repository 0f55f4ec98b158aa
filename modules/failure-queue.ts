import { Construct } from 'constructs';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import type { LambdaFunction } from './lambda-function';
import type { PolicyStatement } from '../pipeline/iam-policy';
import { policyDocument } from './policy-document';
import { FAILURE_QUEUE_SETTINGS } from '../pipeline/definition';
import { ASYNC_INVOCATION_RETRIES } from '../pipeline/topology';

export interface FailureQueueProps {
  readonly queueName: string;
}

/**
 * Where events that could not be handled are kept instead of lost: deliveries EventBridge could
 * not make to a function, and the function's invocations that failed every retry. Encrypted; only
 * the rules named in `keepFailuresOf` may send to it. The failed-events function consumes it.
 */
export class FailureQueue extends Construct {
  readonly queue: SqsQueue;

  constructor(scope: Construct, id: string, props: FailureQueueProps) {
    super(scope, id);
    this.queue = new SqsQueue(this, 'queue', {
      name: props.queueName,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: FAILURE_QUEUE_SETTINGS.messageRetentionSeconds,
      // The failed-events function consumes it: Lambda refuses a mapping on a queue whose
      // visibility timeout is below the function's timeout.
      visibilityTimeoutSeconds: FAILURE_QUEUE_SETTINGS.visibilityTimeoutSeconds,
    });
  }

  /**
   * Keeps the failures of these functions, with the queue's policy (pipeline/permissions.ts: only
   * the rules that invoke them may send, TLS only). Called once: a queue has one access policy,
   * and a function one asynchronous invocation configuration.
   */
  keepFailuresOf(functions: readonly LambdaFunction[], policy: readonly PolicyStatement[]): void {
    new SqsQueuePolicy(this, 'policy', { queueUrl: this.queue.url, policy: policyDocument(policy) });
    [...new Set(functions)].forEach((fn, index) => {
      new LambdaFunctionEventInvokeConfig(this, `on-failure-${index}`, {
        functionName: fn.function.functionName,
        maximumRetryAttempts: ASYNC_INVOCATION_RETRIES,
        destinationConfig: { onFailure: { destination: this.queue.arn } },
      });
    });
  }
}
