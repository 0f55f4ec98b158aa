import 'aws-sdk-client-mock-jest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  BadRequestException,
  CancelJobCommand,
  CreateJobCommand,
  InternalServerErrorException,
  ListJobsCommand,
  MediaConvertClient,
} from '@aws-sdk/client-mediaconvert';
import { GetObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { objectCreatedEvent, s3NotificationEvent } from '../support/events';
import { runIdForUpload } from '../../functions/ingress/video-key';
import { ingressEnvironment } from '../support/ingress-environment';

const environment = ingressEnvironment();
Object.assign(process.env, environment);
// Imported after the environment is set: the handler reads it once, at cold start.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../functions/ingress/handler') as typeof import('../../functions/ingress/handler');

const s3 = mockClient(S3Client);
const dynamo = mockClient(DynamoDBDocumentClient);
const mediaConvert = mockClient(MediaConvertClient);
const events = mockClient(EventBridgeClient);

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const s3Error = (status: number, name: string) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });

const SEQUENCER = '617f08299329d189';
const RUN_ID = runIdForUpload('ingress-bucket', 'videos/drive.mp4', SEQUENCER);

/** A stored record of the upload in objectCreatedEvent()'s defaults. */
const storedRecord = (overrides: Record<string, unknown> = {}) => ({
  VideoId: 'videos/drive.mp4',
  RunId: RUN_ID,
  Status: 'SUBMITTED',
  SourceSequencer: '617F08299329D189'.padEnd(64, '0'),
  CreatedAt: '2026-11-21T05:00:00.000Z',
  ...overrides,
});

/** The table already holds a record of this key: the claim fails and the read returns it. */
const givenAlreadyClaimed = (overrides: Record<string, unknown> = {}) => {
  dynamo.on(PutCommand).rejects(conditionFailed());
  dynamo.on(GetCommand).resolves({ Item: storedRecord(overrides) });
};

beforeEach(() => {
  s3.reset();
  dynamo.reset();
  mediaConvert.reset();
  events.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'event-1' }] });
  s3.on(HeadObjectCommand).resolves({ ContentLength: 2048, Metadata: {} });
  // The header probe's ranged read: these bytes are not an MP4, so the plan is one job.
  s3.on(GetObjectCommand).resolves({ Body: { transformToByteArray: async () => new TextEncoder().encode('not an mp4 header') } } as never);
  dynamo.on(PutCommand).resolves({});
  // The job table's writes answer the item after them (ReturnValues ALL_NEW).
  dynamo.on(UpdateCommand).resolves({ Attributes: { VideoId: 'videos/drive.mp4', RunId: RUN_ID, Status: 'SUBMITTED' } });
  mediaConvert.on(CreateJobCommand).resolves({ Job: { Id: 'job-1', Role: 'r', Settings: {} } });
});

