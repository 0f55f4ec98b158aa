import 'aws-sdk-client-mock-jest';
import sharp from 'sharp';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { EGRESS_BUCKET, FRAMES_BUCKET, FramesWorld, LEASE_SECONDS, TABLE, lambdaContext, sqsEvent } from '../support/frames-world';
import { type WorkerDependencies, PROCESSOR_ATTEMPTS, processFrameBatch } from '../../functions/frame-worker/process-batch';
import type { ProcessFrame } from '../../functions/frame-worker/frame-processor';
import { S3FrameStore } from '../../functions/shared/frame-store';
import { S3ResultsStore } from '../../functions/shared/results-store';
import { DynamoJobTable } from '../../functions/shared/job-table';
import type { FrameBatchMessage } from '../../pipeline/frame-message';
import type { FrameResult } from '../../pipeline/results-format';

const world = new FramesWorld();
let handler: typeof import('../../functions/frame-worker/handler').handler;
let completion: typeof import('../../functions/completion/handler').handler;
let jpeg: Buffer;

beforeAll(async () => {
  await world.start();
  // Required after the environment is set: handlers read it once, at cold start.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ({ handler } = require('../../functions/frame-worker/handler') as typeof import('../../functions/frame-worker/handler'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ({ handler: completion } = require('../../functions/completion/handler') as typeof import('../../functions/completion/handler'));
  jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 90, g: 120, b: 200 } } }).jpeg().toBuffer();
});
afterAll(() => world.stop());
beforeEach(() => world.reset());

/** A run whose `frames` JPEGs were counted and fanned out: returns the messages sent. */
const fannedOutRun = (frames: number, image: Buffer | string = jpeg) => world.fannedOutRun(completion, frames, image);

const resultsOf = (text: string | undefined): FrameResult[] =>
  (text ?? '').split('\n').filter(Boolean).map((line) => JSON.parse(line) as FrameResult);

