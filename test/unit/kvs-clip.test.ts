import { Readable } from 'node:stream';
import { mockClient } from 'aws-sdk-client-mock';
import { GetDataEndpointCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import {
  ClientLimitExceededException,
  GetClipCommand,
  InvalidArgumentException,
  KinesisVideoArchivedMediaClient,
  KinesisVideoArchivedMediaServiceException,
  ListFragmentsCommand,
  type ListFragmentsCommandInput,
  MissingCodecPrivateDataException,
  NoDataRetentionException,
  NotAuthorizedException,
  ResourceNotFoundException,
  UnsupportedStreamMediaTypeException,
} from '@aws-sdk/client-kinesis-video-archived-media';
import { ResourceNotFoundException as ControlResourceNotFound } from '@aws-sdk/client-kinesis-video';
import { type LocalDynamo, startLocalDynamo } from '../support/dynalite';
import { DynamoJobTable } from '../../functions/shared/job-table';
import type { FrameCaptureJobRequest, MediaConverter } from '../../functions/shared/media-converter';
import type { ObjectStore } from '../../functions/shared/object-store';
import { KvsStreamArchive } from '../../functions/ingress/kvs-archive';
import type { Clock } from '../../functions/ingress/kvs-throttle';
import { type ClipDelivery, submitClip } from '../../functions/ingress/submit-clip';
import type { IngressDependencies } from '../../functions/ingress/submit-job';
import type { ClipRequest } from '../../pipeline/clip-request';
import type { JobRecord } from '../../pipeline/job-record';

const TABLE = 'jobs';
const STREAM = 'front-camera';
const T0 = Date.parse('2026-11-21T08:00:00.000Z');
const DATA_ENDPOINT = 'https://b-1234abcd.kinesisvideo.us-west-2.amazonaws.com';

const control = mockClient(KinesisVideoClient);
const archived = mockClient(KinesisVideoArchivedMediaClient);

interface FragmentSpec {
  startMs: number;
  lengthMs: number;
  sizeBytes: number;
}

/** `count` contiguous fragments of `lengthMs` each from `startMs`. */
const contiguous = (count: number, lengthMs = 1000, sizeBytes = 100_000, startMs = T0): FragmentSpec[] =>
  Array.from({ length: count }, (_, i) => ({ startMs: startMs + i * lengthMs, lengthMs, sizeBytes }));

/** Deterministic shuffle, so "in no order" is the same in every run. */
function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  let seed = 7;
  for (let i = copy.length - 1; i > 0; i -= 1) {
    seed = (seed * 48271) % 2147483647;
    const j = seed % (i + 1);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/** ListFragments answers: the fragments that start in the range, shuffled, in pages of `pageSize`. */
function serveFragments(specs: FragmentSpec[], pageSize = 100) {
  const all = shuffled(
    specs.map((spec, i) => ({
      FragmentNumber: `9134385233318143${String(1_000_000 + i)}`,
      ProducerTimestamp: new Date(spec.startMs),
      ServerTimestamp: new Date(spec.startMs + 900),
      FragmentLengthInMilliseconds: spec.lengthMs,
      FragmentSizeInBytes: spec.sizeBytes,
    })),
  );
  archived.on(ListFragmentsCommand).callsFake((input: ListFragmentsCommandInput) => {
    const range = input.FragmentSelector!.TimestampRange!;
    const inRange = all.filter(
      (f) => f.ProducerTimestamp >= range.StartTimestamp! && f.ProducerTimestamp <= range.EndTimestamp!,
    );
    const offset = Number(input.NextToken ?? 0);
    const end = offset + Math.min(pageSize, input.MaxResults ?? pageSize);
    return { Fragments: inRange.slice(offset, end), NextToken: end < inRange.length ? String(end) : undefined };
  });
  return all;
}

const clipBody = (bytes = 1024) => ({ Payload: Readable.from([Buffer.alloc(bytes, 1)]) as never, ContentType: 'video/mp4' });

/** An object store that drains each streamed body, as S3 would, and remembers its size. */
class DrainingObjects implements ObjectStore {
  readonly uploads = new Map<string, number>();
  async head(): Promise<never> {
    throw new Error('not used by clips');
  }
  async upload(bucket: string, key: string, body: Readable): Promise<number> {
    let bytes = 0;
    for await (const chunk of body) bytes += (chunk as Buffer).length;
    this.uploads.set(`${bucket}/${key}`, bytes);
    return bytes;
  }
  async readRange(): Promise<never> {
    throw new Error('not used by clips: a clip is one job');
  }
}

class RecordingMediaConverter implements MediaConverter {
  readonly created: FrameCaptureJobRequest[] = [];
  async createJob(request: FrameCaptureJobRequest): Promise<string> {
    this.created.push(request);
    return `job-${this.created.length}`;
  }
  async findJob(): Promise<undefined> {
    return undefined;
  }
  async cancelJob(): Promise<void> {}
  async getJob(): Promise<undefined> {
    return undefined;
  }
}

class FakeClock implements Clock {
  nowMs = 0;
  readonly sleeps: number[] = [];
  now = () => this.nowMs;
  sleep = async (ms: number) => {
    this.sleeps.push(ms);
    this.nowMs += ms;
  };
}

let dynamo: LocalDynamo;
let jobs: DynamoJobTable;
let objects: DrainingObjects;
let mediaConvert: RecordingMediaConverter;
let clock: FakeClock;
let dependencies: IngressDependencies;
let deliveries = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await dynamo.createJobTable(TABLE);
  jobs = new DynamoJobTable(dynamo.documents, TABLE);
});
afterAll(() => dynamo.stop());

