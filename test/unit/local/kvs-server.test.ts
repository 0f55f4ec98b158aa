import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { GetDataEndpointCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import {
  GetClipCommand,
  KinesisVideoArchivedMediaClient,
  paginateListFragments,
} from '@aws-sdk/client-kinesis-video-archived-media';
import { runFfmpeg } from '../../../local/ffmpeg';
import { type LocalKvsServer, startKvsServer } from '../../../local/kvs/kvs-server';
import { addStream, readKeyframes } from '../../../local/kvs/stream-registry';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/local-identity';

const T0 = Date.parse('2026-11-21T08:00:00.000Z');
let directory: string;
let server: LocalKvsServer;
let archived: KinesisVideoArchivedMediaClient;
const clientConfig = (endpoint: string) => ({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });

/** A 160x90 H.264 video at 30 fps with a keyframe every `gop` frames. */
const makeVideo = (path: string, seconds: number, gop: number, codec = 'libx264') =>
  runFfmpeg([
    '-f', 'lavfi', '-i', `testsrc2=size=160x90:rate=30:duration=${seconds}`,
    '-c:v', codec, ...(codec === 'libx264' ? ['-preset', 'ultrafast', '-pix_fmt', 'yuv420p'] : []),
    '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', path,
  ]);

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'frames-kvs-test-'));
  await makeVideo(join(directory, 'ten.mp4'), 10, 15);
  await makeVideo(join(directory, 'busy.mp4'), 50, 3);
  await makeVideo(join(directory, 'old-codec.avi'), 2, 15, 'mpeg4');
  await addStream({ dataDirectory: directory, name: 'ten', videoPath: join(directory, 'ten.mp4'), startMs: T0 });
  await addStream({ dataDirectory: directory, name: 'busy', videoPath: join(directory, 'busy.mp4'), startMs: T0 });
  await addStream({ dataDirectory: directory, name: 'old-codec', videoPath: join(directory, 'old-codec.avi'), startMs: T0 });
  await addStream({ dataDirectory: directory, name: 'no-retention', videoPath: join(directory, 'ten.mp4'), startMs: T0, dataRetentionHours: 0 });
  server = await startKvsServer({ dataDirectory: directory });
  archived = new KinesisVideoArchivedMediaClient(clientConfig(server.endpoint));
}, 60_000);

afterAll(async () => {
  archived.destroy();
  await server.stop();
  rmSync(directory, { recursive: true, force: true });
});

const range = (fromS: number, toS: number) => ({ StartTimestamp: new Date(T0 + fromS * 1000), EndTimestamp: new Date(T0 + toS * 1000) });

async function clipBytes(stream: string, fromS: number, toS: number): Promise<Buffer> {
  const { Payload } = await archived.send(
    new GetClipCommand({ StreamName: stream, ClipFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range(fromS, toS) } }),
  );
  const chunks: Buffer[] = [];
  for await (const chunk of Payload as Readable) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('the local KVS endpoint', () => {
  it('splits a registered video into fragments at its keyframes', async () => {
    const keyframes = await readKeyframes(join(directory, 'ten.mp4'));
    expect(keyframes.startsMs).toEqual(Array.from({ length: 20 }, (_, i) => i * 500));
    expect(keyframes.endMs).toBe(10_000);
  });

  it('answers GetDataEndpoint with itself, through the SDK', async () => {
    const control = new KinesisVideoClient(clientConfig(server.endpoint));
    const { DataEndpoint } = await control.send(new GetDataEndpointCommand({ StreamName: 'ten', APIName: 'GET_CLIP' }));
    expect(DataEndpoint).toBe(server.endpoint);
    await expect(control.send(new GetDataEndpointCommand({ StreamName: 'nope', APIName: 'GET_CLIP' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    control.destroy();
  });

  it('lists the fragments that start in the range, in no order, over pages', async () => {
    const listed = [];
    const pages = paginateListFragments(
      { client: archived, pageSize: 7 },
      { StreamName: 'ten', FragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range(2, 6) } },
    );
    for await (const page of pages) listed.push(...(page.Fragments ?? []));
    const starts = listed.map((fragment) => fragment.ProducerTimestamp!.getTime() - T0);
    // 2.0 .. 6.0 inclusive at 0.5 s: 9 fragments.
    expect([...starts].sort((a, b) => a - b)).toEqual([2000, 2500, 3000, 3500, 4000, 4500, 5000, 5500, 6000]);
    expect(starts).not.toEqual([...starts].sort((a, b) => a - b));
    expect(listed.every((fragment) => fragment.FragmentLengthInMilliseconds === 500 && fragment.FragmentSizeInBytes! > 0)).toBe(true);
  });

  it('clips exactly the fragments in the range, frame for frame', async () => {
    const clip = await clipBytes('ten', 2, 6);
    const path = join(directory, 'clip.mp4');
    require('node:fs').writeFileSync(path, clip);
    // Fragments 2.0 .. 6.0 each last 0.5 s: 4.5 s, 135 frames.
    const keyframes = await readKeyframes(path);
    expect(keyframes.endMs).toBe(4500);
    expect(keyframes.startsMs).toHaveLength(9);
  });

  it('cuts a clip at 200 fragments without saying so, as GetClip does', async () => {
    const clip = await clipBytes('busy', 0, 49);
    const path = join(directory, 'cut.mp4');
    require('node:fs').writeFileSync(path, clip);
    expect((await readKeyframes(path)).startsMs).toHaveLength(200);
  });

  it('throttles a stream past 500 fragments a second with ClientLimitExceededException', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // 200 + 200 fragments, then 200 more within the same second: 600 > 500.
    await clipBytes('busy', 0, 19.9);
    await clipBytes('busy', 20, 39.9);
    await expect(clipBytes('busy', 0, 19.9)).rejects.toMatchObject({ name: 'ClientLimitExceededException' });
  });

  it.each([
    ['an unknown stream', 'nope', 0, 5, 'ResourceNotFoundException'],
    ['a stream that keeps no data', 'no-retention', 0, 5, 'NoDataRetentionException'],
    ['a codec GetClip does not serve', 'old-codec', 0, 1, 'UnsupportedStreamMediaTypeException'],
    ['a range without fragments', 'ten', 100, 200, 'ResourceNotFoundException'],
    ['end before start', 'ten', 5, 1, 'InvalidArgumentException'],
    ['a range over 24 hours', 'ten', 0, 86_401, 'InvalidArgumentException'],
  ])('answers %s with %s', async (_case, stream, fromS, toS, name) => {
    await expect(clipBytes(stream as string, fromS as number, toS as number)).rejects.toMatchObject({ name });
  });
});
