import 'aws-sdk-client-mock-jest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { CreateJobCommand, ListJobsCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { objectCreatedEvent } from '../support/events';
import { runIdForUpload } from '../../functions/ingress/video-key';
import { ingressEnvironment } from '../support/ingress-environment';

/**
 * The ingress function on a long enough constant-rate MP4: it reads the header with ranged GETs
 * (If-Match pins the version), plans segments and submits one clipped job per segment, each
 * recorded as it is created; a redelivery after a crash creates only the segments' jobs not yet
 * recorded.
 */
// Small batches and segments of at least 1 s, so a 6 s video is three segments.
Object.assign(process.env, ingressEnvironment({ FRAMES_PER_MESSAGE: '4', MAX_SEGMENTS: '3', MIN_SEGMENT_SECONDS: '1' }));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../functions/ingress/handler') as typeof import('../../functions/ingress/handler');

const s3 = mockClient(S3Client);
const dynamo = mockClient(DynamoDBDocumentClient);
const mediaConvert = mockClient(MediaConvertClient);
mockClient(EventBridgeClient);

const SEGMENTS = [
  { FirstCapture: 0, Captures: 4, FirstSourceFrame: 0, EndSourceFrame: 60, FirstBatch: 0, BatchCount: 1 },
  { FirstCapture: 4, Captures: 4, FirstSourceFrame: 60, EndSourceFrame: 120, FirstBatch: 1, BatchCount: 1 },
  { FirstCapture: 8, Captures: 4, FirstSourceFrame: 120, EndSourceFrame: 180, FirstBatch: 2, BatchCount: 1 },
];

const directory = mkdtempSync(join(tmpdir(), 'ingress-segments-'));
let video: Buffer;
const RUN_ID = runIdForUpload('ingress-bucket', 'videos/drive.mp4', '617f08299329d189');

