import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { JOB_TABLE_KEY } from '../pipeline/job-record';

// dynalite ships no types. With `path` it keeps tables in LevelDB on disk, so the job table
// outlives the run and `frames status` can read it afterwards.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { createTableMs: number; path?: string }) => Server;

export interface LocalDynamoServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts dynalite on 127.0.0.1: tables on disk under `directory`, or in memory without one. */
export async function startDynamoServer(options: { readonly directory?: string; readonly port?: number } = {}): Promise<LocalDynamoServer> {
  if (options.directory) mkdirSync(options.directory, { recursive: true });
  const server = dynalite({ createTableMs: 0, path: options.directory });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Creates the job table as the stack declares it (modules/job-table.ts), unless it exists. */
export async function ensureJobTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: JOB_TABLE_KEY, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: JOB_TABLE_KEY, AttributeType: 'S' }],
    }),
  );
}