beforeEach(() => {
  control.reset();
  archived.reset();
  control.on(GetDataEndpointCommand).resolves({ DataEndpoint: DATA_ENDPOINT });
  objects = new DrainingObjects();
  mediaConvert = new RecordingMediaConverter();
  clock = new FakeClock();
  dependencies = {
    jobs,
    objects,
    mediaConvert,
    archive: new KvsStreamArchive(new KinesisVideoClient({ region: 'us-west-2' }), () => new KinesisVideoArchivedMediaClient({ region: 'us-west-2' })),
    settings: {
      framesBucket: 'frames-bucket',
      ingressBucket: 'ingress-bucket',
      mediaConvertRoleArn: 'arn:aws:iam::111122223333:role/frames-mediaconvert',
      pipelineName: 'frames',
      defaultCapture: { fps: { numerator: 1, denominator: 1 }, quality: 80, maxCaptures: 1_000_000 },
      extraction: { maxSegments: 10, minSegmentSeconds: 30, framesPerMessage: 100 },
    },
    now: () => new Date(),
  };
});

/** A request for a fresh video id each time (the table is shared by the tests). */
function delivery(overrides: Partial<ClipRequest> = {}, requestId = `request-${(deliveries += 1)}`): ClipDelivery {
  return {
    request: {
      stream: STREAM,
      start: new Date(T0).toISOString(),
      end: new Date(T0 + 3_600_000).toISOString(),
      videoId: `clip-${deliveries}`,
      ...overrides,
    },
    requestId,
    receivedAt: new Date(),
  };
}

const clip = (request: ClipDelivery) => submitClip(dependencies, request, { clock, random: () => 0.5 });
const recordOf = async (videoId: string) => (await jobs.get(videoId)) as JobRecord;
const getClipRanges = () =>
  archived.commandCalls(GetClipCommand).map((call) => {
    const range = call.args[0].input.ClipFragmentSelector!.TimestampRange!;
    return [range.StartTimestamp!.getTime() - T0, range.EndTimestamp!.getTime() - T0];
  });

