import 'aws-sdk-client-mock-jest';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { EGRESS_BUCKET, FRAMES_BUCKET, FRAMES_PER_MESSAGE, FramesWorld, QUEUE_URL } from '../support/frames-world';
import { frameKey } from '../../pipeline/run-layout';

const world = new FramesWorld();
let handler: typeof import('../../functions/completion/handler').handler;

beforeAll(async () => {
  await world.start();
  // Required after the environment is set: the handler reads it once, at cold start.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ({ handler } = require('../../functions/completion/handler') as typeof import('../../functions/completion/handler'));
});
afterAll(() => world.stop());
beforeEach(() => world.reset());

describe('STATUS_UPDATE', () => {
  it('moves the run to EXTRACTING with the percentage, forward only', async () => {
    const run = await world.submittedRun();

    await handler(world.statusUpdateEvent(run, 40));
    const late = await handler(world.statusUpdateEvent(run, 20));

    expect(late?.outcome).toBe('ignored');
    expect(await world.record(run.VideoId)).toMatchObject({ Status: 'EXTRACTING', ExtractPercent: 40 });
  });
});

describe('ERROR and CANCELED', () => {
  it('ERROR fails the run with MediaConvert’s code and message', async () => {
    const run = await world.submittedRun({ Status: 'EXTRACTING' });

    const outcome = await handler(world.errorEvent(run));

    expect(outcome?.outcome).toBe('failed');
    expect((await world.record(run.VideoId)).Error).toEqual({
      Code: 'MEDIACONVERT_ERROR',
      Message: `MediaConvert job ${run.MediaConvertJobId} failed with error 1040: Example error message`,
      ServiceCode: 1040,
    });
    expect((await world.record(run.VideoId)).Status).toBe('FAILED');
  });

  it('ERROR 1010 (input unreadable) adds what a person can do about it', async () => {
    const run = await world.submittedRun({ Status: 'EXTRACTING' });
    const event = world.errorEvent(run);
    Object.assign(event.detail, { errorCode: 1010, errorMessage: 'Unable to open input file [s3://in/x.mp4]: [Failed probe/open: [moov atom not found]]' });

    await handler(event);

    expect((await world.record(run.VideoId)).Error).toEqual({
      Code: 'MEDIACONVERT_ERROR',
      Message: expect.stringMatching(/error 1010: Unable to open input file.*moov atom not found\]\]\. MediaConvert could not read the upload as a video: check that it is a complete video file \(not truncated, not a still image, with a video track\) and upload it again\.$/),
      ServiceCode: 1010,
    });
  });

  it('CANCELED fails the run and says how to start again', async () => {
    const run = await world.submittedRun();

    await handler(world.canceledEvent(run));

    const record = await world.record(run.VideoId);
    expect(record.Status).toBe('FAILED');
    expect(record.Error).toMatchObject({ Code: 'MEDIACONVERT_CANCELED', Message: expect.stringMatching(/canceled.*Upload the video again/) });
  });

  it('an ERROR after the frames were counted changes nothing (status only moves forward)', async () => {
    const run = await world.submittedRun();
    world.putFrames(run, 3);
    await handler(world.completeEvent(run, 2));

    const outcome = await handler(world.errorEvent(run));

    expect(outcome?.outcome).toBe('ignored');
    expect((await world.record(run.VideoId)).Status).toBe('PROCESSING');
  });
});