describe('a new upload', () => {
  it('claims the run, submits one frame-capture job and records its id', async () => {
    const outcomes = await handler(objectCreatedEvent({ key: 'videos/drive.mp4', etag: 'etag-1' }));

    expect(outcomes).toEqual([
      { outcome: 'submitted', videoId: 'videos/drive.mp4', runId: RUN_ID, jobId: 'job-1' },
    ]);
    expect(s3).toHaveReceivedCommandWith(HeadObjectCommand, {
      Bucket: 'ingress-bucket',
      Key: 'videos/drive.mp4',
      IfMatch: '"etag-1"',
    });

    const put = dynamo.commandCalls(PutCommand)[0].args[0].input;
    expect(put.ConditionExpression).toBe('attribute_not_exists(VideoId) OR (SourceSequencer < :sequencer AND RunId <> :runId)');
    expect(put.Item).toMatchObject({
      VideoId: 'videos/drive.mp4',
      RunId: RUN_ID,
      Status: 'SUBMITTED',
      SourceBucket: 'ingress-bucket',
      SourceKey: 'videos/drive.mp4',
      SourceETag: 'etag-1',
      SourceSize: 2048,
      FpsNumerator: 2,
      FpsDenominator: 1,
      Quality: 80,
      MaxCaptures: 1000,
    });
    expect(put.Item?.FramesPrefix).toMatch(new RegExp(`^videos_drive\\.mp4-[0-9a-f]{12}/${RUN_ID}/frames/$`));

    const create = mediaConvert.commandCalls(CreateJobCommand)[0].args[0].input;
    expect(create.Role).toBe(environment.MEDIACONVERT_ROLE_ARN);
    expect(create.ClientRequestToken).toBe(RUN_ID);
    expect(create.UserMetadata).toEqual({ pipeline: 'frames', videoId: 'videos/drive.mp4', runId: RUN_ID });
    // The tag IAM checks: the ingress function may create and cancel only jobs tagged as this pipeline's.
    expect(create.Tags).toEqual({ pipeline: 'frames' });
    // Progress every 10 s, so frames watch moves on a deployed stack (MediaConvert's default is a minute).
    expect(create.StatusUpdateInterval).toBe('SECONDS_10');
    expect(create.Settings?.Inputs?.[0].FileInput).toBe('s3://ingress-bucket/videos/drive.mp4');
    expect(create.Settings?.OutputGroups?.[0].OutputGroupSettings?.FileGroupSettings?.Destination).toBe(
      `s3://frames-bucket/${put.Item?.FramesPrefix}frame`,
    );
    // A fresh claim needs no search for an earlier job.
    expect(mediaConvert).not.toHaveReceivedCommand(ListJobsCommand);

    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { VideoId: 'videos/drive.mp4' },
      ConditionExpression: '#RunId = :runId AND #Status IN (:from0) AND attribute_not_exists(#MediaConvertJobId)',
      ExpressionAttributeValues: expect.objectContaining({ ':setMediaConvertJobId': 'job-1', ':runId': RUN_ID, ':from0': 'SUBMITTED' }),
    });
  });

  it('decodes the key before using it: `+` is a space', async () => {
    const [outcome] = await handler(objectCreatedEvent({ key: 'road+trip/day%201.mp4' }));
    expect(outcome).toMatchObject({ videoId: 'road trip/day 1.mp4' });
    expect(s3).toHaveReceivedCommandWith(HeadObjectCommand, { Key: 'road trip/day 1.mp4' });
    expect(mediaConvert.commandCalls(CreateJobCommand)[0].args[0].input.Settings?.Inputs?.[0].FileInput).toBe(
      's3://ingress-bucket/road trip/day 1.mp4',
    );
  });

  it('applies overrides from the object metadata', async () => {
    s3.on(HeadObjectCommand).resolves({
      ContentLength: 10,
      Metadata: { fps: '30000/1001', quality: '95', 'max-captures': '50' },
    });
    await handler(objectCreatedEvent());
    const settings = mediaConvert.commandCalls(CreateJobCommand)[0].args[0].input.Settings;
    expect(settings?.OutputGroups?.[0].Outputs?.[0].VideoDescription?.CodecSettings?.FrameCaptureSettings).toEqual({
      FramerateNumerator: 30000,
      FramerateDenominator: 1001,
      MaxCaptures: 50,
      Quality: 95,
    });
  });

  it('submits one job per created object of classic S3 notification records', async () => {
    mediaConvert
      .on(CreateJobCommand)
      .resolvesOnce({ Job: { Id: 'job-a', Role: 'r', Settings: {} } })
      .resolvesOnce({ Job: { Id: 'job-b', Role: 'r', Settings: {} } });
    const outcomes = await handler(
      s3NotificationEvent([{ key: 'a.mp4', sequencer: '01' }, { key: 'b.mp4', sequencer: '02' }]),
    );
    expect(outcomes.map((outcome) => ['videoId' in outcome && outcome.videoId, outcome.outcome])).toEqual([
      ['a.mp4', 'submitted'],
      ['b.mp4', 'submitted'],
    ]);
    expect(mediaConvert).toHaveReceivedCommandTimes(CreateJobCommand, 2);
  });
});

