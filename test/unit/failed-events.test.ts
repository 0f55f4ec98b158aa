import type { SQSEvent } from 'aws-lambda';
import { FramesWorld, TABLE, lambdaContext } from '../support/frames-world';
import { objectCreatedEvent } from '../support/events';
import { runIdForUpload } from '../../functions/ingress/video-key';
import { ENV } from '../../pipeline/definition';
import type { JobRecord } from '../../pipeline/job-record';
import { REDRIVE_EVENT } from '../../pipeline/outcome-event';

/**
 * The failed-events function, through its handler, against dynalite: each failure-queue message
 * ends the run it was for (or hands it to the sweeper), keeps the event for `frames redrive`, and
 * records an event that names no run where `frames list` shows it.
 */
const world = new FramesWorld();
let handler: typeof import('../../functions/failed-events/handler').handler;

beforeAll(async () => {
  await world.start();
  process.env[ENV.ingressBucket] = 'ingress-bucket';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ({ handler } = require('../../functions/failed-events/handler') as typeof import('../../functions/failed-events/handler'));
});
afterAll(() => world.stop());
beforeEach(() => world.reset());

const INGRESS_FAILURES = 'arn:aws:sqs:us-west-2:111122223333:frames-ingress-failures';
const COMPLETION_FAILURES = 'arn:aws:sqs:us-west-2:111122223333:frames-completion-failures';
let messages = 0;

/** Lambda's on-failure destination record of an asynchronous invocation that failed every retry. */
function lambdaFailure(event: unknown, errorMessage = 'MediaConvert is unavailable') {
  return {
    version: '1.0',
    timestamp: '2026-12-01T10:00:00.000Z',
    requestContext: { requestId: 'request-1', functionArn: 'arn:aws:lambda:us-west-2:111122223333:function:frames-ingress:$LATEST', condition: 'RetriesExhausted', approximateInvokeCount: 3 },
    requestPayload: event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: 'InternalServerErrorException', errorMessage },
  };
}

function failureQueueEvent(queueArn: string, body: unknown, attributes: Record<string, string> = {}): SQSEvent {
  return {
    Records: [
      {
        messageId: `failed-${++messages}`,
        receiptHandle: 'receipt',
        body: typeof body === 'string' ? body : JSON.stringify(body),
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1', SenderId: 's', ApproximateFirstReceiveTimestamp: '1' },
        messageAttributes: Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, { stringValue: value, dataType: 'String' }])),
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: 'us-west-2',
      },
    ],
  };
}

const uploadRun = (key: string, sequencer = '617f08299329d189') => ({ videoId: key, runId: runIdForUpload('ingress-bucket', key, sequencer) });

