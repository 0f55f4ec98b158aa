import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { watchJob } from '../../../cli/job-polling';
import { recentJobs } from '../../../cli/commands/list';
import { ensureJobTable } from '../../../local/dynamo-server';
import { JOB_STATUS, type JobStatus } from '../../../pipeline/job-record';
import { type LocalDynamo, startLocalDynamo } from '../../support/dynalite';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(() => dynamo.stop());

const STATUSES: JobStatus[] = [JOB_STATUS.complete, JOB_STATUS.failed, JOB_STATUS.processing, JOB_STATUS.extracting];
const createdAt = (n: number) => new Date(Date.UTC(2026, 10, 1) + n * 60_000).toISOString();

describe('recent jobs from the status index', () => {
  const table = 'list-jobs';
  beforeAll(async () => {
    await dynamo.createJobTable(table);
    // 250 runs, a minute apart, statuses in turn: more than one BatchGetItem (100 keys) and one Query page.
    const items = Array.from({ length: 250 }, (_, n) => ({
      VideoId: `video-${String(n).padStart(3, '0')}.mp4`,
      RunId: `run-${n}`,
      Status: STATUSES[n % STATUSES.length],
      CreatedAt: createdAt(n),
      UpdatedAt: createdAt(n),
    }));
    for (let i = 0; i < items.length; i += 25) {
      await dynamo.documents.send(new BatchWriteCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
    }
  });

  it('lists the newest of every status, merged, newest first', async () => {
    const jobs = await recentJobs(dynamo.documents, table, { limit: 150 });
    expect(jobs.map((job) => job.VideoId)).toEqual(Array.from({ length: 150 }, (_, i) => `video-${String(249 - i).padStart(3, '0')}.mp4`));
  });

  it('lists one status, newest first, up to the limit', async () => {
    const failed = await recentJobs(dynamo.documents, table, { status: JOB_STATUS.failed, limit: 3 });
    expect(failed.map((job) => [job.VideoId, job.Status])).toEqual([
      ['video-249.mp4', 'FAILED'],
      ['video-245.mp4', 'FAILED'],
      ['video-241.mp4', 'FAILED'],
    ]);
    expect(await recentJobs(dynamo.documents, table, { status: JOB_STATUS.clipping, limit: 5 })).toEqual([]);
  });

  it('follows a record that changed status after it was indexed: listed as it is now', async () => {
    await dynamo.documents.send(
      new UpdateCommand({ TableName: table, Key: { VideoId: 'video-248.mp4' }, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'Status' }, ExpressionAttributeValues: { ':s': 'COMPLETE' } }),
    );
    const complete = await recentJobs(dynamo.documents, table, { status: JOB_STATUS.complete, limit: 2 });
    expect(complete.map((job) => job.VideoId)).toEqual(['video-248.mp4', 'video-244.mp4']);
  });
});

test('a local job table from before the list index is rebuilt with it, keeping its records', async () => {
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  const table = 'old-jobs';
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'VideoId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'VideoId', AttributeType: 'S' }],
    }),
  );
  await dynamo.documents.send(new PutCommand({ TableName: table, Item: { VideoId: 'kept.mp4', RunId: 'r', Status: 'COMPLETE', CreatedAt: createdAt(1), TotalFrames: 7 } }));
  await ensureJobTable(client, table);
  const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
  expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['ByStatus', 'PendingAnnouncement']);
  expect(await recentJobs(dynamo.documents, table, { limit: 5 })).toEqual([expect.objectContaining({ VideoId: 'kept.mp4', TotalFrames: 7 })]);
  await ensureJobTable(client, table); // already has it: nothing changes
  expect(await recentJobs(dynamo.documents, table, { limit: 5 })).toHaveLength(1);
  client.destroy();
});

test('watch backs off by half again per unchanged read, up to its maximum, and starts over on a change', async () => {
  const table = 'watched-jobs';
  await dynamo.createJobTable(table);
  const put = (status: string) =>
    dynamo.documents.send(new PutCommand({ TableName: table, Item: { VideoId: 'v.mp4', RunId: 'r', Status: status, CreatedAt: createdAt(0) } }));
  await put('PROCESSING');
  const delays: number[] = [];
  const updates: string[] = [];
  await watchJob({
    dynamodb: dynamo.documents,
    table,
    videoId: 'v.mp4',
    pollMs: 10,
    maxPollMs: 40,
    onUpdate: (record) => updates.push(record.Status),
    onPoll: (delay) => {
      delays.push(delay);
      if (delays.length === 6) void put('EXTRACTING');
      if (delays.length === 8) void put('COMPLETE');
    },
  });
  // First read: a change (10). Then 15, 23, 35, 40, 40; the change read resets to 10, then 15.
  expect(delays.slice(0, 6)).toEqual([10, 15, 23, 35, 40, 40]);
  expect(delays[6]).toBe(10);
  expect(updates).toEqual(['PROCESSING', 'EXTRACTING', 'COMPLETE']);
});
