import { Construct } from 'constructs';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import type { FailureQueue } from './failure-queue';
import type { LambdaFunction } from './lambda-function';

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
 * An EventBridge rule that invokes a function, losing nothing: deliveries EventBridge could not
 * make land in the failure queue. The queue's policy and the function's failed-invocation
 * destination are set by FailureQueue, once for all the rules that use it (a queue has one policy,
 * a function one invoke configuration).
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
      // Unique per rule: a function's policy may not hold two statements of one id.
      statementId: `AllowEventRule-${props.ruleName}`,
      action: 'lambda:InvokeFunction',
      functionName: fn.functionName,
      principal: 'events.amazonaws.com',
      sourceArn: this.rule.arn,
    });
  }
}
