import { Construct } from 'constructs';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { JOB_TABLE_KEY } from '../pipeline/job-record';

export interface JobTableProps {
  readonly tableName: string;
}

/** The job table: one item per video (hash key `VideoId`), on demand, encrypted, recoverable. */
export class JobTable extends Construct {
  readonly table: DynamodbTable;

  constructor(scope: Construct, id: string, props: JobTableProps) {
    super(scope, id);
    this.table = new DynamodbTable(this, 'table', {
      name: props.tableName,
      billingMode: 'PAY_PER_REQUEST',
      hashKey: JOB_TABLE_KEY,
      attribute: [{ name: JOB_TABLE_KEY, type: 'S' }],
      pointInTimeRecovery: { enabled: true },
      // Encrypted with the AWS managed KMS key rather than the service-owned default.
      serverSideEncryption: { enabled: true },
    });
  }
}
