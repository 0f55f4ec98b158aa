import 'aws-sdk-client-mock-jest';
import { Readable } from 'node:stream';
import { mockClient } from 'aws-sdk-client-mock';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { frameBatchMessages } from '../../functions/completion/frame-batches';
import { MalformedClipRequestError, clipDeliveryOf } from '../../functions/ingress/clip-requests';
import { S3ObjectStore } from '../../functions/shared/object-store';
import { CLIP_REQUEST_EVENT } from '../../pipeline/clip-request';
import { producerTimestampAt } from '../../pipeline/clip-timeline';

const NOW = new Date('2026-11-21T09:00:00Z');
const request = { stream: 'front-camera', start: '2026-11-21T08:00:30Z', end: '2026-11-21T08:01:15Z' };

describe('clip requests at the handler boundary', () => {
  it('takes an EventBridge "Clip Requested" event, with the event id as the request id', () => {
    const delivery = clipDeliveryOf(
      { id: 'evt-1', source: CLIP_REQUEST_EVENT.source, 'detail-type': CLIP_REQUEST_EVENT.detailType, detail: { pipeline: 'frames', ...request } },
      'lambda-request',
      NOW,
    );
    expect(delivery).toMatchObject({ requestId: 'evt-1', request: { stream: 'front-camera' } });
  });

  it('takes a direct invocation, with its own request id, else Lambda\'s (which Lambda keeps on retries)', () => {
    expect(clipDeliveryOf({ ...request, requestId: 'mine' }, 'lambda-request', NOW)?.requestId).toBe('mine');
    expect(clipDeliveryOf(request, 'lambda-request', NOW)?.requestId).toBe('lambda-request');
  });

  it('leaves uploads to the upload path', () => {
    expect(clipDeliveryOf({ source: 'aws.s3', 'detail-type': 'Object Created', detail: {} }, 'r', NOW)).toBeUndefined();
    expect(clipDeliveryOf({ Records: [] }, 'r', NOW)).toBeUndefined();
  });

  it('refuses a malformed request, naming what is missing', () => {
    expect(() => clipDeliveryOf({ stream: 'front-camera', start: '2026-11-21T08:00:30Z' }, 'r', NOW)).toThrow(MalformedClipRequestError);
    expect(() => clipDeliveryOf({ stream: 'front-camera', start: '2026-11-21T08:00:30Z' }, 'r', NOW)).toThrow(/end/);
    expect(() =>
      clipDeliveryOf({ id: 'e', source: CLIP_REQUEST_EVENT.source, 'detail-type': 'Something Else', detail: {} }, 'r', NOW),
    ).toThrow(MalformedClipRequestError);
  });
});

describe('producer timestamps of a clip\'s frames', () => {
  // 10 s of stream from 08:00:00, a gap, then more from 08:01:10.
  const T0 = Date.parse('2026-11-21T08:00:00Z');
  const timeline = [
    { OffsetMs: 0, ProducerTimestampMs: T0 },
    { OffsetMs: 10_000, ProducerTimestampMs: T0 + 70_000 },
  ];

  it('maps clip time to producer time, across the gap', () => {
    expect(producerTimestampAt(timeline, 0)).toBe(T0);
    expect(producerTimestampAt(timeline, 9_500)).toBe(T0 + 9_500);
    expect(producerTimestampAt(timeline, 10_000)).toBe(T0 + 70_000);
    expect(producerTimestampAt(timeline, 12_500)).toBe(T0 + 72_500);
  });

  it('puts each frame\'s producer time in the queue messages', () => {
    const [message] = frameBatchMessages({
      videoId: 'v',
      runId: 'r',
      bucket: 'b',
      captureNamePrefix: 'p/frame',
      totalFrames: 24,
      framesPerBatch: 100,
      fps: { numerator: 2, denominator: 1 },
      clipTimeline: timeline,
    });
    expect(message.frames[19]).toMatchObject({ index: 19, timestampMs: 9_500, producerTimestampMs: T0 + 9_500 });
    expect(message.frames[20]).toMatchObject({ index: 20, timestampMs: 10_000, producerTimestampMs: T0 + 70_000 });
  });

  it('leaves uploads\' frames without one', () => {
    const [message] = frameBatchMessages({
      videoId: 'v', runId: 'r', bucket: 'b', captureNamePrefix: 'p/frame', totalFrames: 1, framesPerBatch: 100, fps: { numerator: 1, denominator: 1 },
    });
    expect(message.frames[0]).not.toHaveProperty('producerTimestampMs');
  });
});

describe('streaming a clip piece into S3', () => {
  const s3 = mockClient(S3Client);
  beforeEach(() => s3.reset());

  it('writes the whole stream and reports its size', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"e"' });
    const bytes = await new S3ObjectStore(new S3Client({ region: 'us-west-2' })).upload(
      'ingress', 'kvs-clips/x/piece.0000.mp4', Readable.from([Buffer.alloc(3000), Buffer.alloc(2000)]), 'video/mp4',
    );
    expect(bytes).toBe(5000);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: 'ingress', Key: 'kvs-clips/x/piece.0000.mp4', ContentType: 'video/mp4' });
  });

  it('fails when the source breaks off, instead of storing what arrived', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"e"' });
    const broken = new Readable({ read() {} });
    broken.push(Buffer.alloc(100));
    setImmediate(() => broken.destroy(new Error('socket hang up')));
    await expect(
      new S3ObjectStore(new S3Client({ region: 'us-west-2' })).upload('ingress', 'k', broken, 'video/mp4'),
    ).rejects.toThrow('socket hang up');
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });
});
