import { Construct } from 'constructs';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';

/**
 * Account, partition and region of the deployment, read at plan time, so no ARN in the stack
 * hard-codes them.
 */
export class AwsContext extends Construct {
  readonly accountId: string;
  readonly partition: string;
  readonly region: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.accountId = new DataAwsCallerIdentity(this, 'caller').accountId;
    this.partition = new DataAwsPartition(this, 'partition').partition;
    this.region = new DataAwsRegion(this, 'region').region;
  }

  /** An ARN in this account and region. */
  arn(service: string, resource: string): string {
    return `arn:${this.partition}:${service}:${this.region}:${this.accountId}:${resource}`;
  }

  /** An ARN of a global service (IAM) in this account: known from a name before the resource exists. */
  globalArn(service: string, resource: string): string {
    return `arn:${this.partition}:${service}::${this.accountId}:${resource}`;
  }
}
