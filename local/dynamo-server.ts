import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import {
  type AttributeValue,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  type TableDescription,
  paginateScan,
} from '@aws-sdk/client-dynamodb';
import { JOB_TABLE_INDEXES, JOB_TABLE_KEY } from '../pipeline/job-record';

// dynalite ships no types. With `path` it keeps tables in LevelDB on disk, so the job table
// outlives the run and `frames status` can read it afterwards.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { createTableMs: number; deleteTableMs: number; path?: string }) => Server;

export interface LocalDynamoServer {
  readonly endpoint: string;
  /**
   * From now on, answers one item write in `every` (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
   * TransactWriteItems) with DynamoDB's throttling error instead of doing it; 0 stops. Fault
   * injection (local/faults/fault-plan.ts, dynamodb-throttle): the SDK's retries and the pipeline's
   * redeliveries must absorb it.
   */
  throttleItemWrites(every: number, onThrottled?: (operation: string) => void): void;
  stop(): Promise<void>;
}

const ITEM_WRITE = /\.(PutItem|UpdateItem|DeleteItem|BatchWriteItem|TransactWriteItems)$/;

/** Starts dynalite on 127.0.0.1: tables on disk under `directory`, or in memory without one. */
export async function startDynamoServer(options: { readonly directory?: string; readonly port?: number } = {}): Promise<LocalDynamoServer> {
  if (options.directory) mkdirSync(options.directory, { recursive: true });
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, path: options.directory });
  let throttleEvery = 0;
  let itemWrites = 0;
  let onThrottled: ((operation: string) => void) | undefined;
  const [dynaliteHandler] = server.listeners('request') as Array<(request: IncomingMessage, response: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    if (throttleEvery > 0 && ITEM_WRITE.test(target) && ++itemWrites % throttleEvery === 0) {
      request.resume();
      onThrottled?.(target.slice(target.lastIndexOf('.') + 1));
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: 'The level of configured provisioned throughput for the table was exceeded (injected fault: dynamodb-throttle).',
        }),
      );
      return;
    }
    dynaliteHandler(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    throttleItemWrites: (every, onThrottle) => {
      throttleEvery = every;
      itemWrites = 0;
      onThrottled = onThrottle;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Creates the job table as the stack declares it (modules/job-table.ts), unless it exists. A table
 * kept in a data directory from before the list index existed is rebuilt with it, items and all:
 * dynalite cannot add an index to a table (DynamoDB's UpdateTable can).
 */
export async function ensureJobTable(client: DynamoDBClient, tableName: string): Promise<void> {
  let existing: TableDescription | undefined;
  try {
    existing = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  // A table made before an index existed is made again with every index, its items kept.
  if (JOB_TABLE_INDEXES.every(({ name }) => existing?.GlobalSecondaryIndexes?.some((index) => index.IndexName === name))) return;
  const items: Record<string, AttributeValue>[] = [];
  if (existing) {
    for await (const page of paginateScan({ client }, { TableName: tableName, ConsistentRead: true })) items.push(...(page.Items ?? []));
    await client.send(new DeleteTableCommand({ TableName: tableName }));
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: JOB_TABLE_KEY, KeyType: 'HASH' }],
      AttributeDefinitions: [...new Set([JOB_TABLE_KEY, ...JOB_TABLE_INDEXES.flatMap((index) => [index.partitionKey, index.sortKey])])].map((name) => ({
        AttributeName: name,
        AttributeType: 'S',
      })),
      GlobalSecondaryIndexes: JOB_TABLE_INDEXES.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      })),
    }),
  );
  await untilActive(client, tableName);
  for (const item of items) await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
}

/**
 * A new table is CREATING until it (and each of its indexes) is ACTIVE; until then DynamoDB, and
 * dynalite, answer its reads ResourceNotFoundException. dynalite turns it ACTIVE on its next turn
 * of the event loop, which a loaded machine can delay past the first read.
 */
async function untilActive(client: DynamoDBClient, tableName: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const active = Table?.TableStatus === 'ACTIVE' && (Table.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
    if (active) return;
    if (Date.now() > deadline) throw new Error(`Table ${tableName} is still ${Table?.TableStatus} after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
