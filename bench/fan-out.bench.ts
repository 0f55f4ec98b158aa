/**
 * `npm run bench`: the Frames issue's performance budget for a 65,000-frame video (the seed's GoPro
 * case), measured in one run with call-counting clients: the real adapters and use cases, the SDK's
 * own paginator and lib-storage, a real DynamoDB-compatible server (dynalite) for the job table,
 * and in-memory buckets and queue behind aws-sdk-client-mock. Frames are tiny placeholders and the
 * processor only counts bytes: this measures the pipeline's overhead, not image work.
 *
 * Budget: at most 70 ListObjectsV2 and 70 SendMessageBatch calls, and at most one DynamoDB write
 * per queue message plus a constant. Exits non-zero when a budget is broken. Local mode (issue 4)
 * will run the same numbers against real protocol servers.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { handleJobStateChange } from '../functions/completion/handle-job-state';
import { processFrameBatch } from '../functions/frame-worker/process-batch';
import { mapWithConcurrency } from '../functions/shared/concurrency';
import { SqsFrameQueue } from '../functions/shared/frame-queue';
import { S3FrameStore } from '../functions/shared/frame-store';
import { S3ResultsStore } from '../functions/shared/results-store';
import { DynamoJobTable } from '../functions/shared/job-table';
import type { FrameBatchMessage } from '../pipeline/frame-message';
import { frameKey, runLayout } from '../pipeline/run-layout';
import { DEFAULT_STACK_CONFIG } from '../pipeline/stack-config';
import { startLocalDynamo } from '../test/support/dynalite';
import { FakeBuckets } from '../test/support/fake-buckets';

const FRAMES = 65_000;
const BUDGET = { listCalls: 70, sendCalls: 70, writesPerMessagePlus: 5 };
const FRAMES_BUCKET = 'frames';
const EGRESS_BUCKET = 'egress';
/** Workers running at once, as the event source mapping would start them. */
const WORKERS = 16;