beforeAll(() => {
  // 6 s at 30 fps, its moov at the end as cameras write it.
  const path = join(directory, 'drive.mp4');
  execFileSync((require('@ffmpeg-installer/ffmpeg') as { path: string }).path, [
    '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x36:rate=30:duration=6', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', path,
  ]);
  video = readFileSync(path);
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

beforeEach(() => {
  s3.reset();
  dynamo.reset();
  mediaConvert.reset();
  s3.on(HeadObjectCommand).resolves({ ContentLength: video.length, Metadata: {} });
  s3.on(GetObjectCommand).callsFake(async (input: { Range: string }) => {
    const [, start, end] = /^bytes=(\d+)-(\d+)$/.exec(input.Range)!;
    const bytes = video.subarray(Number(start), Number(end) + 1);
    return { Body: { transformToByteArray: async () => new Uint8Array(bytes) } };
  });
  dynamo.on(PutCommand).resolves({});
  dynamo.on(UpdateCommand).resolves({ Attributes: { VideoId: 'videos/drive.mp4', RunId: RUN_ID, Status: 'SUBMITTED' } });
  let jobs = 0;
  mediaConvert.on(CreateJobCommand).callsFake(async () => ({ Job: { Id: `job-${jobs++}`, Role: 'r', Settings: {} } }));
});

test('a 6 s constant-rate MP4 becomes three clipped jobs, one a segment, each recorded as it is created', async () => {
  const outcomes = await handler(objectCreatedEvent({ key: 'videos/drive.mp4', etag: 'etag-1', size: video.length }));
  expect(outcomes).toEqual([{ outcome: 'submitted', videoId: 'videos/drive.mp4', runId: RUN_ID, jobId: 'job-0' }]);

  // The header only: ranged reads of the version the event names.
  const reads = s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input);
  expect(reads.every((read) => read.IfMatch === '"etag-1"' && /^bytes=\d+-\d+$/.test(read.Range!))).toBe(true);

  const claimed = dynamo.commandCalls(PutCommand)[0].args[0].input.Item!;
  expect(claimed).toMatchObject({
    ExtractionPlan: expect.stringMatching(/^3 segments, one MediaConvert job each/),
    FramesPerBatch: 4,
    DurationMs: 6000,
    SegmentJobs: {},
    Segments: SEGMENTS,
    SourceRateNumerator: 30,
    SourceRateDenominator: 1,
  });

  const created = mediaConvert.commandCalls(CreateJobCommand).map((call) => call.args[0].input);
  expect(created.map((job) => job.Settings!.Inputs![0].InputClippings)).toEqual([
    [{ StartTimecode: '00:00:00:00', EndTimecode: '00:00:01:29' }],
    [{ StartTimecode: '00:00:02:00', EndTimecode: '00:00:03:29' }],
    [{ StartTimecode: '00:00:04:00' }],
  ]);
  expect(created.map((job) => job.UserMetadata)).toEqual([0, 1, 2].map((segment) => ({ pipeline: 'frames', videoId: 'videos/drive.mp4', runId: RUN_ID, segment: String(segment) })));
  expect(created.map((job) => job.ClientRequestToken)).toEqual([0, 1, 2].map((segment) => `${RUN_ID}-${segment}`));
  const frameOutputs = created.map((job) => job.Settings!.OutputGroups![0]);
  expect(frameOutputs.map((group) => group.OutputGroupSettings!.FileGroupSettings!.Destination)).toEqual(
    [0, 1, 2].map((segment) => expect.stringMatching(new RegExp(`^s3://frames-bucket/.+/frames/segment-00${segment}/frame$`))),
  );
  expect(frameOutputs.map((group) => group.Outputs![0].VideoDescription!.CodecSettings!.FrameCaptureSettings!.MaxCaptures)).toEqual([4, 4, 4]);

  // Each segment's job is recorded on its own; the run's job id (segment 0's) last.
  const updates = dynamo.commandCalls(UpdateCommand).map((call) => call.args[0].input);
  expect(updates.slice(0, 3).map((update) => update.ExpressionAttributeNames)).toEqual(
    [0, 1, 2].map((segment) => expect.objectContaining({ '#SegmentJobs': 'SegmentJobs', [`#Segment${segment}`]: `Segment${segment}` })),
  );
  expect(updates[3]).toMatchObject({ ExpressionAttributeValues: expect.objectContaining({ ':setMediaConvertJobId': 'job-0' }) });
});

test('a redelivery after a crash creates only the jobs of the segments not yet recorded', async () => {
  dynamo.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
  dynamo.on(GetCommand).resolves({
    Item: {
      VideoId: 'videos/drive.mp4',
      RunId: RUN_ID,
      SourceSequencer: '617F08299329D189'.padEnd(64, '0'),
      CreatedAt: new Date().toISOString(),
      // The plan the first delivery recorded, which a redelivery follows (never a new one).
      Segments: SEGMENTS,
      SourceRateNumerator: 30,
      SourceRateDenominator: 1,
      FramesPerBatch: 4,
      SegmentJobs: { Segment0: 'job-recorded' },
      // Segment 1 already reported progress.
      Status: 'EXTRACTING',
    },
  });
  mediaConvert.on(ListJobsCommand).resolves({ Jobs: [] });

  const outcomes = await handler(objectCreatedEvent({ key: 'videos/drive.mp4', etag: 'etag-1', size: video.length }));

  expect(outcomes).toEqual([{ outcome: 'submitted', videoId: 'videos/drive.mp4', runId: RUN_ID, jobId: 'job-recorded' }]);
  expect(mediaConvert.commandCalls(CreateJobCommand).map((call) => call.args[0].input.UserMetadata!.segment)).toEqual(['1', '2']);
  // Each looked for first, by run and segment, in case the crashed delivery had created it.
  expect(mediaConvert.commandCalls(ListJobsCommand).length).toBeGreaterThanOrEqual(2);
  // The run's job id is written from EXTRACTING too: the first segments moved the run on meanwhile.
  const last = dynamo.commandCalls(UpdateCommand).at(-1)!.args[0].input;
  expect(last.ExpressionAttributeValues).toMatchObject({ ':setMediaConvertJobId': 'job-recorded', ':from1': 'EXTRACTING' });
});
