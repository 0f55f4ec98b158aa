import 'aws-sdk-client-mock-jest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetJobCommand, MediaConvertClient, NotFoundException } from '@aws-sdk/client-mediaconvert';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { FRAMES_BUCKET, FRAMES_PER_MESSAGE, FramesWorld, TABLE, lambdaContext } from '../support/frames-world';
import { frameKey, segmentPrefix } from '../../pipeline/run-layout';
import { ENV } from '../../pipeline/definition';
import type { JobRecord } from '../../pipeline/job-record';
import { MAX_SWEEP_ATTEMPTS } from '../../functions/sweeper/repair-run';

/**
 * The sweeper, through its handler, against dynalite: each kind of stalled run is repaired with
 * the pipeline's own step or ended with a code that says why; healthy runs are left alone; the
 * runs are found through the ByStatus index, never a scan, at most SWEEP_LIMIT a pass.
 */
const world = new FramesWorld();
const mediaConvert = mockClient(MediaConvertClient);
let handler: typeof import('../../functions/sweeper/handler').handler;
const SWEEP_LIMIT = 6;
// Every job-table call the sweeper makes (the document client's), to show it never scans.
const dynamoSend = jest.spyOn(DynamoDBDocumentClient.prototype, 'send');

beforeAll(async () => {
  await world.start();
  Object.assign(process.env, {
    [ENV.stuckAfterSeconds]: '600',
    [ENV.processingStallSeconds]: '3600',
    [ENV.submittingStallSeconds]: '3600',
    [ENV.sweepLimit]: String(SWEEP_LIMIT),
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ({ handler } = require('../../functions/sweeper/handler') as typeof import('../../functions/sweeper/handler'));
});
afterAll(() => world.stop());
beforeEach(async () => {
  world.reset();
  mediaConvert.reset();
  dynamoSend.mockClear();
  // Every run a test leaves running would be swept by the next test's pass: end them first.
  await endRunningRuns();
});

const now = () => new Date().toISOString();
/** One tick of the schedule: EventBridge's "Scheduled Event". */
const sweepOnce = () =>
  handler({ source: 'aws.events', 'detail-type': 'Scheduled Event', resources: ['arn:aws:events:us-west-2:111122223333:rule/frames-sweep'], detail: {} }, lambdaContext);
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

/** GetJob's answer: never output paths (those are only in the COMPLETE event). */
function jobIs(record: JobRecord, status: string, extra: Record<string, unknown> = {}) {
  mediaConvert.on(GetJobCommand, { Id: record.MediaConvertJobId }).resolves({
    Job: {
      Id: record.MediaConvertJobId,
      Status: status as never,
      Role: 'role',
      Settings: {},
      UserMetadata: { pipeline: 'frames', videoId: record.VideoId, runId: record.RunId },
      OutputGroupDetails: [{ OutputDetails: [{ DurationInMs: 5000, VideoDetails: { WidthInPx: 320, HeightInPx: 240 } }] }],
      ...extra,
    },
  });
}

describe('a run whose MediaConvert job ended without its event being handled', () => {
  it('SUBMITTED, job COMPLETE: counts the frames MediaConvert wrote and fans them out, as the event would have', async () => {
    const run = await world.submittedRun({ UpdatedAt: minutesAgo(11) });
    world.putFrames(run, 10);
    jobIs(run, 'COMPLETE');

    const report = await sweepOnce();

    expect(report.swept).toEqual({ 'replayed-job-state': 1 });
    const record = await world.record(run.VideoId);
    expect(record).toMatchObject({ Status: 'PROCESSING', TotalFrames: 10, FrameWidth: 320, SweptAction: 'replay COMPLETE', SweepAttempts: 1 });
    expect(record.FannedOutAt).toEqual(expect.any(String));
    expect(world.sent.flatMap((message) => message.frames.map((frame) => frame.index))).toEqual([...Array(10).keys()]);
    expect(world.sent).toHaveLength(Math.ceil(10 / FRAMES_PER_MESSAGE));
  });

  it('EXTRACTING, job ERROR: FAILED with MediaConvert’s code, announced', async () => {
    const run = await world.submittedRun({ Status: 'EXTRACTING', UpdatedAt: minutesAgo(11) });
    jobIs(run, 'ERROR', { ErrorCode: 1040, ErrorMessage: 'Example error' });
    await sweepOnce();
    expect(await world.record(run.VideoId)).toMatchObject({ Status: 'FAILED', Error: { Code: 'MEDIACONVERT_ERROR', ServiceCode: 1040 } });
    expect(world.announced.map((event) => event.detailType)).toEqual(['Video Frames Failed']);
  });

  it('PROCESSING with a fan-out that stopped halfway: sends every batch again (the workers count each once)', async () => {
    const run = await world.submittedRun({ Status: 'PROCESSING', TotalFrames: 10, FramesPerBatch: FRAMES_PER_MESSAGE, BatchCount: 3, UpdatedAt: minutesAgo(11) });
    world.putFrames(run, 10);
    jobIs(run, 'COMPLETE');
    await sweepOnce();
    expect((await world.record(run.VideoId)).FannedOutAt).toEqual(expect.any(String));
    expect(world.sent.map((message) => message.batch)).toEqual([0, 1, 2]);
  });

  it('a segmented run: replays each segment whose job ended, leaves one still at work, and the run goes on', async () => {
    const segments = [
      { FirstCapture: 0, Captures: 3, FirstSourceFrame: 0, EndSourceFrame: 45, FirstBatch: 0, BatchCount: 1 },
      { FirstCapture: 3, Captures: 3, FirstSourceFrame: 45, EndSourceFrame: 90, FirstBatch: 1, BatchCount: 1 },
      { FirstCapture: 6, Captures: 4, FirstSourceFrame: 90, EndSourceFrame: 150, FirstBatch: 2, BatchCount: 1 },
    ];
    const jobs = ['segment-job-0', 'segment-job-1', 'segment-job-2'];
    const run = await world.submittedRun({
      Status: 'PROCESSING',
      MediaConvertJobId: jobs[0],
      Segments: segments,
      SegmentJobs: { Segment0: jobs[0], Segment1: jobs[1], Segment2: jobs[2] },
      FannedOutSegments: new Set([0]),
      TotalFrames: 10,
      FramesPerBatch: FRAMES_PER_MESSAGE,
      BatchCount: 3,
      UpdatedAt: minutesAgo(11),
    });
    // Segment 2's job completed (its event was lost); segment 3's is still transcoding.
    for (let index = 0; index < 3; index += 1) world.buckets.put(FRAMES_BUCKET, frameKey(segmentPrefix(run.FramesPrefix!, 1), index), 'jpeg');
    jobIs({ ...run, MediaConvertJobId: jobs[1] }, 'COMPLETE');
    jobIs({ ...run, MediaConvertJobId: jobs[2] }, 'PROGRESSING');

    const report = await sweepOnce();

    expect(report.swept).toEqual({ 'replayed-job-state': 1 });
    const record = await world.record(run.VideoId);
    expect(record).toMatchObject({ Status: 'PROCESSING', SweptAction: 'replay segment 2 COMPLETE' });
    expect([...record.FannedOutSegments!].sort()).toEqual([0, 1]);
    expect(record.FannedOutAt).toBeUndefined();
    expect(world.sent.map((message) => [message.batch, message.frames.map((frame) => frame.index)])).toEqual([[1, [3, 4, 5]]]);
  });

  it('a segmented run with every segment out counts as fanned out, even when its FannedOutAt was never written', async () => {
    const run = await world.submittedRun({
      Status: 'PROCESSING',
      Segments: [
        { FirstCapture: 0, Captures: 2, FirstSourceFrame: 0, EndSourceFrame: 30, FirstBatch: 0, BatchCount: 1 },
        { FirstCapture: 2, Captures: 2, FirstSourceFrame: 30, EndSourceFrame: 60, FirstBatch: 1, BatchCount: 1 },
      ],
      SegmentJobs: { Segment0: 'segment-job-0', Segment1: 'segment-job-1' },
      FannedOutSegments: new Set([0, 1]),
      TotalFrames: 4,
      ProcessedFrames: 2,
      FramesPerBatch: 2,
      BatchCount: 2,
      UpdatedAt: minutesAgo(70),
    });
    await sweepOnce();
    // Its batches are out at the workers, and one never came back: ended, not left "extracting".
    expect(await world.record(run.VideoId)).toMatchObject({ Status: 'FAILED', Error: { Code: 'RUN_STALLED', Message: expect.stringMatching(/2 of 4 frames were counted/) } });
    expect(mediaConvert.commandCalls(GetJobCommand)).toHaveLength(0);
  });

  it('uses the kept COMPLETE event when the failed-events function handed the run over, without waiting', async () => {
    const run = await world.submittedRun({ Status: 'EXTRACTING', UpdatedAt: now() });
    world.putFrames(run, 6);
    const event = world.completeEvent(run, 5);
    await world.dynamo.documents.send(await repairRequested(run, JSON.stringify(event)));
    jobIs(run, 'COMPLETE');
    await sweepOnce();
    const record = await world.record(run.VideoId);
    expect(record).toMatchObject({ Status: 'PROCESSING', TotalFrames: 6 });
    expect(record.RepairRequestedAt).toBeUndefined();
  });
});

describe('runs that are not stalled', () => {
  it('leaves a run that changed recently alone, without asking MediaConvert', async () => {
    const run = await world.submittedRun({ Status: 'EXTRACTING', UpdatedAt: now() });
    const before = await world.record(run.VideoId);
    await sweepOnce();
    expect(await world.record(run.VideoId)).toEqual(before);
    expect(mediaConvert).not.toHaveReceivedCommand(GetJobCommand);
  });

  it('leaves a quiet run whose MediaConvert job is still at work', async () => {
    const run = await world.submittedRun({ Status: 'EXTRACTING', UpdatedAt: minutesAgo(11) });
    jobIs(run, 'PROGRESSING');
    const before = await world.record(run.VideoId);
    await sweepOnce();
    expect(await world.record(run.VideoId)).toEqual(before);
  });

  it('waits longer for a run still being submitted, and for a fanned-out run, than for the others', async () => {
    const submitting = await world.submittedRun({ MediaConvertJobId: undefined, UpdatedAt: minutesAgo(30) });
    const fannedOut = await world.submittedRun({ Status: 'PROCESSING', TotalFrames: 10, FannedOutAt: minutesAgo(30), UpdatedAt: minutesAgo(30) });
    const before = [await world.record(submitting.VideoId), await world.record(fannedOut.VideoId)];
    await sweepOnce();
    expect([await world.record(submitting.VideoId), await world.record(fannedOut.VideoId)]).toEqual(before);
  });
});

describe('runs beyond repair end FAILED with RUN_STALLED and the reason', () => {
  it.each([
    ['a fanned-out run whose batches stopped coming back', { Status: 'PROCESSING', TotalFrames: 10, ProcessedFrames: 4, FannedOutAt: minutesAgo(90), UpdatedAt: minutesAgo(61) }, '4 of 10 frames were counted'],
    ['a run never submitted to MediaConvert', { MediaConvertJobId: undefined, UpdatedAt: minutesAgo(61) }, 'never submitted to MediaConvert'],
    ['a run still clipping long after its ingress gave up', { Status: 'CLIPPING', MediaConvertJobId: undefined, UpdatedAt: minutesAgo(61) }, 'still clipping'],
  ] as const)('%s', async (_, overrides, reason) => {
    const run = await world.submittedRun(overrides as Partial<JobRecord>);
    await sweepOnce();
    const record = await world.record(run.VideoId);
    expect(record).toMatchObject({ Status: 'FAILED', Error: { Code: 'RUN_STALLED' }, FailedFrom: (overrides as Partial<JobRecord>).Status ?? 'SUBMITTED' });
    expect(record.Error?.Message).toContain(reason);
  });

  it('a run whose job MediaConvert does not know', async () => {
    const run = await world.submittedRun({ Status: 'EXTRACTING', UpdatedAt: minutesAgo(11) });
    mediaConvert.on(GetJobCommand).rejects(new NotFoundException({ message: 'no such job', $metadata: {} }));
    await sweepOnce();
    expect((await world.record(run.VideoId)).Error?.Message).toContain(`MediaConvert does not know its job ${run.MediaConvertJobId}`);
  });

  it(`a run ${MAX_SWEEP_ATTEMPTS} repairs did not move on, keeping its event for frames redrive`, async () => {
    const run = await world.submittedRun({ Status: 'EXTRACTING', UpdatedAt: minutesAgo(11), SweepAttempts: MAX_SWEEP_ATTEMPTS, LastError: 'Task timed out' });
    await world.dynamo.documents.send(await repairRequested(run, JSON.stringify(world.completeEvent(run, 3))));
    await sweepOnce();
    const record = await world.record(run.VideoId);
    expect(record).toMatchObject({ Status: 'FAILED', Error: { Code: 'RUN_STALLED' }, FailedEvent: { target: 'completion' } });
    expect(record.Error?.Message).toContain(`npx frames redrive ${run.VideoId}`);
    expect(mediaConvert).not.toHaveReceivedCommand(GetJobCommand);
  });
});

describe('a counted run whose results were never written', () => {
  it('runs the fan-in: COMPLETE, results written, announced', async () => {
    const run = await world.submittedRun({ Status: 'PROCESSING', TotalFrames: 0, BatchCount: 0, FannedOutAt: minutesAgo(20), UpdatedAt: minutesAgo(11) });
    await sweepOnce();
    expect(await world.record(run.VideoId)).toMatchObject({ Status: 'COMPLETE', SweptAction: 'fan-in' });
    expect(world.announced.map((event) => event.detailType)).toEqual(['Video Frames Completed']);
  });
});

describe('an outcome event its function never put on the bus', () => {
  it('is announced by the sweeper once a minute has passed, and only once', async () => {
    const pending = await world.submittedRun({ Status: 'COMPLETE', AnnouncePending: 'PENDING', UpdatedAt: minutesAgo(2), CompletedAt: minutesAgo(2) });
    const fresh = await world.submittedRun({ Status: 'FAILED', AnnouncePending: 'PENDING', UpdatedAt: now(), Error: { Code: 'MEDIACONVERT_ERROR', Message: 'm' } });
    const report = await sweepOnce();
    expect(report.announced).toBe(1);
    expect(world.announced).toEqual([{ detailType: 'Video Frames Completed', detail: expect.objectContaining({ videoId: pending.VideoId, status: 'COMPLETE' }) }]);
    const announced = await world.record(pending.VideoId);
    expect(announced.AnnouncedAt).toEqual(expect.any(String));
    expect(announced.AnnouncePending).toBeUndefined();
    expect((await world.record(fresh.VideoId)).AnnouncePending).toBe('PENDING');
    await sweepOnce();
    expect(world.announced).toHaveLength(1);
  });
});

describe('a repair that fails', () => {
  it('fails the invocation (the Errors alarm), counts the attempt, and after the last attempt ends the run', async () => {
    const run = await world.submittedRun({ Status: 'EXTRACTING', UpdatedAt: minutesAgo(11) });
    mediaConvert.on(GetJobCommand).rejects(Object.assign(new Error('User is not authorized to perform: mediaconvert:GetJob'), { name: 'ForbiddenException' }));
    for (let attempt = 1; attempt <= MAX_SWEEP_ATTEMPTS; attempt += 1) {
      await expect(sweepOnce()).rejects.toThrow('1 of 1 runs could not be repaired this pass');
      expect(await world.record(run.VideoId)).toMatchObject({ Status: 'EXTRACTING', SweepAttempts: attempt, SweptAction: expect.stringContaining('not authorized') });
    }
    await sweepOnce();
    expect(await world.record(run.VideoId)).toMatchObject({ Status: 'FAILED', Error: { Code: 'RUN_STALLED', Message: expect.stringContaining(`${MAX_SWEEP_ATTEMPTS} repairs did not move it on`) } });
  });
});

describe('bounded work, through the index', () => {
  it('a backlog of healthy runs in one status does not keep the sweeper from a stalled run in another', async () => {
    for (let i = 0; i < SWEEP_LIMIT; i += 1) {
      const healthy = await world.submittedRun({ Status: 'EXTRACTING', UpdatedAt: minutesAgo(11), CreatedAt: '2026-11-01T00:00:00.000Z' });
      jobIs(healthy, 'PROGRESSING');
    }
    const stalled = await world.submittedRun({ Status: 'PROCESSING', TotalFrames: 0, BatchCount: 0, FannedOutAt: minutesAgo(20), UpdatedAt: minutesAgo(11) });
    const report = await sweepOnce();
    expect(report.examined).toBeLessThanOrEqual(SWEEP_LIMIT);
    expect(await world.record(stalled.VideoId)).toMatchObject({ Status: 'COMPLETE' });
  });

  it(`reads at most ${SWEEP_LIMIT} runs a pass and never scans; the next pass takes the rest`, async () => {
    const runs = [];
    for (let i = 0; i < SWEEP_LIMIT + 2; i += 1) runs.push(await world.submittedRun({ MediaConvertJobId: undefined, UpdatedAt: minutesAgo(61) }));
    const first = await sweepOnce();
    expect(first.examined).toBe(SWEEP_LIMIT);
    expect(first.swept).toEqual({ ended: SWEEP_LIMIT });
    const second = await sweepOnce();
    expect(second.swept).toEqual({ ended: 2 });
    for (const run of runs) expect((await world.record(run.VideoId)).Status).toBe('FAILED');
    const operations = dynamoSend.mock.calls.map(([command]) => command.constructor.name);
    expect(operations).toContain('QueryCommand');
    expect(operations).not.toContain('ScanCommand');
  });
});

async function repairRequested(run: JobRecord, event: string) {
  const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
  return new UpdateCommand({
    TableName: TABLE,
    Key: { VideoId: run.VideoId },
    UpdateExpression: 'SET RepairRequestedAt = :at, FailedEvent = :event',
    ExpressionAttributeValues: { ':at': now(), ':event': { target: 'completion', event, failedAt: now() } },
  });
}

async function endRunningRuns(): Promise<void> {
  const { QueryCommand, UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
  for (const status of ['CLIPPING', 'SUBMITTED', 'EXTRACTING', 'PROCESSING']) {
    const { Items = [] } = await world.dynamo.documents.send(
      new QueryCommand({ TableName: TABLE, IndexName: 'ByStatus', KeyConditionExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'Status' }, ExpressionAttributeValues: { ':s': status } }),
    );
    for (const item of Items) {
      await world.dynamo.documents.send(
        new UpdateCommand({ TableName: TABLE, Key: { VideoId: item.VideoId }, UpdateExpression: 'SET #s = :c', ExpressionAttributeNames: { '#s': 'Status' }, ExpressionAttributeValues: { ':c': 'COMPLETE' } }),
      );
    }
  }
}