describe('a clip of a Kinesis video stream', () => {
  it('sorts unordered pages, pulls 450 fragments in 3 GetClip pieces and submits one job over them in order', async () => {
    serveFragments(contiguous(450));
    archived.on(GetClipCommand).callsFake(() => clipBody());
    const request = delivery({ end: new Date(T0 + 449_000).toISOString() });

    const outcome = await clip(request);

    expect(outcome).toMatchObject({ outcome: 'submitted', jobId: 'job-1' });
    // Every page was read: 450 fragments at 100 a page.
    expect(archived.commandCalls(ListFragmentsCommand)).toHaveLength(5);
    // Pieces of 200, 200 and 50 fragments; each range selects exactly its fragments.
    expect(getClipRanges()).toEqual([
      [0, 199_999],
      [200_000, 399_999],
      [400_000, 449_000],
    ]);
    const keys = [...objects.uploads.keys()];
    expect(keys).toHaveLength(3);
    expect(keys.every((key) => key.startsWith('ingress-bucket/kvs-clips/'))).toBe(true);
    const inputs = mediaConvert.created[0].settings.Inputs!.map((input) => input.FileInput);
    expect(inputs).toEqual(keys.map((key) => `s3://${key}`));
    expect(inputs.map((uri) => uri!.slice(-14))).toEqual(['piece.0000.mp4', 'piece.0001.mp4', 'piece.0002.mp4']);

    const record = await recordOf(request.request.videoId!);
    expect(record).toMatchObject({
      Status: 'SUBMITTED',
      MediaConvertJobId: 'job-1',
      SourceStream: STREAM,
      ClipStart: '2026-11-21T08:00:00.000Z',
      ClipEnd: '2026-11-21T08:07:29.000Z',
      ClipTimestampType: 'PRODUCER_TIMESTAMP',
      ClipFragments: 450,
      ClipPieces: 3,
      ClipFirstProducerTimestamp: '2026-11-21T08:00:00.000Z',
      ClipTimeline: [{ OffsetMs: 0, ProducerTimestampMs: T0 }],
      SourceSize: 3 * 1024,
    });
    // The data endpoint is asked for once per API, not per call.
    expect(control.commandCalls(GetDataEndpointCommand).map((call) => call.args[0].input.APIName)).toEqual(['LIST_FRAGMENTS', 'GET_CLIP']);
  });

  it('paces GetClip calls under the stream fragment budget', async () => {
    serveFragments(contiguous(600));
    archived.on(GetClipCommand).callsFake(() => clipBody());
    await clip(delivery({ end: new Date(T0 + 599_000).toISOString() }));
    // 3 calls of 200: the second waits 200/250 s, the third another 200/250 s.
    expect(clock.sleeps).toEqual([800, 800]);
  });

  it('cuts a piece by size as well as by count, leaving room for the MP4 container', async () => {
    // 40 MB fragments: two (80 MB) fit the 90 MB plan, a third would not.
    serveFragments(contiguous(5, 2000, 40_000_000));
    archived.on(GetClipCommand).callsFake(() => clipBody());
    const request = delivery({ end: new Date(T0 + 8_000).toISOString() });
    await clip(request);
    expect(getClipRanges()).toEqual([
      [0, 3_999],
      [4_000, 7_999],
      [8_000, 8_000],
    ]);
    expect(await recordOf(request.request.videoId!)).toMatchObject({ ClipPieces: 3, ClipFragments: 5 });
  });

  it('never lets a piece span a gap, and records where each stretch starts in the clip', async () => {
    // 10 fragments, then the camera was off for a minute, then 10 more.
    serveFragments([...contiguous(10), ...contiguous(10, 1000, 100_000, T0 + 70_000)]);
    archived.on(GetClipCommand).callsFake(() => clipBody());
    const request = delivery({ end: new Date(T0 + 79_000).toISOString() });
    await clip(request);
    expect(getClipRanges()).toEqual([
      [0, 69_999],
      [70_000, 79_000],
    ]);
    expect((await recordOf(request.request.videoId!)).ClipTimeline).toEqual([
      { OffsetMs: 0, ProducerTimestampMs: T0 },
      { OffsetMs: 10_000, ProducerTimestampMs: T0 + 70_000 },
    ]);
  });

  it('retries GetClip while KVS throttles it, backing off', async () => {
    serveFragments(contiguous(10));
    const throttled = () => new ClientLimitExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    archived.on(GetClipCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).callsFake(() => clipBody());
    const request = delivery({ end: new Date(T0 + 9_000).toISOString() });
    expect(await clip(request)).toMatchObject({ outcome: 'submitted' });
    expect(archived.commandCalls(GetClipCommand)).toHaveLength(3);
    // Full jitter (random 0.5) of 250 ms, then of 500 ms.
    expect(clock.sleeps).toEqual([125, 250]);
  });

  it('fails the job with the service error name once throttling outlasts every retry', async () => {
    serveFragments(contiguous(10));
    archived.on(GetClipCommand).rejects(new ClientLimitExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));
    const request = delivery({ end: new Date(T0 + 9_000).toISOString() });
    expect(await clip(request)).toMatchObject({ outcome: 'failed' });
    expect(archived.commandCalls(GetClipCommand)).toHaveLength(10);
    expect((await recordOf(request.request.videoId!)).Error).toMatchObject({
      Code: 'KVS_ERROR',
      ServiceCode: 'ClientLimitExceededException',
      Message: expect.stringContaining('Request the clip again later'),
    });
    expect(mediaConvert.created).toHaveLength(0);
  });

  it('handles a redelivered request once: the second delivery is a duplicate', async () => {
    serveFragments(contiguous(10));
    archived.on(GetClipCommand).callsFake(() => clipBody());
    const first = delivery({ end: new Date(T0 + 9_000).toISOString() });
    await clip(first);
    expect(await clip({ ...first, receivedAt: new Date(Date.now() + 5_000) })).toMatchObject({ outcome: 'duplicate' });
    expect(mediaConvert.created).toHaveLength(1);
    expect(archived.commandCalls(GetClipCommand)).toHaveLength(1);
  });

  it('never submits a partial clip: a piece that breaks off mid-stream leaves the run CLIPPING for a retry', async () => {
    serveFragments(contiguous(300));
    let calls = 0;
    archived.on(GetClipCommand).callsFake(() => {
      calls += 1;
      if (calls === 1) return clipBody();
      const broken = new Readable({ read() {} });
      broken.push(Buffer.alloc(512));
      setImmediate(() => broken.destroy(new Error('socket hang up')));
      return { Payload: broken as never };
    });
    const request = delivery({ end: new Date(T0 + 299_000).toISOString() });
    await expect(clip(request)).rejects.toThrow('socket hang up');
    const record = await recordOf(request.request.videoId!);
    expect(record.Status).toBe('CLIPPING');
    expect(record.LastSubmitError).toMatchObject({ Code: 'CLIP_RETRYING' });
    expect(mediaConvert.created).toHaveLength(0);

    // The retry clips again and submits the whole clip.
    archived.on(GetClipCommand).callsFake(() => clipBody());
    expect(await clip(request)).toMatchObject({ outcome: 'submitted' });
    expect(await recordOf(request.request.videoId!)).toMatchObject({ Status: 'SUBMITTED', ClipPieces: 2 });
  });

  it('fails a piece that comes back empty instead of submitting it', async () => {
    serveFragments(contiguous(10));
    archived.on(GetClipCommand).callsFake(() => clipBody(0));
    const request = delivery({ end: new Date(T0 + 9_000).toISOString() });
    expect(await clip(request)).toMatchObject({ outcome: 'failed', error: { Code: 'CLIP_INCOMPLETE' } });
    expect(mediaConvert.created).toHaveLength(0);
  });
});

