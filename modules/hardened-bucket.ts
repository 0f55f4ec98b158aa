import { Construct } from 'constructs';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketNotification } from '@cdktf/provider-aws/lib/s3-bucket-notification';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import type { PolicyStatement } from '../pipeline/iam-policy';
import { policyDocument } from './policy-document';

export interface HardenedBucketProps {
  /** Terraform appends a unique suffix, so names never collide across deployments. */
  readonly namePrefix: string;
  /** Objects expire this many days after creation; unset keeps them. */
  readonly expireAfterDays?: number;
  /** Objects under this prefix only expire after this many days (e.g. the pipeline's own scratch). */
  readonly expirePrefix?: { readonly prefix: string; readonly days: number };
  /** Sends every event of the bucket to EventBridge, where rules pick what they need. */
  readonly sendEventsToEventBridge?: boolean;
}

/** Days after which S3 discards the parts of an abandoned multipart upload. */
const ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS = 7;

/**
 * A private bucket: all public access blocked, ACLs disabled (bucket owner enforced), encrypted
 * by default, abandoned multipart uploads cleaned up; `restrictTo` adds its policy (TLS 1.2+ only).
 */
export class HardenedBucket extends Construct {
  readonly bucket: S3Bucket;
  private readonly publicAccess: S3BucketPublicAccessBlock;

  constructor(scope: Construct, id: string, props: HardenedBucketProps) {
    super(scope, id);

    this.bucket = new S3Bucket(this, 'bucket', { bucketPrefix: props.namePrefix });
    const bucket = this.bucket.id;

    this.publicAccess = new S3BucketPublicAccessBlock(this, 'public-access', {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'ownership', {
      bucket,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      bucket,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    });
    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      bucket,
      rule: [
        {
          id: 'abort-incomplete-multipart-uploads',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          abortIncompleteMultipartUpload: [
            { daysAfterInitiation: ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS },
          ],
        },
        ...(props.expireAfterDays === undefined
          ? []
          : [
              {
                id: 'expire-objects',
                status: 'Enabled',
                filter: [{ prefix: '' }],
                expiration: [{ days: props.expireAfterDays }],
              },
            ]),
        ...(props.expirePrefix === undefined
          ? []
          : [
              {
                id: 'expire-prefix',
                status: 'Enabled',
                filter: [{ prefix: props.expirePrefix.prefix }],
                expiration: [{ days: props.expirePrefix.days }],
              },
            ]),
      ],
    });
    if (props.sendEventsToEventBridge) {
      new S3BucketNotification(this, 'to-eventbridge', { bucket, eventbridge: true });
    }
  }

  /** The bucket's policy, from pipeline/permissions.ts (TLS only), once the bucket's ARN is known to the definition. */
  restrictTo(statements: readonly PolicyStatement[]): void {
    new S3BucketPolicy(this, 'policy', {
      bucket: this.bucket.id,
      policy: policyDocument(statements),
      // S3 rejects a policy put while the public access block is being changed.
      dependsOn: [this.publicAccess],
    });
  }
}