describe('redelivery and re-upload', () => {
  it('does nothing for a redelivered event whose job is recorded', async () => {
    givenAlreadyClaimed({ MediaConvertJobId: 'job-1' });

    const [outcome] = await handler(objectCreatedEvent());

    expect(outcome).toEqual({ outcome: 'duplicate', videoId: 'videos/drive.mp4', runId: RUN_ID });
    expect(mediaConvert).not.toHaveReceivedCommand(CreateJobCommand);
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('does nothing for a redelivery of a run that already failed', async () => {
    givenAlreadyClaimed({ Status: 'FAILED' });
    const [outcome] = await handler(objectCreatedEvent());
    expect(outcome.outcome).toBe('duplicate');
    expect(mediaConvert).not.toHaveReceivedCommand(CreateJobCommand);
  });

  it('starts a new run, with a new token, when the key is uploaded again', async () => {
    await handler(objectCreatedEvent({ sequencer: '617f08299329d189' }));
    await handler(objectCreatedEvent({ sequencer: '617f08299329d19a' }));

    const [first, second] = mediaConvert.commandCalls(CreateJobCommand).map((call) => call.args[0].input);
    expect(first.ClientRequestToken).not.toBe(second.ClientRequestToken);
    const [firstPut, secondPut] = dynamo.commandCalls(PutCommand).map((call) => call.args[0].input);
    expect(secondPut.Item?.RunId).not.toBe(firstPut.Item?.RunId);
    expect(secondPut.ExpressionAttributeValues?.[':sequencer'] > firstPut.ExpressionAttributeValues?.[':sequencer']).toBe(true);
  });

  it('ignores a late event of an upload the key has since replaced', async () => {
    givenAlreadyClaimed({ RunId: 'a-newer-run' });
    const [outcome] = await handler(objectCreatedEvent());
    expect(outcome.outcome).toBe('superseded');
    expect(mediaConvert).not.toHaveReceivedCommand(CreateJobCommand);
  });

  it('ignores an event whose object has been overwritten (If-Match fails) without writing', async () => {
    s3.on(HeadObjectCommand).rejects(s3Error(412, 'PreconditionFailed'));
    const [outcome] = await handler(objectCreatedEvent());
    expect(outcome.outcome).toBe('superseded');
    expect(dynamo).not.toHaveReceivedAnyCommand();
  });

  it('after a crash between CreateJob and recording it, finds the job instead of creating another', async () => {
    givenAlreadyClaimed();
    mediaConvert.on(ListJobsCommand).resolves({
      Jobs: [
        { Id: 'someone-elses', Role: 'r', Settings: {}, UserMetadata: { runId: 'other' }, CreatedAt: new Date() },
        { Id: 'job-found', Role: 'r', Settings: {}, UserMetadata: { runId: RUN_ID }, CreatedAt: new Date() },
      ],
    });

    const [outcome] = await handler(objectCreatedEvent());

    expect(outcome).toMatchObject({ outcome: 'submitted', jobId: 'job-found' });
    expect(mediaConvert).toHaveReceivedCommandWith(ListJobsCommand, { Order: 'DESCENDING', Queue: 'Default' });
    expect(mediaConvert).not.toHaveReceivedCommand(CreateJobCommand);
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({ ':setMediaConvertJobId': 'job-found' }),
    });
  });

  it('after a crash before CreateJob, searches only back to the claim, then submits', async () => {
    givenAlreadyClaimed({ CreatedAt: new Date().toISOString() });
    const old = new Date(Date.now() - 60 * 60 * 1000);
    mediaConvert
      .on(ListJobsCommand)
      .resolves({ Jobs: [{ Id: 'old', Role: 'r', Settings: {}, CreatedAt: old }], NextToken: 'more' });

    const [outcome] = await handler(objectCreatedEvent());

    expect(outcome).toMatchObject({ outcome: 'submitted', jobId: 'job-1' });
    expect(mediaConvert).toHaveReceivedCommandTimes(ListJobsCommand, 1);
    expect(mediaConvert).toHaveReceivedCommandWith(CreateJobCommand, { ClientRequestToken: RUN_ID });
  });

  it('cancels its job when the run was replaced while it was submitting', async () => {
    dynamo.on(UpdateCommand).rejects(conditionFailed());
    dynamo.on(GetCommand).resolves({ Item: storedRecord({ RunId: 'a-newer-run' }) });
    const [outcome] = await handler(objectCreatedEvent());
    expect(outcome.outcome).toBe('superseded');
    expect(mediaConvert).toHaveReceivedCommandWith(CancelJobCommand, { Id: 'job-1' });
  });

  it('keeps the job a concurrent delivery of the same run recorded (same token, same job)', async () => {
    dynamo.on(UpdateCommand).rejects(conditionFailed());
    dynamo.on(GetCommand).resolves({ Item: storedRecord({ MediaConvertJobId: 'job-1' }) });
    const [outcome] = await handler(objectCreatedEvent());
    expect(outcome.outcome).toBe('submitted');
    expect(mediaConvert).not.toHaveReceivedCommand(CancelJobCommand);
  });
});