describe('an upload the ingress function failed on every retry', () => {
  it('ends its SUBMITTED run FAILED (RETRIES_EXHAUSTED), keeps the event, and says how to redrive', async () => {
    const { videoId, runId } = uploadRun('videos/one.mp4');
    await world.submittedRun({ VideoId: videoId, RunId: runId, MediaConvertJobId: undefined });
    const event = objectCreatedEvent({ key: 'videos/one.mp4' });

    const response = await handler(failureQueueEvent(INGRESS_FAILURES, lambdaFailure(event)), lambdaContext);

    expect(response.batchItemFailures).toEqual([]);
    const record = await world.record(videoId);
    expect(record).toMatchObject({ Status: 'FAILED', FailedFrom: 'SUBMITTED', Error: { Code: 'RETRIES_EXHAUSTED' } });
    expect(record.Error?.Message).toContain('InternalServerErrorException MediaConvert is unavailable (after 3 attempts)');
    expect(record.Error?.Message).toContain('npx frames redrive videos/one.mp4');
    expect(JSON.parse(record.FailedEvent!.event)).toEqual(event);
    expect(record.FailedEvent?.target).toBe('ingress');
    expect(world.announced).toEqual([{ detailType: 'Video Frames Failed', detail: expect.objectContaining({ videoId, runId, status: 'FAILED', error: expect.objectContaining({ code: 'RETRIES_EXHAUSTED' }) }) }]);
  });

  it('records a run the function never got to write, from the event alone', async () => {
    const event = objectCreatedEvent({ key: 'videos/never.mp4' });
    await handler(failureQueueEvent(INGRESS_FAILURES, lambdaFailure(event)), lambdaContext);
    expect(await world.record('videos/never.mp4')).toMatchObject({
      RunId: uploadRun('videos/never.mp4').runId,
      Status: 'FAILED',
      FailedFrom: 'SUBMITTED',
      SourceBucket: 'ingress-bucket',
      SourceKey: 'videos/never.mp4',
      Error: { Code: 'RETRIES_EXHAUSTED' },
    });
  });

  it('keeps an event EventBridge could not deliver at all (the body is the event, the reason in attributes)', async () => {
    const event = objectCreatedEvent({ key: 'videos/undelivered.mp4' });
    await handler(failureQueueEvent(INGRESS_FAILURES, event, { ERROR_CODE: 'NO_PERMISSIONS', ERROR_MESSAGE: 'Not authorized' }), lambdaContext);
    const record = await world.record('videos/undelivered.mp4');
    expect(record.Error?.Message).toContain('EventBridge could not deliver the event: NO_PERMISSIONS Not authorized');
    expect(JSON.parse(record.FailedEvent!.event)).toEqual(event);
  });

  it('never touches a newer upload of the key, nor a run that ended', async () => {
    const newer = uploadRun('videos/again.mp4', '617f08299329d200');
    await world.submittedRun({ VideoId: newer.videoId, RunId: newer.runId, SourceSequencer: '617F08299329D200'.padEnd(64, '0') });
    await handler(failureQueueEvent(INGRESS_FAILURES, lambdaFailure(objectCreatedEvent({ key: 'videos/again.mp4' }))), lambdaContext);
    expect(await world.record(newer.videoId)).toMatchObject({ RunId: newer.runId, Status: 'SUBMITTED' });

    const done = uploadRun('videos/done.mp4');
    await world.submittedRun({ VideoId: done.videoId, RunId: done.runId, Status: 'COMPLETE' });
    await handler(failureQueueEvent(INGRESS_FAILURES, lambdaFailure(objectCreatedEvent({ key: 'videos/done.mp4' }))), lambdaContext);
    expect(await world.record(done.videoId)).toMatchObject({ Status: 'COMPLETE' });
    expect(world.announced).toEqual([]);
  });

  it('is idempotent: the same message twice writes once and announces once', async () => {
    const { videoId, runId } = uploadRun('videos/twice.mp4');
    await world.submittedRun({ VideoId: videoId, RunId: runId, MediaConvertJobId: undefined });
    const message = lambdaFailure(objectCreatedEvent({ key: 'videos/twice.mp4' }));
    await handler(failureQueueEvent(INGRESS_FAILURES, message), lambdaContext);
    const first = await world.record(videoId);
    await handler(failureQueueEvent(INGRESS_FAILURES, message), lambdaContext);
    expect(await world.record(videoId)).toEqual(first);
    expect(world.announced).toHaveLength(1);
  });

  it('a redrive that failed again keeps the run’s original event, so it can be redriven again', async () => {
    const { videoId, runId } = uploadRun('videos/redriven.mp4');
    const original = objectCreatedEvent({ key: 'videos/redriven.mp4' });
    // Resumed by a redrive: SUBMITTED again, its kept event still on the record.
    await world.submittedRun({ VideoId: videoId, RunId: runId, MediaConvertJobId: undefined, FailedEvent: { target: 'ingress', event: JSON.stringify(original), failedAt: '2026-12-01T09:00:00.000Z' } });
    const redrive = { source: REDRIVE_EVENT.source, 'detail-type': REDRIVE_EVENT.detailType, detail: { version: '1', pipeline: 'frames', videoId, runId, target: 'ingress' } };
    await handler(failureQueueEvent(INGRESS_FAILURES, lambdaFailure(redrive)), lambdaContext);
    const record = await world.record(videoId);
    expect(record).toMatchObject({ Status: 'FAILED', Error: { Code: 'RETRIES_EXHAUSTED' } });
    expect(JSON.parse(record.FailedEvent!.event)).toEqual(original);
  });

  it('keeps the event of a run the sweeper ended before it arrived, so the run can be redriven', async () => {
    const { videoId, runId } = uploadRun('videos/late.mp4');
    await world.submittedRun({ VideoId: videoId, RunId: runId, MediaConvertJobId: undefined, Status: 'FAILED', FailedFrom: 'SUBMITTED', Error: { Code: 'RUN_STALLED', Message: 'ended by the sweeper' } });
    const event = objectCreatedEvent({ key: 'videos/late.mp4' });
    await handler(failureQueueEvent(INGRESS_FAILURES, lambdaFailure(event)), lambdaContext);
    expect(await world.record(videoId)).toMatchObject({ Status: 'FAILED', Error: { Code: 'RUN_STALLED' }, FailedEvent: { target: 'ingress', event: JSON.stringify(event) } });
  });

  it('leaves a run whose job was submitted: the ingress’s part is done', async () => {
    const { videoId, runId } = uploadRun('videos/submitted.mp4');
    await world.submittedRun({ VideoId: videoId, RunId: runId, Status: 'EXTRACTING' });
    const before = await world.record(videoId);
    await handler(failureQueueEvent(INGRESS_FAILURES, lambdaFailure(objectCreatedEvent({ key: 'videos/submitted.mp4' }))), lambdaContext);
    expect(await world.record(videoId)).toEqual(before);
  });

  it('never replaces a newer clip request’s run with an older failed one (no sequencer orders them)', async () => {
    const request = { stream: 'dashcam', start: '2026-11-21T08:00:00Z', end: '2026-11-21T08:01:00Z', videoId: 'clips/one' };
    await world.submittedRun({ VideoId: 'clips/one', RunId: 'newer-run', Status: 'CLIPPING', SourceSequencer: '0'.repeat(64), MediaConvertJobId: undefined });
    await handler(failureQueueEvent(INGRESS_FAILURES, lambdaFailure({ source: 'video-frame-pipeline', 'detail-type': 'Clip Requested', id: 'old-event', detail: { pipeline: 'frames', ...request } })), lambdaContext);
    expect(await world.record('clips/one')).toMatchObject({ RunId: 'newer-run', Status: 'CLIPPING' });
  });
});