describe('the frame worker handler', () => {
  it('processes a batch with the default processor, writes one results object and counts it once', async () => {
    const { run, messages } = await fannedOutRun(6);

    const response = await handler(sqsEvent([messages[0]!]), lambdaContext);

    expect(response.batchItemFailures).toEqual([]);
    const record = await world.record(run.VideoId);
    expect(record).toMatchObject({ Status: 'PROCESSING', ProcessedFrames: 4, FailedFrames: 0 });
    expect([...record.DoneBatches!]).toEqual([0]);
    const batchKeys = world.buckets.keys(FRAMES_BUCKET, `${run.RunPrefix}/batches/`);
    expect(batchKeys).toEqual([`${run.RunPrefix}/batches/batch.000000.jsonl`]);
    const lines = resultsOf(world.buckets.text(FRAMES_BUCKET, batchKeys[0]!));
    expect(lines.map((line) => line.index)).toEqual([0, 1, 2, 3]);
    expect(lines[1]).toEqual({
      index: 1,
      timestampMs: 500,
      key: messages[0]!.frames[1]!.key,
      output: { width: 64, height: 48, meanLuminance: expect.any(Number), sharpness: expect.any(Number), phash: expect.stringMatching(/^[0-9a-f]{16}$/) },
    });
  });

  it('a redelivered batch leaves the count unchanged and is not processed again', async () => {
    const { run, messages } = await fannedOutRun(6);
    await handler(sqsEvent([messages[0]!]), lambdaContext);
    const writesBefore = world.s3.commandCalls(PutObjectCommand).length;

    const response = await handler(sqsEvent([messages[0]!], 2), lambdaContext);

    expect(response.batchItemFailures).toEqual([]);
    expect(await world.record(run.VideoId)).toMatchObject({ ProcessedFrames: 4, FailedFrames: 0 });
    expect(world.s3.commandCalls(PutObjectCommand)).toHaveLength(writesBefore);
  });

  it('the batch that completes the count fans in: results ordered by index, a summary, COMPLETE', async () => {
    const { run, messages } = await fannedOutRun(10);

    // Out of order, as SQS delivers.
    for (const message of [messages[2]!, messages[0]!, messages[1]!]) await handler(sqsEvent([message]), lambdaContext);

    const record = await world.record(run.VideoId);
    expect(record).toMatchObject({
      Status: 'COMPLETE',
      ProcessedFrames: 10,
      FailedFrames: 0,
      ResultsBucket: EGRESS_BUCKET,
      ResultsKey: `${run.RunPrefix}/results.jsonl`,
      SummaryKey: `${run.RunPrefix}/summary.json`,
    });
    const results = resultsOf(world.buckets.text(EGRESS_BUCKET, record.ResultsKey!));
    expect(results.map((line) => line.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(results.every((line) => line.output !== undefined && line.error === undefined)).toBe(true);
    const summary = JSON.parse(world.buckets.text(EGRESS_BUCKET, record.SummaryKey!)!);
    expect(summary).toMatchObject({
      videoId: run.VideoId,
      runId: run.RunId,
      settings: { fps: '2/1', quality: 80, maxCaptures: 1000, framesPerBatch: 4 },
      frames: { total: 10, processed: 10, failed: 0, width: 1280, height: 720 },
      results: { bucket: EGRESS_BUCKET, key: record.ResultsKey },
      failedFrames: [],
    });
    expect(summary.timings.stagesMs).toMatchObject({ submit: 1000, total: expect.any(Number), fanIn: expect.any(Number) });
  });

  it('survives a crash between the last progress write and the fan-in: the redelivery finishes it', async () => {
    const { run, messages } = await fannedOutRun(4);
    // The fan-in's first write to the egress bucket fails, as if the worker died there.
    world.s3.on(PutObjectCommand, { Bucket: EGRESS_BUCKET }).rejectsOnce(new Error('connection reset'));

    const first = await handler(sqsEvent([messages[0]!]), lambdaContext);

    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'message-0' }]);
    const counted = await world.record(run.VideoId);
    expect(counted).toMatchObject({ Status: 'PROCESSING', ProcessedFrames: 4 });
    expect(counted.FanInLeaseUntil).toBeDefined();

    // SQS redelivers after the visibility timeout, six times the worker's timeout, so the lease
    // (one worker timeout) has expired by then.
    await world.expireFanInLease(run.VideoId);
    world.resetMocksKeepingObjects();
    const redelivery = await handler(sqsEvent([messages[0]!], 2), lambdaContext);

    expect(redelivery.batchItemFailures).toEqual([]);
    const record = await world.record(run.VideoId);
    expect(record).toMatchObject({ Status: 'COMPLETE', ProcessedFrames: 4, FailedFrames: 0 });
    expect(resultsOf(world.buckets.text(EGRESS_BUCKET, record.ResultsKey!))).toHaveLength(4);
  });

  it('a duplicate that arrives while another delivery holds the fan-in lease leaves it alone', async () => {
    const { run, messages } = await fannedOutRun(4);
    world.s3.on(PutObjectCommand, { Bucket: EGRESS_BUCKET }).rejectsOnce(new Error('connection reset'));
    await handler(sqsEvent([messages[0]!]), lambdaContext);

    const duplicate = await handler(sqsEvent([messages[0]!], 2), lambdaContext);

    expect(duplicate.batchItemFailures).toEqual([]);
    expect((await world.record(run.VideoId)).Status).toBe('PROCESSING');
  });

  it('reports an unreadable message (unknown contract version) as failed, so it reaches the dead-letter queue', async () => {
    const { run, messages } = await fannedOutRun(4);

    const response = await handler(sqsEvent([{ ...messages[0]!, version: 2 } as unknown as FrameBatchMessage, messages[0]!]), lambdaContext);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'message-0' }]);
    expect((await world.record(run.VideoId)).ProcessedFrames).toBe(4);
  });

  it('drops a batch of a run that was superseded', async () => {
    const { run, messages } = await fannedOutRun(4);

    const response = await handler(sqsEvent([{ ...messages[0]!, runId: 'an-older-run' }]), lambdaContext);

    expect(response.batchItemFailures).toEqual([]);
    expect((await world.record(run.VideoId)).ProcessedFrames).toBe(0);
    expect(world.buckets.keys(FRAMES_BUCKET, `${run.RunPrefix}/batches/`)).toEqual([]);
  });

  it('records a corrupt JPEG as a failed frame, with sharp’s reason, and still completes the run', async () => {
    const { run, messages } = await fannedOutRun(2, jpeg.subarray(0, 200));

    await handler(sqsEvent([messages[0]!]), lambdaContext);

    const record = await world.record(run.VideoId);
    expect(record).toMatchObject({ Status: 'COMPLETE', ProcessedFrames: 0, FailedFrames: 2 });
    const [first] = resultsOf(world.buckets.text(EGRESS_BUCKET, record.ResultsKey!));
    // libvips words it "Input buffer has corrupt header: ..." or "VipsJpeg: premature end of JPEG
    // file", depending on which of its threads met the error first (seen on a clean clone).
    expect(first!.error).toEqual({ name: 'Error', message: expect.stringMatching(/(JPEG|jpeg|premature|truncated|corrupt header).*\(failed 3 of 3 attempts\)/) });
  });
});

