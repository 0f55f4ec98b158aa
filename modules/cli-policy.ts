import { Construct } from 'constructs';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import type { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import type { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import type { AwsContext } from './aws-context';
import { policyDocument } from './policy-document';
import { CLIP_REQUEST_EVENT } from '../pipeline/clip-request';
import { JOB_LIST_INDEX } from '../pipeline/job-record';

export interface CliPolicyProps {
  readonly policyName: string;
  readonly context: AwsContext;
  readonly ingressBucket: S3Bucket;
  readonly egressBucket: S3Bucket;
  readonly jobTable: DynamodbTable;
}

/**
 * What the `frames` command needs against this stack, and nothing more: upload videos, read job
 * records (one, a batch, or the status index), download results, request clips on the default bus.
 * Attach it to the people's or CI's role that uses the CLI (output `cli_policy_arn`).
 */
export class CliPolicy extends Construct {
  readonly policy: IamPolicy;

  constructor(scope: Construct, id: string, props: CliPolicyProps) {
    super(scope, id);
    this.policy = new IamPolicy(this, 'policy', {
      name: props.policyName,
      description: 'Use the frames CLI with this pipeline: upload, status, watch, list, results, clip',
      policy: policyDocument([
        // PutObject also authorises the multipart calls (create, upload part, complete).
        { Sid: 'UploadVideos', Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: `${props.ingressBucket.arn}/*` },
        { Sid: 'DownloadResults', Effect: 'Allow', Action: 's3:GetObject', Resource: `${props.egressBucket.arn}/*` },
        { Sid: 'ReadJobs', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], Resource: props.jobTable.arn },
        { Sid: 'ListJobs', Effect: 'Allow', Action: 'dynamodb:Query', Resource: `${props.jobTable.arn}/index/${JOB_LIST_INDEX.name}` },
        {
          Sid: 'RequestClips',
          Effect: 'Allow',
          Action: 'events:PutEvents',
          Resource: props.context.arn('events', 'event-bus/default'),
          Condition: { StringEquals: { 'events:source': CLIP_REQUEST_EVENT.source } },
        },
      ]),
    });
  }
}