describe('bad input is recorded as FAILED with a stable code', () => {
  const failedRecord = () => dynamo.commandCalls(PutCommand)[0].args[0].input.Item;

  it.each([
    ['a key with no file name', { key: '.mp4' }, 'INVALID_KEY', /no file name before its extension/],
    ['a key with a control character', { key: 'bad%0Aname.mp4' }, 'INVALID_KEY', /control character/],
    ['a key that is not URL-encoded', { key: '100%.mp4' }, 'INVALID_KEY', /not URL-encoded/],
  ])('%s, without reading the object', async (_, options, code, message) => {
    const [outcome] = await handler(objectCreatedEvent(options));
    expect(outcome).toMatchObject({ outcome: 'failed', error: { Code: code } });
    expect(failedRecord()).toMatchObject({ Status: 'FAILED', Error: { Code: code, Message: expect.stringMatching(message) } });
    // A run rejected at once is final: its outcome event says so, with the same code.
    const [put] = events.commandCalls(PutEventsCommand);
    expect(put.args[0].input.Entries?.[0]).toMatchObject({ Source: 'video-frame-pipeline', DetailType: 'Video Frames Failed' });
    expect(JSON.parse(put.args[0].input.Entries![0].Detail!)).toMatchObject({ version: '1', pipeline: 'frames', status: 'FAILED', error: { code } });
    expect(s3).not.toHaveReceivedCommand(HeadObjectCommand);
    expect(mediaConvert).not.toHaveReceivedAnyCommand();
  });

  it.each([
    ['fps 0', { fps: '0' }, /fps "0" must be greater than zero/],
    ['fps 30/0', { fps: '30/0' }, /zero denominator/],
    ['quality 101', { quality: '101' }, /quality "101" must be a whole number from 1 to 100/],
    ['max captures -1', { 'max-captures': '-1' }, /max-captures "-1"/],
    ['a non-numeric fps', { fps: 'fast' }, /fps "fast" is not a number/],
  ])('an override out of range or malformed: %s', async (_, metadata, message) => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 10, Metadata: metadata });
    const [outcome] = await handler(objectCreatedEvent());
    expect(outcome).toMatchObject({ outcome: 'failed', error: { Code: 'INVALID_OVERRIDE' } });
    expect(failedRecord()).toMatchObject({ Status: 'FAILED', Error: { Code: 'INVALID_OVERRIDE', Message: expect.stringMatching(message) } });
    expect(mediaConvert).not.toHaveReceivedAnyCommand();
  });

  it('a zero-byte object', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 0, Metadata: {} });
    const [outcome] = await handler(objectCreatedEvent({ size: 0 }));
    expect(outcome).toMatchObject({ error: { Code: 'EMPTY_OBJECT', Message: expect.stringContaining('is empty (0 bytes)') } });
    expect(mediaConvert).not.toHaveReceivedAnyCommand();
  });

  it('an object deleted before it could be read', async () => {
    s3.on(HeadObjectCommand).rejects(s3Error(404, 'NotFound'));
    const [outcome] = await handler(objectCreatedEvent());
    expect(outcome).toMatchObject({ error: { Code: 'SOURCE_NOT_FOUND' } });
  });

  it('settings MediaConvert refuses: the claimed run becomes FAILED', async () => {
    mediaConvert.on(CreateJobCommand).rejects(
      new BadRequestException({ message: '/settings/inputs/0: bad input', $metadata: {} }),
    );
    const [outcome] = await handler(objectCreatedEvent());
    expect(outcome).toMatchObject({ outcome: 'failed', error: { Code: 'MEDIACONVERT_REJECTED' } });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      ConditionExpression: '#RunId = :runId AND #Status IN (:from0, :from1)',
      ExpressionAttributeValues: expect.objectContaining({
        ':from0': 'CLIPPING',
        ':from1': 'SUBMITTED',
        ':setStatus': 'FAILED',
        ':setError': { Code: 'MEDIACONVERT_REJECTED', Message: 'MediaConvert refused the job: /settings/inputs/0: bad input' },
      }),
    });
  });

  it('a redelivered bad upload is not recorded twice', async () => {
    const runId = runIdForUpload('ingress-bucket', '.mp4', SEQUENCER);
    givenAlreadyClaimed({ VideoId: '.mp4', RunId: runId, Status: 'FAILED' });
    const [outcome] = await handler(objectCreatedEvent({ key: '.mp4' }));
    expect(outcome).toEqual({ outcome: 'duplicate', videoId: '.mp4', runId });
    expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 1);
  });
});

describe('unexpected failures are retried, not swallowed', () => {
  it('notes the failure on the record and rethrows so EventBridge retries', async () => {
    mediaConvert.on(CreateJobCommand).rejects(
      new InternalServerErrorException({ message: 'try later', $metadata: {} }),
    );
    await expect(handler(objectCreatedEvent())).rejects.toThrow('try later');
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      UpdateExpression: 'SET #LastSubmitError = :setLastSubmitError, #UpdatedAt = :setUpdatedAt',
      ExpressionAttributeValues: expect.objectContaining({
        ':setLastSubmitError': { Code: 'SUBMIT_RETRYING', Message: expect.stringContaining('try later') },
      }),
    });
  });

  it('rethrows when S3 answers with anything but found, missing or replaced', async () => {
    s3.on(HeadObjectCommand).rejects(s3Error(403, 'Forbidden'));
    await expect(handler(objectCreatedEvent())).rejects.toThrow('Forbidden');
    expect(dynamo).not.toHaveReceivedAnyCommand();
  });

  it('rethrows an event that is not an upload, so it ends in the failure queue', async () => {
    await expect(handler({ hello: 'world' })).rejects.toThrow(/Not an S3 "Object Created" event/);
  });
});