async function main(): Promise<void> {
  const framesPerMessage = DEFAULT_STACK_CONFIG.processing.framesPerMessage;
  const dynamo = await startLocalDynamo();
  await dynamo.createJobTable('jobs');
  const base = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  const writes = { count: 0 };
  base.middlewareStack.add(
    (next, context) => async (args) => {
      if (/^(PutItem|UpdateItem|DeleteItem|BatchWriteItem|TransactWriteItems)Command$/.test(context.commandName ?? '')) writes.count += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countWrites' },
  );
  const documents = DynamoDBDocumentClient.from(base);

  const s3Mock = mockClient(S3Client);
  const buckets = new FakeBuckets(s3Mock);
  const sqsMock = mockClient(SQSClient);
  const queued: FrameBatchMessage[] = [];
  sqsMock.on(SendMessageBatchCommand).callsFake(async (input) => {
    for (const entry of input.Entries) queued.push(JSON.parse(entry.MessageBody));
    return { Successful: input.Entries.map((entry: { Id: string }) => ({ Id: entry.Id })), Failed: [] };
  });

  const layout = runLayout('gopro-0123456789ab/run1');
  for (let index = 0; index < FRAMES; index += 1) buckets.put(FRAMES_BUCKET, frameKey(layout.framesPrefix, index), 'jpg');
  await documents.send(
    new PutCommand({
      TableName: 'jobs',
      Item: {
        VideoId: 'GOPR0001.MP4', RunId: 'run1', Status: 'EXTRACTING', SourceBucket: 'in', SourceKey: 'GOPR0001.MP4', SourceETag: 'e',
        SourceSize: 1, SourceSequencer: '0', RunPrefix: layout.runPrefix, FramesPrefix: layout.framesPrefix, FpsNumerator: 30000,
        FpsDenominator: 1001, Quality: 80, MaxCaptures: 1_000_000, MediaConvertJobId: 'job-1',
        CreatedAt: new Date().toISOString(), UpdatedAt: new Date().toISOString(),
      },
    }),
  );
  const writesBefore = writes.count;

  const s3 = new S3Client({ region: 'us-east-1' });
  const settings = { framesBucket: FRAMES_BUCKET, egressBucket: EGRESS_BUCKET, framesPerMessage, fanInLeaseMs: 180_000 };
  const runs = new DynamoJobTable(documents, 'jobs');
  const results = new S3ResultsStore(s3);
  const now = () => new Date();

  const startedAt = performance.now();
  const outcome = await handleJobStateChange(
    {
      runs,
      frames: new S3FrameStore(s3),
      results,
      queue: new SqsFrameQueue(new SQSClient({ region: 'us-east-1' }), 'queue'),
      // One job: nothing to cancel.
      mediaConvert: { cancelJob: async () => undefined },
      settings,
      now,
    },
    {
      status: 'COMPLETE', jobId: 'job-1', videoId: 'GOPR0001.MP4', runId: 'run1',
      outputs: [{ paths: [`s3://${FRAMES_BUCKET}/${frameKey(layout.framesPrefix, FRAMES - 1)}`], durationMs: 2_168_833, widthPx: 1920, heightPx: 1080 }],
    },
  );
  const completedAt = performance.now();

  const worker = { runs, frames: new S3FrameStore(s3), results, settings, now, processFrame: async (_: unknown, image: Buffer) => image.length };
  const outcomes = await mapWithConcurrency(queued, WORKERS, (message) => processFrameBatch(worker, message));
  const processedAt = performance.now();
  const record = await runs.get('GOPR0001.MP4');

  const listCalls = s3Mock.commandCalls(ListObjectsV2Command).length;
  const sendCalls = sqsMock.commandCalls(SendMessageBatchCommand).length;
  const runWrites = writes.count - writesBefore;
  const messages = queued.length;
  const resultLines = (buckets.text(EGRESS_BUCKET, layout.resultsKey) ?? '').split('\n').filter(Boolean).length;

  const rows: [string, number, string, string][] = [
    ['ListObjectsV2 calls', listCalls, `<= ${BUDGET.listCalls}`, (listCalls / BUDGET.listCalls).toFixed(2)],
    ['SendMessageBatch calls', sendCalls, `<= ${BUDGET.sendCalls}`, (sendCalls / BUDGET.sendCalls).toFixed(2)],
    ['DynamoDB writes', runWrites, `<= ${messages} + ${BUDGET.writesPerMessagePlus}`, `${(runWrites / messages).toFixed(3)} per message`],
    ['  a write per frame would be', FRAMES, '', `${(runWrites / FRAMES).toFixed(4)} of it`],
  ];
  console.log(`\n${FRAMES.toLocaleString('en')} frames, ${framesPerMessage} frames a message, ${messages} messages, ${WORKERS} workers at once\n`);
  for (const [name, value, budget, ratio] of rows) {
    console.log(`${name.padEnd(30)}${value.toLocaleString('en').padStart(8)}  ${budget.padEnd(16)}${ratio}`);
  }
  console.log(`\ncompletion (count + fan-out)    ${((completedAt - startedAt) / 1000).toFixed(2)} s`);
  console.log(`workers + fan-in                ${((processedAt - completedAt) / 1000).toFixed(2)} s`);
  console.log(`final status ${record?.Status}, processed ${record?.ProcessedFrames}, failed ${record?.FailedFrames}, results lines ${resultLines}, completion outcome ${outcome.outcome}`);
  console.log(`fan-ins that ran: ${outcomes.filter((o) => o.fanIn === 'completed').length}\n`);

  await dynamo.stop();
  const broken = [
    listCalls > BUDGET.listCalls && 'ListObjectsV2 calls',
    sendCalls > BUDGET.sendCalls && 'SendMessageBatch calls',
    runWrites > messages + BUDGET.writesPerMessagePlus && 'DynamoDB writes',
    (record?.Status !== 'COMPLETE' || record.ProcessedFrames !== FRAMES || resultLines !== FRAMES) && 'completeness',
  ].filter(Boolean);
  if (broken.length > 0) {
    console.error(`Budget broken: ${broken.join(', ')}`);
    process.exit(1);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
