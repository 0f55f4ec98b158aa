import 'aws-sdk-client-mock-jest';
import { mockClient } from 'aws-sdk-client-mock';
import { CancelJobCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import sharp from 'sharp';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { EGRESS_BUCKET, FRAMES_BUCKET, FramesWorld, TABLE, lambdaContext, sqsEvent } from '../support/frames-world';
import type { JobRecord, RunSegment } from '../../pipeline/job-record';
import { frameKey, runLayout, segmentPrefix } from '../../pipeline/run-layout';

/**
 * A segmented run (pipeline/segment-plan.ts) through the completion and frame-worker handlers,
 * against dynalite: each segment's job is counted and fanned out on its own as it completes, in
 * any order, with run-wide indices, timestamps and batch numbers; the run completes only when every
 * segment's batches are counted, and one segment's failure fails the run.
 */
const world = new FramesWorld();
const mediaConvert = mockClient(MediaConvertClient);
let completion: typeof import('../../functions/completion/handler').handler;
let worker: typeof import('../../functions/frame-worker/handler').handler;
let jpeg: Buffer;

beforeAll(async () => {
  await world.start();
  /* eslint-disable @typescript-eslint/no-require-imports */
  ({ handler: completion } = require('../../functions/completion/handler') as typeof import('../../functions/completion/handler'));
  ({ handler: worker } = require('../../functions/frame-worker/handler') as typeof import('../../functions/frame-worker/handler'));
  /* eslint-enable @typescript-eslint/no-require-imports */
  jpeg = await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 90, g: 120, b: 200 } } }).jpeg().toBuffer();
});
afterAll(() => world.stop());
beforeEach(() => {
  world.reset();
  mediaConvert.reset();
  mediaConvert.on(CancelJobCommand).resolves({});
});

/** 20 captures at 2 fps in three segments of 5, 7 and 8; 4 frames a batch (FramesWorld): batches 0-1, 2-3, 4-5. */
const SEGMENTS: RunSegment[] = [
  { FirstCapture: 0, Captures: 5, FirstSourceFrame: 0, EndSourceFrame: 75, FirstBatch: 0, BatchCount: 2 },
  { FirstCapture: 5, Captures: 7, FirstSourceFrame: 75, EndSourceFrame: 180, FirstBatch: 2, BatchCount: 2 },
  { FirstCapture: 12, Captures: 8, FirstSourceFrame: 180, EndSourceFrame: 300, FirstBatch: 4, BatchCount: 2 },
];
const JOBS = ['job-segment-0', 'job-segment-1', 'job-segment-2'];

function segmentedRun(overrides: Partial<JobRecord> = {}): Promise<JobRecord> {
  return world.submittedRun({
    MediaConvertJobId: JOBS[0],
    Segments: SEGMENTS,
    SegmentJobs: { Segment0: JOBS[0], Segment1: JOBS[1], Segment2: JOBS[2] },
    SegmentPercents: {},
    FramesPerBatch: 4,
    ...overrides,
  });
}

/** Segment `segment`'s job wrote `count` captures in its own folder, numbered from 0. */
function putSegmentFrames(run: JobRecord, segment: number, count: number): void {
  for (let index = 0; index < count; index += 1) world.buckets.put(FRAMES_BUCKET, frameKey(segmentPrefix(run.FramesPrefix!, segment), index), jpeg);
}

