import { Construct } from 'constructs';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { JOB_TABLE_INDEXES, JOB_TABLE_KEY } from '../pipeline/job-record';

export interface JobTableProps {
  readonly tableName: string;
}

/**
 * The job table: one item per video (hash key `VideoId`), on demand, encrypted, recoverable, with
 * the keys-only indexes of pipeline/job-record.ts: runs by status (`frames list`, the sweeper), and
 * runs whose outcome event is pending (the sweeper).
 */
export class JobTable extends Construct {
  readonly table: DynamodbTable;

  constructor(scope: Construct, id: string, props: JobTableProps) {
    super(scope, id);
    this.table = new DynamodbTable(this, 'table', {
      name: props.tableName,
      billingMode: 'PAY_PER_REQUEST',
      hashKey: JOB_TABLE_KEY,
      attribute: [...new Set([JOB_TABLE_KEY, ...JOB_TABLE_INDEXES.flatMap((index) => [index.partitionKey, index.sortKey])])].map((name) => ({ name, type: 'S' })),
      globalSecondaryIndex: JOB_TABLE_INDEXES.map((index) => ({
        name: index.name,
        hashKey: index.partitionKey,
        rangeKey: index.sortKey,
        projectionType: 'KEYS_ONLY',
      })),
      pointInTimeRecovery: { enabled: true },
      // Encrypted with the AWS managed KMS key rather than the service-owned default.
      serverSideEncryption: { enabled: true },
    });
  }
}
