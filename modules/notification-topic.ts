import { Construct } from 'constructs';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import type { PolicyStatement } from '../pipeline/iam-policy';
import { policyDocument } from './policy-document';

export interface NotificationTopicProps {
  /** `<namePrefix>-notifications`; the key's alias is `alias/<topicName>`. */
  readonly topicName: string;
  /** Each gets an email subscription (operations.notificationEmails), confirmed by its owner. */
  readonly emails: readonly string[];
}

/**
 * The topic the pipeline's alarms (and, when configured, its outcome events) are published to,
 * encrypted with a customer managed key of its own: CloudWatch alarms and EventBridge cannot
 * publish to a topic encrypted with the AWS managed key (alias/aws/sns), whose policy cannot
 * grant them. Always created, since the alarms need it; only the subscriptions come from the
 * configuration. `restrictTo` adds the topic's and the key's policies.
 */
export class NotificationTopic extends Construct {
  readonly key: KmsKey;
  readonly topic: SnsTopic;

  constructor(scope: Construct, id: string, props: NotificationTopicProps) {
    super(scope, id);
    this.key = new KmsKey(this, 'key', {
      description: `Encrypts the ${props.topicName} topic`,
      enableKeyRotation: true,
    });
    new KmsAlias(this, 'alias', { name: `alias/${props.topicName}`, targetKeyId: this.key.keyId });
    this.topic = new SnsTopic(this, 'topic', { name: props.topicName, kmsMasterKeyId: this.key.arn });
    // Keyed by the address, so removing one address leaves the others' subscriptions alone.
    for (const email of new Set(props.emails)) {
      new SnsTopicSubscription(this, `email-${email}`, { topicArn: this.topic.arn, protocol: 'email', endpoint: email });
    }
  }

  /**
   * The topic's policy (only this stack's alarms and outcome rule may publish, TLS only) and the
   * key's (pipeline/permissions.ts), once the topic's ARN is known to the definition. The key's
   * policy is set on the key itself rather than with aws_kms_key_policy: Terraform creates the key
   * with it, so the key never has the default policy, and no second resource fights over it.
   */
  restrictTo(policies: { readonly topic: readonly PolicyStatement[]; readonly key: readonly PolicyStatement[] }): void {
    this.key.policy = policyDocument(policies.key);
    new SnsTopicPolicy(this, 'policy', { arn: this.topic.arn, policy: policyDocument(policies.topic) });
  }
}