describe('a clip request a person must fix', () => {
  const serviceError = (Type: new (options: never) => KinesisVideoArchivedMediaServiceException, message: string) =>
    new Type({ message, $metadata: { httpStatusCode: 400 } } as never);

  it.each([
    ['an unknown stream', 'GetDataEndpoint', 'ResourceNotFoundException', /no stream front-camera/],
    ['a codec GetClip cannot serve', 'GetClip', 'UnsupportedStreamMediaTypeException', /H\.264 or H\.265/],
    ['fragments without codec private data', 'GetClip', 'MissingCodecPrivateDataException', /codec private data/],
    ['arguments KVS refuses', 'GetClip', 'InvalidArgumentException', /timestamp type/],
    ['a stream the stack may not read', 'GetClip', 'NotAuthorizedException', /kvsStreams/],
  ])('%s: FAILED with KVS_ERROR and the service error name', async (_case, api, name, advice) => {
    serveFragments(contiguous(10));
    archived.on(GetClipCommand).callsFake(() => clipBody());
    const errors: Record<string, () => Error> = {
      ResourceNotFoundException: () => new ControlResourceNotFound({ message: 'The requested stream is not found or not active.', $metadata: { httpStatusCode: 404 } }),
      UnsupportedStreamMediaTypeException: () => serviceError(UnsupportedStreamMediaTypeException as never, 'The type of the media is not supported'),
      MissingCodecPrivateDataException: () => serviceError(MissingCodecPrivateDataException as never, 'No codec private data was found'),
      InvalidArgumentException: () => serviceError(InvalidArgumentException as never, 'EndTimestamp must be in the past'),
      NotAuthorizedException: () => new NotAuthorizedException({ message: 'Unauthorized', $metadata: { httpStatusCode: 401 } }),
    };
    if (api === 'GetDataEndpoint') control.on(GetDataEndpointCommand).rejects(errors[name]());
    else archived.on(GetClipCommand).rejects(errors[name]());
    const request = delivery({ end: new Date(T0 + 9_000).toISOString() });

    expect(await clip(request)).toMatchObject({ outcome: 'failed' });
    const record = await recordOf(request.request.videoId!);
    expect(record.Status).toBe('FAILED');
    expect(record.Error).toMatchObject({ Code: 'KVS_ERROR', ServiceCode: name });
    expect(record.Error!.Message).toMatch(advice);
    expect(mediaConvert.created).toHaveLength(0);
  });

  it('a stream without data retention: ListFragments lists nothing and GetClip says why', async () => {
    serveFragments([]);
    archived.on(GetClipCommand).rejects(serviceError(NoDataRetentionException as never, 'The stream has no data retention'));
    const request = delivery();
    await clip(request);
    expect((await recordOf(request.request.videoId!)).Error).toMatchObject({
      Code: 'KVS_ERROR',
      ServiceCode: 'NoDataRetentionException',
      Message: expect.stringContaining('data retention is 0 hours'),
    });
  });

  it('a range with no fragments: CLIP_EMPTY, naming the range and the timestamp type', async () => {
    serveFragments(contiguous(10));
    archived.on(GetClipCommand).rejects(serviceError(ResourceNotFoundException as never, 'No fragments found'));
    const request = delivery({ start: '2026-11-22T08:00:00Z', end: '2026-11-22T09:00:00Z', timestampType: 'SERVER_TIMESTAMP' });
    await clip(request);
    const record = await recordOf(request.request.videoId!);
    expect(record.Error).toMatchObject({ Code: 'CLIP_EMPTY' });
    expect(record.Error!.Message).toContain('between 2026-11-22T08:00:00.000Z and 2026-11-22T09:00:00.000Z by SERVER_TIMESTAMP');
    expect(record.ClipTimestampType).toBe('SERVER_TIMESTAMP');
  });

  it.each([
    ['end before start', { start: '2026-11-21T09:00:00Z', end: '2026-11-21T08:00:00Z' }, /end \(2026-11-21T08:00:00Z\) must be later than start/],
    ['a range over 24 hours', { start: '2026-11-20T08:00:00Z', end: '2026-11-21T08:00:01Z' }, /24\.00 hours; Kinesis Video Streams clips at most 24 hours/],
    ['a time without a zone', { start: '2026-11-21 08:00:00' }, /start "2026-11-21 08:00:00" is not an ISO 8601 time with a zone/],
    ['a stream name KVS would refuse', { stream: 'front camera!' }, /neither a stream name/],
  ])('%s: FAILED with INVALID_CLIP_REQUEST before any KVS call', async (_case, overrides, message) => {
    const request = delivery(overrides);
    expect(await clip(request)).toMatchObject({ outcome: 'failed', error: { Code: 'INVALID_CLIP_REQUEST' } });
    const record = await recordOf(request.request.videoId!);
    expect(record.Error!.Message).toMatch(message);
    expect(control.commandCalls(GetDataEndpointCommand)).toHaveLength(0);
  });

  it('bad capture overrides: FAILED with INVALID_OVERRIDE', async () => {
    const request = delivery({ capture: { fps: '30/0', quality: 101 } });
    expect(await clip(request)).toMatchObject({ outcome: 'failed', error: { Code: 'INVALID_OVERRIDE' } });
  });

  it('a range needing more pieces than MediaConvert stitches: CLIP_TOO_LONG', async () => {
    // 0.5 s fragments over 24 hours: 172,800 fragments, 864 pieces.
    serveFragments(contiguous(40_000, 500, 10_000), 1000);
    const request = delivery({ end: new Date(T0 + 19_999_500).toISOString() });
    expect(await clip(request)).toMatchObject({ outcome: 'failed', error: { Code: 'CLIP_TOO_LONG' } });
    expect(archived.commandCalls(GetClipCommand)).toHaveLength(0);
  });
});

describe('the data endpoint cache', () => {
  it('asks again after the endpoint failed at the network level, not after a service answer', async () => {
    serveFragments(contiguous(5));
    const archive = dependencies.archive;
    const stream = { name: STREAM };
    const range = { startMs: T0, endMs: T0 + 4_000 };
    await archive.listFragments(stream, 'PRODUCER_TIMESTAMP', range);
    await archive.listFragments(stream, 'PRODUCER_TIMESTAMP', range);
    expect(control.commandCalls(GetDataEndpointCommand)).toHaveLength(1);

    let refuse = true;
    archived.on(ListFragmentsCommand).callsFake(() => {
      if (!refuse) return { Fragments: [] };
      refuse = false;
      throw new Error('connect ECONNREFUSED');
    });
    await expect(archive.listFragments(stream, 'PRODUCER_TIMESTAMP', range)).rejects.toThrow('ECONNREFUSED');
    expect(await archive.listFragments(stream, 'PRODUCER_TIMESTAMP', range)).toEqual([]);
    expect(control.commandCalls(GetDataEndpointCommand)).toHaveLength(2);
  });
});
