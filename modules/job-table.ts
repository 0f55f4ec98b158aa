import { Construct } from 'constructs';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { JOB_LIST_INDEX, JOB_TABLE_KEY } from '../pipeline/job-record';

export interface JobTableProps {
  readonly tableName: string;
}

/**
 * The job table: one item per video (hash key `VideoId`), on demand, encrypted, recoverable, with
 * the keys-only index `frames list` queries (runs by status, newest first: pipeline/job-record.ts).
 */
export class JobTable extends Construct {
  readonly table: DynamodbTable;

  constructor(scope: Construct, id: string, props: JobTableProps) {
    super(scope, id);
    this.table = new DynamodbTable(this, 'table', {
      name: props.tableName,
      billingMode: 'PAY_PER_REQUEST',
      hashKey: JOB_TABLE_KEY,
      attribute: [JOB_TABLE_KEY, JOB_LIST_INDEX.partitionKey, JOB_LIST_INDEX.sortKey].map((name) => ({ name, type: 'S' })),
      globalSecondaryIndex: [
        {
          name: JOB_LIST_INDEX.name,
          hashKey: JOB_LIST_INDEX.partitionKey,
          rangeKey: JOB_LIST_INDEX.sortKey,
          projectionType: 'KEYS_ONLY',
        },
      ],
      pointInTimeRecovery: { enabled: true },
      // Encrypted with the AWS managed KMS key rather than the service-owned default.
      serverSideEncryption: { enabled: true },
    });
  }
}
