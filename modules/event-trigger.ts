import { Construct } from 'constructs';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import type { FailureQueue } from './failure-queue';
import type { LambdaFunction } from './lambda-function';
import { denyInsecureTransport, policyDocument } from './policy-document';
import { ASYNC_INVOCATION_RETRIES } from '../pipeline/topology';

export interface EventTriggerProps {
  readonly ruleName: string;
  readonly description: string;
  /** The pattern from pipeline/definition.ts: local mode's event router applies the same one. */
  readonly eventPattern: object;
  readonly target: LambdaFunction;
  /** Receives deliveries EventBridge could not make and invocations that failed every retry. */
  readonly failureQueue: FailureQueue;
}

/** EventBridge keeps retrying a delivery it could not make for up to a day. */
const DELIVERY_RETRY = { maximumEventAgeInSeconds: 24 * 60 * 60, maximumRetryAttempts: 185 };

/**
 * An EventBridge rule that invokes a function, losing nothing: failed deliveries and invocations
 * that fail every retry land in the failure queue, whose policy lets only this rule send.
 */
export class EventTrigger extends Construct {
  readonly rule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: EventTriggerProps) {
    super(scope, id);
    const fn = props.target.function;
    const queue = props.failureQueue.queue;

    this.rule = new CloudwatchEventRule(this, 'rule', {
      name: props.ruleName,
      description: props.description,
      eventPattern: JSON.stringify(props.eventPattern),
    });
    new CloudwatchEventTarget(this, 'target', {
      rule: this.rule.name,
      arn: fn.arn,
      retryPolicy: DELIVERY_RETRY,
      deadLetterConfig: { arn: queue.arn },
    });
    new LambdaPermission(this, 'invoke', {
      statementId: 'AllowEventRule',
      action: 'lambda:InvokeFunction',
      functionName: fn.functionName,
      principal: 'events.amazonaws.com',
      sourceArn: this.rule.arn,
    });
    new LambdaFunctionEventInvokeConfig(this, 'on-failure', {
      functionName: fn.functionName,
      maximumRetryAttempts: ASYNC_INVOCATION_RETRIES,
      destinationConfig: { onFailure: { destination: queue.arn } },
    });

    new SqsQueuePolicy(this, 'failure-queue-policy', {
      queueUrl: queue.url,
      policy: policyDocument([
        {
          Sid: 'UndeliverableEvents',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: queue.arn,
          Condition: { ArnEquals: { 'aws:SourceArn': this.rule.arn } },
        },
        ...denyInsecureTransport('sqs', [queue.arn]),
      ]),
    });
  }
}
