import { Construct } from 'constructs';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import type { NotificationTopic } from './notification-topic';

export interface OutcomeNotificationsProps {
  /** `<namePrefix>-notify-outcomes`: the topic's policy admits this rule by its name. */
  readonly ruleName: string;
  /** outcomeEventPattern (pipeline/outcome-event.ts): this stack's failed runs, or all its runs. */
  readonly eventPattern: object;
  readonly topic: NotificationTopic;
}

/**
 * Sends the pipeline's outcome events ("Video Frames Completed"/"Video Frames Failed") to the
 * notifications topic, as they are: the event is the versioned contract the README documents, so
 * an email shows exactly what a program subscribing to the topic would read. EventBridge retries
 * a delivery to SNS for up to a day (its default); the topic's key lets EventBridge encrypt.
 */
export class OutcomeNotifications extends Construct {
  readonly rule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: OutcomeNotificationsProps) {
    super(scope, id);
    this.rule = new CloudwatchEventRule(this, 'rule', {
      name: props.ruleName,
      description: 'Run outcomes of this pipeline, to its notifications topic',
      eventPattern: JSON.stringify(props.eventPattern),
    });
    new CloudwatchEventTarget(this, 'target', { rule: this.rule.name, arn: props.topic.topic.arn });
  }
}