describe('processFrameBatch with a user processor', () => {
  const s3 = new S3Client({ region: 'us-west-2' });
  const dependencies = (processFrame: ProcessFrame): WorkerDependencies => ({
    runs: new DynamoJobTable(world.dynamo.documents, TABLE),
    frames: new S3FrameStore(s3),
    results: new S3ResultsStore(s3),
    processFrame,
    settings: { framesBucket: FRAMES_BUCKET, egressBucket: EGRESS_BUCKET, fanInLeaseMs: LEASE_SECONDS * 1000 },
    now: () => new Date(),
    pause: async () => undefined,
  });

  it('counts frames the processor keeps failing on as failed and names them; the rest are processed', async () => {
    const { run, messages } = await fannedOutRun(4);
    const calls = new Map<number, number>();
    const processor: ProcessFrame = async (frame) => {
      calls.set(frame.index, (calls.get(frame.index) ?? 0) + 1);
      if (frame.index % 2 === 1) throw new RangeError(`model cannot read frame ${frame.index}`);
      return { label: 'road', at: frame.timestampMs };
    };

    const outcome = await processFrameBatch(dependencies(processor), messages[0]!);

    expect(outcome).toMatchObject({ outcome: 'processed', processedFrames: 2, failedFrames: 2, fanIn: 'completed' });
    expect(calls).toEqual(new Map([[0, 1], [1, PROCESSOR_ATTEMPTS], [2, 1], [3, PROCESSOR_ATTEMPTS]]));
    const record = await world.record(run.VideoId);
    expect(record).toMatchObject({ Status: 'COMPLETE', ProcessedFrames: 2, FailedFrames: 2 });
    const summary = JSON.parse(world.buckets.text(EGRESS_BUCKET, record.SummaryKey!)!);
    expect(summary.failedFrames).toEqual([
      { index: 1, key: messages[0]!.frames[1]!.key, error: { name: 'RangeError', message: 'model cannot read frame 1 (failed 3 of 3 attempts)' } },
      { index: 3, key: messages[0]!.frames[3]!.key, error: { name: 'RangeError', message: 'model cannot read frame 3 (failed 3 of 3 attempts)' } },
    ]);
    expect(resultsOf(world.buckets.text(EGRESS_BUCKET, record.ResultsKey!))[2]).toMatchObject({ output: { label: 'road', at: 1000 } });
  });

  it('a processor that fails once and then succeeds loses no frame', async () => {
    const { run, messages } = await fannedOutRun(4);
    const failedOnce = new Set<number>();
    const processor: ProcessFrame = async (frame) => {
      if (!failedOnce.has(frame.index)) {
        failedOnce.add(frame.index);
        throw new Error('endpoint throttled');
      }
      return frame.index;
    };

    await processFrameBatch(dependencies(processor), messages[0]!);

    expect(await world.record(run.VideoId)).toMatchObject({ Status: 'COMPLETE', ProcessedFrames: 4, FailedFrames: 0 });
  });

  it('records a missing JPEG and an output JSON cannot hold as failed frames; nothing returned is null', async () => {
    const { run, messages } = await fannedOutRun(4);
    world.buckets.objects.delete(`${FRAMES_BUCKET}/${messages[0]!.frames[0]!.key}`);
    const processor: ProcessFrame = async (frame) => {
      if (frame.index === 1) return { big: 1n } as never;
      return frame.index === 2 ? (undefined as never) : 'ok';
    };

    await processFrameBatch(dependencies(processor), messages[0]!);

    const record = await world.record(run.VideoId);
    expect(record).toMatchObject({ ProcessedFrames: 2, FailedFrames: 2 });
    const results = resultsOf(world.buckets.text(EGRESS_BUCKET, record.ResultsKey!));
    expect(results[0]!.error).toEqual({ name: 'FrameMissing', message: expect.stringContaining('does not exist') });
    expect(results[1]!.error).toMatchObject({ name: 'OutputNotSerialisable', message: expect.stringContaining('(failed 1 of 3 attempts)') });
    expect(results[2]).toMatchObject({ output: null });
  });

  it('throws (so the message is redelivered) when the job table cannot be reached', async () => {
    const { messages } = await fannedOutRun(4);
    const unreachable = new DynamoJobTable(
      DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', region: 'us-west-2', maxAttempts: 1 })),
      TABLE,
    );

    await expect(processFrameBatch({ ...dependencies(async () => 1), runs: unreachable }, messages[0]!)).rejects.toThrow();
  });
});