describe('events that name no run', () => {
  it.each([
    ['a clip request without a stream or range', { source: 'video-frame-pipeline', 'detail-type': 'Clip Requested', id: 'e-1', detail: { pipeline: 'frames' } }],
    ['an event of no known shape', { hello: 'world' }],
    ['a body that is not JSON', 'not json {'],
  ])('%s is recorded under unattributed/<message id>, FAILED with MALFORMED_EVENT and the event kept', async (_, event) => {
    const body = typeof event === 'string' ? event : lambdaFailure(event, 'The clip request is malformed');
    const sqs = failureQueueEvent(INGRESS_FAILURES, body);
    await handler(sqs, lambdaContext);
    const record = await world.record(`unattributed/${sqs.Records[0].messageId}`);
    expect(record).toMatchObject({ Status: 'FAILED', Error: { Code: 'MALFORMED_EVENT' } });
    expect(record.FailedEvent?.event).toBe(typeof event === 'string' ? event : JSON.stringify(event));
    // Listed by `frames list`: the ByStatus index holds it under FAILED.
    expect(await failedVideoIds()).toContain(record.VideoId);
  });
});

describe('a job state the completion function failed on every retry', () => {
  it('hands a run the sweeper can still finish to the sweeper, keeping the event', async () => {
    const run = await world.submittedRun({ Status: 'EXTRACTING' });
    const event = world.completeEvent(run, 9);
    const response = await handler(failureQueueEvent(COMPLETION_FAILURES, lambdaFailure(event, 'Task timed out')), lambdaContext);
    expect(response.batchItemFailures).toEqual([]);
    const record = await world.record(run.VideoId);
    expect(record).toMatchObject({ Status: 'EXTRACTING', RepairRequestedAt: expect.any(String), LastError: expect.stringContaining('Task timed out') });
    expect(JSON.parse(record.FailedEvent!.event)).toEqual(event);
    expect(world.announced).toEqual([]);
  });

  it('leaves a run whose frames were all sent to its workers', async () => {
    const run = await world.submittedRun({ Status: 'PROCESSING', FannedOutAt: '2026-12-01T10:00:00.000Z', TotalFrames: 10 });
    const before = await world.record(run.VideoId);
    await handler(failureQueueEvent(COMPLETION_FAILURES, lambdaFailure(world.completeEvent(run, 9))), lambdaContext);
    expect(await world.record(run.VideoId)).toEqual(before);
  });

  it('ignores a progress update: the job’s final event, or the sweeper, moves the run', async () => {
    const run = await world.submittedRun({ Status: 'EXTRACTING' });
    const before = await world.record(run.VideoId);
    await handler(failureQueueEvent(COMPLETION_FAILURES, lambdaFailure(world.statusUpdateEvent(run, 50))), lambdaContext);
    expect(await world.record(run.VideoId)).toEqual(before);
  });
});

async function failedVideoIds(): Promise<string[]> {
  const { QueryCommand } = await import('@aws-sdk/lib-dynamodb');
  const { Items = [] } = await world.dynamo.documents.send(
    new QueryCommand({ TableName: TABLE, IndexName: 'ByStatus', KeyConditionExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'Status' }, ExpressionAttributeValues: { ':s': 'FAILED' } }),
  );
  return Items.map((item) => String(item.VideoId));
}

export type { JobRecord };