/** The COMPLETE event of segment `segment`'s job, its last capture at `lastIndex`. */
function segmentComplete(run: JobRecord, segment: number, lastIndex: number, jobId = JOBS[segment]) {
  const event = world.completeEvent({ ...run, FramesPrefix: segmentPrefix(run.FramesPrefix!, segment) }, lastIndex, jobId);
  event.detail.userMetadata.segment = String(segment);
  return event;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the fixtures' events are untyped JSON
function segmentEvent(event: Record<string, any>, segment: number) {
  event.detail.userMetadata.segment = String(segment);
  event.detail.jobId = JOBS[segment];
  return event;
}

test('each segment is fanned out as its job completes, in any order, with run-wide indices, timestamps and batches; the run completes once all are counted', async () => {
  const run = await segmentedRun();
  SEGMENTS.forEach((segment, index) => putSegmentFrames(run, index, segment.Captures));

  // The middle segment finishes first.
  expect(await completion(segmentComplete(run, 1, 6))).toMatchObject({ outcome: 'fanned-out', totalFrames: 7, messages: 2 });
  let record = await world.record(run.VideoId);
  expect(record).toMatchObject({ Status: 'PROCESSING', TotalFrames: 20, BatchCount: 6, FramesPerBatch: 4 });
  expect([...record.FannedOutSegments!]).toEqual([1]);
  expect(record.FirstFramesAt).toBeDefined();
  // Not fanned out, not extracted: two segments are still out.
  expect(record.FannedOutAt).toBeUndefined();
  expect(record.ExtractedAt).toBeUndefined();
  expect(world.sent.map((message) => [message.batch, message.frames.map((frame) => frame.index)])).toEqual([
    [2, [5, 6, 7, 8]],
    [3, [9, 10, 11]],
  ]);
  // Keys in the job's own numbering, timestamps in the run's: capture 5 is at 2.5 s.
  expect(world.sent[0]!.frames[0]).toEqual({ key: frameKey(segmentPrefix(run.FramesPrefix!, 1), 0), index: 5, timestampMs: 2500 });

  // A repeated COMPLETE of the same segment sends nothing more.
  expect(await completion(segmentComplete(run, 1, 6))).toMatchObject({ outcome: 'ignored' });
  expect(world.sent).toHaveLength(2);

  await completion(segmentComplete(run, 2, 7));
  await completion(segmentComplete(run, 0, 4));
  record = await world.record(run.VideoId);
  expect([...record.FannedOutSegments!].sort()).toEqual([0, 1, 2]);
  expect(record).toMatchObject({ ExtractPercent: 100, FannedOutAt: expect.any(String), ExtractedAt: expect.any(String) });
  expect(world.sent.map((message) => message.batch).sort()).toEqual([0, 1, 2, 3, 4, 5]);

  // The workers process every batch; the last one counted fans in.
  for (const message of world.sent) await worker(sqsEvent([message]), lambdaContext);
  record = await world.record(run.VideoId);
  expect(record).toMatchObject({ Status: 'COMPLETE', ProcessedFrames: 20, FailedFrames: 0 });
  const lines = world.buckets
    .text(EGRESS_BUCKET, runLayout(run.RunPrefix!).resultsKey)!
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { index: number; timestampMs: number; key: string });
  expect(lines.map((line) => line.index)).toEqual([...Array(20).keys()]);
  expect(lines.map((line) => line.timestampMs)).toEqual([...Array(20).keys()].map((index) => index * 500));
  expect(lines[12]!.key).toBe(frameKey(segmentPrefix(run.FramesPrefix!, 2), 0));
});

test("progress is the mean over the segments, and a segment's count that is not the plan's fails the run", async () => {
  const run = await segmentedRun();
  await completion(segmentEvent(world.statusUpdateEvent(run, 60), 0));
  await completion(segmentEvent(world.statusUpdateEvent(run, 30), 2));
  expect(await world.record(run.VideoId)).toMatchObject({ Status: 'EXTRACTING', ExtractPercent: 30, SegmentPercents: { Segment0: 60, Segment2: 30 } });

  // Segment 3 of 3 should capture 8 frames; its job wrote 7.
  putSegmentFrames(run, 2, 7);
  expect(await completion(segmentComplete(run, 2, 6))).toMatchObject({ outcome: 'failed' });
  expect((await world.record(run.VideoId)).Error).toEqual({
    Code: 'FRAME_COUNT_MISMATCH',
    Message: expect.stringMatching(/^Segment 3 of 3 \(captures 12\.\.19\): MediaConvert job job-segment-2 captured 7 frame\(s\) where one job over the same frames captures 8/),
  });
  expect(world.sent).toHaveLength(0);
});

test("one segment's ERROR fails the run even while another segment's frames are processing", async () => {
  const run = await segmentedRun();
  putSegmentFrames(run, 0, 5);
  await completion(segmentComplete(run, 0, 4));
  expect((await world.record(run.VideoId)).Status).toBe('PROCESSING');

  expect(await completion(segmentEvent(world.errorEvent(run), 1))).toMatchObject({ outcome: 'failed' });
  // Segment 3's job is still extracting for a run that failed: canceled, not paid for. Segment 1's
  // is done (its frames are out), segment 2's is the one that failed.
  expect(mediaConvert.commandCalls(CancelJobCommand).map((call) => call.args[0].input.Id)).toEqual([JOBS[2]]);
  const record = await world.record(run.VideoId);
  expect(record.Status).toBe('FAILED');
  expect(record.Error).toMatchObject({ Code: 'MEDIACONVERT_ERROR', Message: expect.stringMatching(/^Segment 2 of 3 \(captures 5\.\.11\): MediaConvert job job-segment-1 failed with error 1040/) });
});

test("an event of a job that is not the segment's recorded job is ignored; one the ingress has not recorded yet is retried, whatever the first segments moved the run to", async () => {
  // Still being submitted (no MediaConvertJobId yet), and EXTRACTING: segment 1 reported progress.
  const { MediaConvertJobId: _notYet, ...submitting } = await segmentedRun({ SegmentJobs: { Segment0: JOBS[0] }, Status: 'EXTRACTING' });
  await world.dynamo.documents.send(new PutCommand({ TableName: TABLE, Item: submitting }));
  const run = submitting as JobRecord;
  putSegmentFrames(run, 0, 5);
  expect(await completion(segmentComplete(run, 0, 4, 'someone-elses-job'))).toMatchObject({ outcome: 'ignored' });

  putSegmentFrames(run, 1, 7);
  await expect(completion(segmentComplete(run, 1, 6))).rejects.toMatchObject({ code: 'SEGMENT_NOT_RECORDED' });
  expect(world.sent).toHaveLength(0);
  expect((await world.record(run.VideoId)).Status).toBe('EXTRACTING');
});
