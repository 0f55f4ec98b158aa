import 'aws-sdk-client-mock-jest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { EGRESS_BUCKET, FRAMES_BUCKET, FramesWorld, lambdaContext, sqsEvent } from '../support/frames-world';
import type { FrameResult } from '../../pipeline/results-format';

const world = new FramesWorld();
let handler: typeof import('../../functions/frame-dead-letters/handler').handler;
let worker: typeof import('../../functions/frame-worker/handler').handler;
let completion: typeof import('../../functions/completion/handler').handler;

beforeAll(async () => {
  await world.start();
  // Required after the environment is set: handlers read it once, at cold start.
  /* eslint-disable @typescript-eslint/no-require-imports */
  ({ handler } = require('../../functions/frame-dead-letters/handler') as typeof import('../../functions/frame-dead-letters/handler'));
  ({ handler: worker } = require('../../functions/frame-worker/handler') as typeof import('../../functions/frame-worker/handler'));
  ({ handler: completion } = require('../../functions/completion/handler') as typeof import('../../functions/completion/handler'));
  /* eslint-enable @typescript-eslint/no-require-imports */
});
afterAll(() => world.stop());
beforeEach(() => world.reset());

/** A run whose `frames` (unreadable) captures were counted and fanned out. */
const fannedOutRun = (frames: number) => world.fannedOutRun(completion, frames, 'not a jpeg');

const resultsOf = (text: string | undefined): FrameResult[] =>
  (text ?? '').split('\n').filter(Boolean).map((line) => JSON.parse(line) as FrameResult);

describe('the dead-letter handler', () => {
  it('counts a dead-lettered batch’s frames as failed, names them, and lets the run complete', async () => {
    const { run, messages } = await fannedOutRun(6);
    await worker(sqsEvent([messages[0]!]), lambdaContext);

    const response = await handler(sqsEvent([messages[1]!], 1), lambdaContext);

    expect(response.batchItemFailures).toEqual([]);
    const record = await world.record(run.VideoId);
    // The worker's batch: 4 unreadable JPEGs, failed; the dead-lettered batch: 2 frames, failed.
    expect(record).toMatchObject({ Status: 'COMPLETE', TotalFrames: 6, ProcessedFrames: 0, FailedFrames: 6 });
    const results = resultsOf(world.buckets.text(EGRESS_BUCKET, record.ResultsKey!));
    expect(results.map((line) => line.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(results[5]!.error).toEqual({ name: 'DeadLettered', message: expect.stringContaining('failed every delivery') });
  });

  it('counts from the results a worker wrote before it failed, and counts a batch once', async () => {
    const { run, messages } = await fannedOutRun(4);
    const written = messages[0]!.frames.map((frame) => `${JSON.stringify({ ...frame, output: { done: true } })}\n`).join('');
    world.buckets.put(FRAMES_BUCKET, `${run.RunPrefix}/batches/batch.000000.jsonl`, written);

    await handler(sqsEvent([messages[0]!]), lambdaContext);
    await handler(sqsEvent([messages[0]!]), lambdaContext);

    expect(await world.record(run.VideoId)).toMatchObject({ Status: 'COMPLETE', ProcessedFrames: 4, FailedFrames: 0 });
  });

  it('marks the run FAILED when every frame is counted but the fan-in keeps failing', async () => {
    const { run, messages } = await fannedOutRun(4);
    world.s3.on(PutObjectCommand, { Bucket: EGRESS_BUCKET }).rejects(new Error('Access Denied'));
    await worker(sqsEvent([messages[0]!]), lambdaContext);
    await world.expireFanInLease(run.VideoId);

    await handler(sqsEvent([messages[0]!]), lambdaContext);

    const record = await world.record(run.VideoId);
    expect(record.Status).toBe('FAILED');
    expect(record.Error).toEqual({ Code: 'FAN_IN_FAILED', Message: expect.stringMatching(/Every frame was counted.*Access Denied.*batches\//) });
  });

  it('leaves an unreadable message in the dead-letter queue', async () => {
    const response = await handler(sqsEvent(['{"version":7}']), lambdaContext);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'message-0' }]);
  });

  it('ignores a batch of a run that has moved on', async () => {
    const { run, messages } = await fannedOutRun(4);

    const response = await handler(sqsEvent([{ ...messages[0]!, runId: 'older-run' }]), lambdaContext);

    expect(response.batchItemFailures).toEqual([]);
    expect((await world.record(run.VideoId)).FailedFrames).toBe(0);
  });
});
