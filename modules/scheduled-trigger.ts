import { Construct } from 'constructs';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import type { LambdaFunction } from './lambda-function';

export interface ScheduledTriggerProps {
  readonly ruleName: string;
  readonly description: string;
  /** From the topology's ScheduleSpec (operations.sweepEveryMinutes): 1 to 1440. */
  readonly everyMinutes: number;
  readonly target: LambdaFunction;
}

/** EventBridge's rate expression: the unit is singular for 1 (`rate(1 minute)`), plural otherwise. */
export function rateExpression(minutes: number): string {
  if (!Number.isInteger(minutes) || minutes < 1) throw new Error(`a schedule runs every whole number of minutes, not ${minutes}`);
  return `rate(${minutes} ${minutes === 1 ? 'minute' : 'minutes'})`;
}

/**
 * An EventBridge schedule that invokes a function every N minutes. A tick that fails is not kept
 * anywhere: there is no dead-letter queue, because the next tick does the same work again. So
 * EventBridge retries a delivery only while the tick is current (at most one interval, twice),
 * and Lambda does not retry a failed invocation (an overlapping retry would only race the next
 * tick); the function's Errors alarm tells someone when ticks keep failing.
 */
export class ScheduledTrigger extends Construct {
  readonly rule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: ScheduledTriggerProps) {
    super(scope, id);
    const fn = props.target.function;
    // How long a tick is worth delivering: one interval, within EventBridge's bounds (60 s to
    // 24 h) and Lambda's for an asynchronous invocation (60 s to 6 h).
    const interval = Math.max(props.everyMinutes * 60, 60);
    const eventBridgeAge = Math.min(interval, 24 * 60 * 60);
    const lambdaAge = Math.min(interval, 6 * 60 * 60);

    this.rule = new CloudwatchEventRule(this, 'rule', {
      name: props.ruleName,
      description: props.description,
      scheduleExpression: rateExpression(props.everyMinutes),
    });
    new CloudwatchEventTarget(this, 'target', {
      rule: this.rule.name,
      arn: fn.arn,
      retryPolicy: { maximumEventAgeInSeconds: eventBridgeAge, maximumRetryAttempts: 2 },
    });
    new LambdaPermission(this, 'invoke', {
      statementId: `AllowSchedule-${props.ruleName}`,
      action: 'lambda:InvokeFunction',
      functionName: fn.functionName,
      principal: 'events.amazonaws.com',
      sourceArn: this.rule.arn,
    });
    new LambdaFunctionEventInvokeConfig(this, 'no-retries', {
      functionName: fn.functionName,
      maximumRetryAttempts: 0,
      maximumEventAgeInSeconds: lambdaAge,
    });
  }
}
