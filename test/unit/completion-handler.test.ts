import 'aws-sdk-client-mock-jest';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import sharp from 'sharp';
import { EGRESS_BUCKET, FRAMES_BUCKET, FRAMES_PER_MESSAGE, FramesWorld, QUEUE_URL, lambdaContext, sqsEvent } from '../support/frames-world';
import type { JobRecord } from '../../pipeline/job-record';
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
    // Listed by the captures' own name prefix, from the last capture's path.
    expect(world.s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: FRAMES_BUCKET, Prefix: `${run.FramesPrefix}frame` });
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
    expect(record.Error?.Message).toMatch(/reported 10 frame\(s\).*holds 7 named frame\.NNNNNNN\.jpg\. .*upload the video again/);
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

describe('COMPLETE, whatever MediaConvert named the frames', () => {
  const pad = (index: number) => String(index).padStart(7, '0');
  /** The frame worker, to follow the seed's run to its results (required after the environment is set). */
  const worker = () =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('../../functions/frame-worker/handler') as typeof import('../../functions/frame-worker/handler')).handler;

  /**
   * The seed design's COMPLETE: one output group whose destination has no base name, so MediaConvert
   * names both outputs after the input (`video.mp4` and `video<modifier>.NNNNNNN.jpg`), listed in
   * either order. `lastIndex` undefined: the frame capture captured nothing.
   */
  function oneGroupEvent(
    run: JobRecord,
    lastIndex: number | undefined,
    { order = 'mp4-first', base = 'video', modifier = '' }: { order?: 'mp4-first' | 'jpg-first'; base?: string; modifier?: string } = {},
  ) {
    const event = world.completeEvent(run, undefined);
    const destination = `s3://${FRAMES_BUCKET}/${run.FramesPrefix}`;
    const mp4 = { outputFilePaths: [`${destination}${base}.mp4`], durationInMs: 180041, videoDetails: { widthInPx: 320, heightInPx: 180 } };
    const jpg = {
      outputFilePaths: lastIndex === undefined ? [] : [`${destination}${base}${modifier}.${pad(lastIndex)}.jpg`],
      durationInMs: 185000,
      videoDetails: { widthInPx: 1280, heightInPx: 720 },
    };
    event.detail.outputGroupDetails = [{ outputDetails: order === 'mp4-first' ? [mp4, jpg] : [jpg, mp4], type: 'FILE_GROUP' }];
    return event;
  }

  /** What MediaConvert wrote for that event: the MP4 beside `count` JPEGs in the run's frames prefix. */
  function putOneGroupOutputs(run: JobRecord, count: number, image: Buffer | string = 'jpeg', base = 'video', modifier = '') {
    world.buckets.put(FRAMES_BUCKET, `${run.FramesPrefix}${base}.mp4`, 'mp4');
    for (let index = 0; index < count; index += 1) world.buckets.put(FRAMES_BUCKET, `${run.FramesPrefix}${base}${modifier}.${pad(index)}.jpg`, image);
  }

  it.each(['mp4-first', 'jpg-first'] as const)(
    'the seed’s one output group (%s): counts video.NNNNNNN.jpg, not the MP4, and the results list the real keys',
    async (order) => {
      const run = await world.submittedRun();
      const jpeg = await sharp({ create: { width: 32, height: 18, channels: 3, background: { r: 10, g: 20, b: 30 } } }).jpeg().toBuffer();
      putOneGroupOutputs(run, 10, jpeg);

      const outcome = await handler(oneGroupEvent(run, 9, { order }));

      expect(outcome).toMatchObject({ outcome: 'fanned-out', totalFrames: 10, messages: 3 });
      expect(await world.record(run.VideoId)).toMatchObject({ Status: 'PROCESSING', TotalFrames: 10, FrameWidth: 1280, FrameHeight: 720, DurationMs: 185000 });
      const keys = [...Array(10).keys()].map((index) => `${run.FramesPrefix}video.${pad(index)}.jpg`);
      expect(world.sent.flatMap((message) => message.frames.map((frame) => frame.key))).toEqual(keys);
      expect(world.s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: FRAMES_BUCKET, Prefix: `${run.FramesPrefix}video` });

      // The workers read those keys and the fan-in lists them: every frame processed, none missing.
      const workerHandler = worker();
      for (const message of world.sent) await workerHandler(sqsEvent([message]), lambdaContext);
      const record = await world.record(run.VideoId);
      expect(record).toMatchObject({ Status: 'COMPLETE', ProcessedFrames: 10, FailedFrames: 0 });
      const results = world.buckets.text(EGRESS_BUCKET, record.ResultsKey!)!.split('\n').filter(Boolean).map((line) => JSON.parse(line));
      expect(results.map((line) => line.key)).toEqual(keys);
      expect(results.every((line) => line.output !== undefined && line.error === undefined)).toBe(true);
    },
  );

  it('a name modifier (`_frame`): counts and sends video_frame.NNNNNNN.jpg', async () => {
    const run = await world.submittedRun();
    putOneGroupOutputs(run, 6, 'jpeg', 'video', '_frame');

    const outcome = await handler(oneGroupEvent(run, 5, { modifier: '_frame', order: 'jpg-first' }));

    expect(outcome).toMatchObject({ outcome: 'fanned-out', totalFrames: 6 });
    expect(world.sent.flatMap((message) => message.frames.map((frame) => frame.key))).toEqual(
      [...Array(6).keys()].map((index) => `${run.FramesPrefix}video_frame.${pad(index)}.jpg`),
    );
  });

  it('counts only names of that exact base and modifier, across listing pages', async () => {
    const run = await world.submittedRun();
    const frames = 1_002; // two ListObjectsV2 pages of 1,000
    putOneGroupOutputs(run, frames, 'jpeg', 'video', '_frame');
    for (const extra of [
      'video.0000000.jpg', // the base name without the modifier
      'video_frame_small.0000000.jpg', // a longer modifier
      'video_frame.0000003.png',
      'video_frame.12.jpg', // not seven digits
      'video_frame.0001002.jpg.tmp',
      'video_frame/0000000.jpg',
      'other.0000000.jpg',
      'video_frame.mp4',
    ]) {
      world.buckets.put(FRAMES_BUCKET, `${run.FramesPrefix}${extra}`, 'not a capture of this output');
    }

    const outcome = await handler(oneGroupEvent(run, frames - 1, { modifier: '_frame' }));

    expect(outcome).toMatchObject({ outcome: 'fanned-out', totalFrames: frames });
    expect(world.s3).toHaveReceivedCommandTimes(ListObjectsV2Command, 2);
    expect((await world.record(run.VideoId)).TotalFrames).toBe(frames);
  });

  it('a gap in that naming is still a FRAME_COUNT_MISMATCH', async () => {
    const run = await world.submittedRun();
    putOneGroupOutputs(run, 5);
    world.buckets.objects.delete(`${FRAMES_BUCKET}/${run.FramesPrefix}video.${pad(2)}.jpg`);
    world.buckets.put(FRAMES_BUCKET, `${run.FramesPrefix}video.${pad(5)}.jpg`, 'jpeg');

    await handler(oneGroupEvent(run, 4));

    const record = await world.record(run.VideoId);
    expect(record.Error).toMatchObject({ Code: 'FRAME_COUNT_MISMATCH', Message: expect.stringMatching(/first missing or extra index 2/) });
  });

  it('the seed’s one output group with nothing captured: COMPLETE with 0 frames', async () => {
    const run = await world.submittedRun();
    world.buckets.put(FRAMES_BUCKET, `${run.FramesPrefix}video.mp4`, 'mp4');

    const outcome = await handler(oneGroupEvent(run, undefined, { order: 'jpg-first' }));

    expect(outcome).toMatchObject({ outcome: 'completed', totalFrames: 0 });
    expect((await world.record(run.VideoId)).Status).toBe('COMPLETE');
  });

  it('no capture reported but captures in the frames prefix: FRAME_COUNT_MISMATCH, never an empty COMPLETE', async () => {
    const run = await world.submittedRun();
    putOneGroupOutputs(run, 3);

    const outcome = await handler(oneGroupEvent(run, undefined));

    expect(outcome?.outcome).toBe('failed');
    const record = await world.record(run.VideoId);
    expect(record).toMatchObject({ Status: 'FAILED', Error: { Code: 'FRAME_COUNT_MISMATCH' } });
    expect(record.Error!.Message).toMatch(/reported 0 frame\(s\) but .* holds 3/);
    expect(world.sent).toEqual([]);
  });

  it.each([
    ['a JPEG path without the 7-digit counter', ['video.mp4', 'video.jpg']],
    ['only paths that are not frame captures', ['video.mp4', 'video.m3u8']],
  ])('%s: FAILED with FRAME_OUTPUT_UNRECOGNISED and what to check, never an empty COMPLETE', async (_, names) => {
    const run = await world.submittedRun();
    for (const name of names) world.buckets.put(FRAMES_BUCKET, `${run.FramesPrefix}${name}`, 'bytes');
    const event = oneGroupEvent(run, undefined);
    event.detail.outputGroupDetails[0].outputDetails = names.map((name) => ({
      outputFilePaths: [`s3://${FRAMES_BUCKET}/${run.FramesPrefix}${name}`],
      durationInMs: 185000,
    }));

    const outcome = await handler(event);

    expect(outcome?.outcome).toBe('failed');
    const record = await world.record(run.VideoId);
    expect(record.Status).toBe('FAILED');
    expect(record.Error?.Code).toBe('FRAME_OUTPUT_UNRECOGNISED');
    expect(record.Error?.Message).toContain(`s3://${FRAMES_BUCKET}/${run.FramesPrefix}${names[1]}`);
    expect(record.Error?.Message).toMatch(/<base name><name modifier>\.NNNNNNN\.jpg.*job template.*upload the video again/);
    expect(world.sent).toEqual([]);
  });

  it('captures outside the run’s frames prefix: FAILED with FRAME_OUTPUT_UNRECOGNISED naming both places', async () => {
    const run = await world.submittedRun();
    const elsewhere = `s3://${FRAMES_BUCKET}/${run.RunPrefix}/proxy/video.0000004.jpg`;
    const event = oneGroupEvent(run, undefined);
    event.detail.outputGroupDetails[0].outputDetails.push({ outputFilePaths: [elsewhere], durationInMs: 185000 });

    await handler(event);

    const record = await world.record(run.VideoId);
    expect(record.Error?.Code).toBe('FRAME_OUTPUT_UNRECOGNISED');
    expect(record.Error?.Message).toContain(elsewhere);
    expect(record.Error?.Message).toContain(`s3://${FRAMES_BUCKET}/${run.FramesPrefix}`);
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
