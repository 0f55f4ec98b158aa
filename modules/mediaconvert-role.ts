import { Construct } from 'constructs';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import type { AwsContext } from './aws-context';
import { policyDocument } from './policy-document';

export const MEDIACONVERT_SERVICE = 'mediaconvert.amazonaws.com';

export interface MediaConvertRoleProps {
  readonly roleName: string;
  readonly context: AwsContext;
  readonly inputBucket: S3Bucket;
  readonly outputBucket: S3Bucket;
}

/**
 * The role MediaConvert assumes to run this stack's jobs: read videos from the ingress bucket,
 * write frames and proxies to the frames bucket, nothing else. Only MediaConvert acting for this
 * account in this region may assume it (confused-deputy protection).
 */
export class MediaConvertRole extends Construct {
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: MediaConvertRoleProps) {
    super(scope, id);
    const { context } = props;

    this.role = new IamRole(this, 'role', {
      name: props.roleName,
      description: 'Assumed by MediaConvert to split uploaded videos into frames',
      assumeRolePolicy: policyDocument([
        {
          Effect: 'Allow',
          Principal: { Service: MEDIACONVERT_SERVICE },
          Action: 'sts:AssumeRole',
          Condition: {
            StringEquals: { 'aws:SourceAccount': context.accountId },
            ArnLike: { 'aws:SourceArn': context.arn('mediaconvert', '*') },
          },
        },
      ]),
    });

    new IamRolePolicy(this, 'access', {
      name: 'read-videos-write-frames',
      role: this.role.id,
      policy: policyDocument([
        { Sid: 'ReadVideos', Effect: 'Allow', Action: 's3:GetObject', Resource: `${props.inputBucket.arn}/*` },
        { Sid: 'WriteFrames', Effect: 'Allow', Action: 's3:PutObject', Resource: `${props.outputBucket.arn}/*` },
      ]),
    });
  }
}
