import { Construct } from 'constructs';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketNotification } from '@cdktf/provider-aws/lib/s3-bucket-notification';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import type { LambdaFunction } from './lambda-function';
import { denyInsecureTransport, policyDocument } from './policy-document';
import { videoUploadedPattern } from '../pipeline/definition';

export interface IngressTriggerProps {
  readonly ruleName: string;
  readonly bucket: S3Bucket;
  readonly videoSuffixes: readonly string[];
  readonly target: LambdaFunction;
  readonly failureQueue: SqsQueue;
}

/** EventBridge keeps retrying a delivery it could not make for up to a day. */
const DELIVERY_RETRY = { maximumEventAgeInSeconds: 24 * 60 * 60, maximumRetryAttempts: 185 };
/** Lambda retries a failed asynchronous invocation twice (its maximum), then gives up to the queue. */
const INVOCATION_RETRIES = 2;

/**
 * Uploads to the ingress bucket invoke the ingress function: the bucket sends every Object Created
 * event to EventBridge, and a rule that matches source, detail-type, this bucket and the video
 * suffixes targets the function. Nothing is dropped: failed deliveries and invocations that fail
 * every retry land in the failure queue.
 */
export class IngressTrigger extends Construct {
  readonly rule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: IngressTriggerProps) {
    super(scope, id);
    const fn = props.target.function;

    new S3BucketNotification(this, 'to-eventbridge', { bucket: props.bucket.id, eventbridge: true });

    this.rule = new CloudwatchEventRule(this, 'rule', {
      name: props.ruleName,
      description: 'A video landed in the ingress bucket',
      eventPattern: JSON.stringify(videoUploadedPattern(props.bucket.bucket, props.videoSuffixes)),
    });
    new CloudwatchEventTarget(this, 'target', {
      rule: this.rule.name,
      arn: fn.arn,
      retryPolicy: DELIVERY_RETRY,
      deadLetterConfig: { arn: props.failureQueue.arn },
    });
    new LambdaPermission(this, 'invoke', {
      statementId: 'AllowIngressRule',
      action: 'lambda:InvokeFunction',
      functionName: fn.functionName,
      principal: 'events.amazonaws.com',
      sourceArn: this.rule.arn,
    });
    new LambdaFunctionEventInvokeConfig(this, 'on-failure', {
      functionName: fn.functionName,
      maximumRetryAttempts: INVOCATION_RETRIES,
      destinationConfig: { onFailure: { destination: props.failureQueue.arn } },
    });

    new SqsQueuePolicy(this, 'failure-queue-policy', {
      queueUrl: props.failureQueue.url,
      policy: policyDocument([
        {
          Sid: 'UndeliverableIngressEvents',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: props.failureQueue.arn,
          Condition: { ArnEquals: { 'aws:SourceArn': this.rule.arn } },
        },
        ...denyInsecureTransport('sqs', [props.failureQueue.arn]),
      ]),
    });
  }
}
