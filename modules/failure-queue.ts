import { Construct } from 'constructs';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import type { LambdaFunction } from './lambda-function';
import { denyInsecureTransport, policyDocument } from './policy-document';
import { ASYNC_INVOCATION_RETRIES } from '../pipeline/topology';

export interface FailureQueueProps {
  readonly queueName: string;
}

/** SQS keeps messages at most 14 days: the time someone has to look at a failed event. */
const RETENTION_SECONDS = 14 * 24 * 60 * 60;

/**
 * Where events that could not be handled are kept instead of lost: deliveries EventBridge could
 * not make to a function, and the function's invocations that failed every retry. Encrypted; only
 * the rules named in `keepFailuresOf` may send to it.
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

  /**
   * Keeps the failures of the functions these rules invoke. Called once with all of them: a queue
   * has one access policy, and a function one asynchronous invocation configuration.
   */
  keepFailuresOf(rules: ReadonlyArray<{ readonly ruleArn: string; readonly target: LambdaFunction }>): void {
    const ruleArns = rules.map((rule) => rule.ruleArn);
    new SqsQueuePolicy(this, 'policy', {
      queueUrl: this.queue.url,
      policy: policyDocument([
        {
          Sid: 'UndeliverableEvents',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: this.queue.arn,
          Condition: { ArnEquals: { 'aws:SourceArn': ruleArns.length === 1 ? ruleArns[0] : ruleArns } },
        },
        ...denyInsecureTransport('sqs', [this.queue.arn]),
      ]),
    });
    const functions = [...new Set(rules.map((rule) => rule.target))];
    functions.forEach((fn, index) => {
      new LambdaFunctionEventInvokeConfig(this, `on-failure-${index}`, {
        functionName: fn.function.functionName,
        maximumRetryAttempts: ASYNC_INVOCATION_RETRIES,
        destinationConfig: { onFailure: { destination: this.queue.arn } },
      });
    });
  }
}