describe('COMPLETE', () => {
  it('counts the frames from the last output path, verifies them by listing, and fans out batches', async () => {
    const run = await world.submittedRun({ Status: 'EXTRACTING', ExtractPercent: 60 });
    world.putFrames(run, 10);
    world.buckets.put(FRAMES_BUCKET, `${run.ProxyPrefix}proxy.mp4`, 'mp4');

    const outcome = await handler(world.completeEvent(run, 9));

    expect(outcome).toMatchObject({ outcome: 'fanned-out', totalFrames: 10, messages: 3 });
    const record = await world.record(run.VideoId);
    expect(record).toMatchObject({
      Status: 'PROCESSING',
      ExtractPercent: 100,
      TotalFrames: 10,
      ProcessedFrames: 0,
      FailedFrames: 0,
      FramesPerBatch: FRAMES_PER_MESSAGE,
      BatchCount: 3,
      FrameWidth: 1280,
      FrameHeight: 720,
      DurationMs: 185000,
    });
    expect(record.FannedOutAt).toBeDefined();
    expect(world.s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: FRAMES_BUCKET, Prefix: run.FramesPrefix });
    expect(world.sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, { QueueUrl: QUEUE_URL });
    expect(world.sent.map((message) => message.frames.map((frame) => frame.index))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(world.sent[2]).toEqual({
      version: 1,
      videoId: run.VideoId,
      runId: run.RunId,
      bucket: FRAMES_BUCKET,
      batch: 2,
      // 2 fps: one capture every 500 ms from the first frame.
      frames: [
        { key: frameKey(run.FramesPrefix!, 8), index: 8, timestampMs: 4000 },
        { key: frameKey(run.FramesPrefix!, 9), index: 9, timestampMs: 4500 },
      ],
    });
  });

  it('a duplicate COMPLETE after the fan-out sends nothing more', async () => {
    const run = await world.submittedRun();
    world.putFrames(run, 5);
    await handler(world.completeEvent(run, 4));
    const sentBefore = world.sent.length;

    const outcome = await handler(world.completeEvent(run, 4));

    expect(outcome?.outcome).toBe('ignored');
    expect(world.sent).toHaveLength(sentBefore);
  });

  it('a COMPLETE redelivered after a fan-out that crashed halfway sends every batch again', async () => {
    const run = await world.submittedRun();
    world.putFrames(run, 12);
    world.sqs.on(SendMessageBatchCommand).rejectsOnce(new Error('socket hang up'));
    await expect(handler(world.completeEvent(run, 11))).rejects.toThrow('socket hang up');
    expect((await world.record(run.VideoId)).FannedOutAt).toBeUndefined();

    world.acceptMessages();
    const outcome = await handler(world.completeEvent(run, 11));

    expect(outcome).toMatchObject({ outcome: 'fanned-out', messages: 3 });
    expect((await world.record(run.VideoId)).Status).toBe('PROCESSING');
  });

  it('an old run’s COMPLETE after a re-upload is ignored', async () => {
    const run = await world.submittedRun();
    world.putFrames(run, 3);

    const outcome = await handler(world.completeEvent(run, 2, 'job-of-the-old-run', 'old-run'));

    expect(outcome?.outcome).toBe('ignored');
    expect(world.sent).toEqual([]);
    expect((await world.record(run.VideoId)).Status).toBe('SUBMITTED');
  });

  it('a COMPLETE of another job of the same run is ignored', async () => {
    const run = await world.submittedRun();
    world.putFrames(run, 3);

    const outcome = await handler(world.completeEvent(run, 2, 'a-different-job'));

    expect(outcome?.outcome).toBe('ignored');
    expect((await world.record(run.VideoId)).Status).toBe('SUBMITTED');
  });

  it('records a mismatch between the reported count and the listing as a failure', async () => {
    const run = await world.submittedRun();
    world.putFrames(run, 7);

    const outcome = await handler(world.completeEvent(run, 9));

    expect(outcome?.outcome).toBe('failed');
    const record = await world.record(run.VideoId);
    expect(record.Status).toBe('FAILED');
    expect(record.Error?.Code).toBe('FRAME_COUNT_MISMATCH');
    expect(record.Error?.Message).toMatch(/reported 10 frame\(s\).*holds 7\. .*upload the video again/);
    expect(world.sent).toEqual([]);
  });

  it('finds a gap in the listing even when the count matches', async () => {
    const run = await world.submittedRun();
    world.putFrames(run, 4);
    world.buckets.objects.delete(`${FRAMES_BUCKET}/${frameKey(run.FramesPrefix!, 1)}`);
    world.buckets.put(FRAMES_BUCKET, frameKey(run.FramesPrefix!, 4), 'jpeg');

    await handler(world.completeEvent(run, 3));

    expect((await world.record(run.VideoId)).Error?.Message).toMatch(/first missing or extra index 1/);
  });

  it('a video with no frames goes straight to COMPLETE with empty results', async () => {
    const run = await world.submittedRun();

    const outcome = await handler(world.completeEvent(run, undefined));

    expect(outcome).toMatchObject({ outcome: 'completed', totalFrames: 0 });
    const record = await world.record(run.VideoId);
    expect(record).toMatchObject({ Status: 'COMPLETE', TotalFrames: 0, ResultsBucket: EGRESS_BUCKET });
    expect(world.buckets.text(EGRESS_BUCKET, record.ResultsKey!)).toBe('');
    expect(JSON.parse(world.buckets.text(EGRESS_BUCKET, record.SummaryKey!)!)).toMatchObject({
      frames: { total: 0, processed: 0, failed: 0 },
      failedFrames: [],
    });
    expect(world.sent).toEqual([]);
  });

  it('retries the entries SQS failed in a partial SendMessageBatch response', async () => {
    const run = await world.submittedRun();
    world.putFrames(run, 8);
    world.sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [{ Id: 'batch-0', MessageId: 'm0', MD5OfMessageBody: '' }], Failed: [{ Id: 'batch-1', Code: 'InternalError', SenderFault: false }] })
      .callsFake(async (input) => {
        for (const entry of input.Entries) world.sent.push(JSON.parse(entry.MessageBody));
        return { Successful: input.Entries.map((entry: { Id: string }) => ({ Id: entry.Id })), Failed: [] };
      });

    await handler(world.completeEvent(run, 7));

    const retry = world.sqs.commandCalls(SendMessageBatchCommand)[1]!.args[0].input;
    expect(retry.Entries?.map((entry) => entry.Id)).toEqual(['batch-1']);
    expect((await world.record(run.VideoId)).FannedOutAt).toBeDefined();
  });

  it('fails loudly when SQS rejects an entry as the sender’s fault', async () => {
    const run = await world.submittedRun();
    world.putFrames(run, 2);
    world.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [{ Id: 'batch-0', Code: 'InvalidParameterValue', SenderFault: true, Message: 'too long' }] });

    await expect(handler(world.completeEvent(run, 1))).rejects.toThrow(/did not accept 1 frame batch message.*InvalidParameterValue: too long/);
    expect(world.sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
  });
});

describe('events that are not this pipeline’s', () => {
  it('ignores a job without video and run ids, and states it does not act on', async () => {
    const run = await world.submittedRun();
    const foreign = world.statusUpdateEvent(run, 10);
    foreign.detail.userMetadata = {};
    const progressing = world.statusUpdateEvent(run, 10);
    progressing.detail.status = 'PROGRESSING';

    await expect(handler(foreign)).resolves.toBeUndefined();
    await expect(handler(progressing)).resolves.toBeUndefined();
    expect((await world.record(run.VideoId)).Status).toBe('SUBMITTED');
  });

  it('rejects an event that is not a MediaConvert job state change', async () => {
    await expect(handler({ source: 'aws.s3', 'detail-type': 'Object Created', detail: {} })).rejects.toThrow(
      /Not a "MediaConvert Job State Change" event/,
    );
  });
});
