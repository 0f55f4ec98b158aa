import { join } from 'node:path';
import { runFfmpeg } from '../../local/ffmpeg';
import { frames, readResults, scratchDirectory, takeDenials } from './support/frames-cli';

/**
 * A KVS clip end to end in local mode: a 2-minute video registered as a stream (a keyframe every
 * 0.2 s, so 600 fragments), clipped from 00:30 to 01:15 by `frames clip`. The range holds 226
 * fragments (those that start at 30.0 s through 75.0 s, both inclusive), which take two GetClip
 * pieces (200 + 26) stitched by the local MediaConvert into one run.
 */
const scratch = scratchDirectory('kvs');
const dataDir = join(scratch.path, 'data');
const video = join(scratch.path, 'front.mp4');
const T0 = Date.parse('2026-11-21T08:00:00.000Z');
const iso = (offsetS: number) => new Date(T0 + offsetS * 1000).toISOString();

beforeAll(async () => {
  await runFfmpeg([
    '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=30:duration=120',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=120',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '6', '-keyint_min', '6', '-sc_threshold', '0',
    '-c:a', 'aac', '-shortest', video,
  ]);
  const added = await frames(['local', 'add-stream', 'front-camera', video, '--start', iso(0), '--json', '--data-dir', dataDir]);
  expect(added.code).toBe(0);
  expect(JSON.parse(added.stdout)).toMatchObject({ name: 'front-camera', fragments: 600, codec: 'h264', firstProducerTimestamp: iso(0), endProducerTimestamp: iso(120) });
});
afterAll(() => scratch.remove());

it('clips 00:30 to 01:15 in two GetClip pieces into one run: continuous indices and absolute producer times', async () => {
  const clip = await frames(['clip', '--stream', 'front-camera', '--start', iso(30), '--end', iso(75), '--fps', '2', '--json', '--data-dir', dataDir]);
  expect(clip.stderr).not.toMatch(/frames: /);
  expect(clip.code).toBe(0);
  const [report] = clip.reports;
  expect(report).toMatchObject({
    videoId: `kvs/front-camera/${iso(30)}--${iso(75)}`,
    status: 'COMPLETE',
    clip: { stream: 'front-camera', fragments: 226, pieces: 2, firstProducerTimestamp: iso(30), timestampType: 'PRODUCER_TIMESTAMP' },
    failedFrames: 0,
  });
  // 226 fragments of 0.2 s: 45.2 s, captured at 2 fps: ceil(90.4) = 91 frames, 0 .. 45.0 s.
  expect(report.totalFrames).toBe(91);
  const lines = readResults(report.results!);
  expect(lines.map((line) => line.index)).toEqual([...Array(91).keys()]);
  for (const line of lines) {
    expect(line.timestampMs).toBe(line.index * 500);
    expect(line.producerTimestampMs).toBe(T0 + 30_000 + line.index * 500);
  }

  // The pixels are the stream's own at those times: the same frames as the whole video captured
  // at 2 fps, from its frame 60 (30 s) on, across the boundary between the two pieces (at 40 s).
  const whole = await frames(['run', video, '--fps', '2', '--key', 'whole.mp4', '--json', '--data-dir', dataDir]);
  expect(whole.code).toBe(0);
  const wholeLines = readResults(whole.reports[0].results!);
  expect(lines.map((line) => line.output!.phash)).toEqual(wholeLines.slice(60, 151).map((line) => line.output!.phash));
});

describe('clips a person must fix: the job is FAILED with the service error name, the command exits 1', () => {
  beforeAll(async () => {
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=30:duration=4', '-c:v', 'mpeg4', '-g', '15', join(scratch.path, 'old.avi')]);
    expect((await frames(['local', 'add-stream', 'old-codec', join(scratch.path, 'old.avi'), '--start', iso(0), '--data-dir', dataDir])).code).toBe(0);
    expect((await frames(['local', 'add-stream', 'ephemeral', video, '--start', iso(0), '--retention-hours', '0', '--data-dir', dataDir])).code).toBe(0);
  });

  it.each([
    // Not one of the pipeline's streams (kvsStreams; locally, the registered ones): IAM refuses it
    // before KVS looks, as in an account.
    ['an unknown stream', 'rear-camera', 30, 40, { code: 'KVS_ERROR', serviceCode: 'AccessDeniedException' }],
    ['a stream that keeps no media', 'ephemeral', 30, 40, { code: 'KVS_ERROR', serviceCode: 'NoDataRetentionException' }],
    ['a codec GetClip cannot serve', 'old-codec', 0, 3, { code: 'KVS_ERROR', serviceCode: 'UnsupportedStreamMediaTypeException' }],
    ['a range with no fragments', 'front-camera', 3600, 3660, { code: 'CLIP_EMPTY' }],
  ])('%s', async (_case, stream, from, to, error) => {
    const result = await frames(['clip', '--stream', stream as string, '--start', iso(from as number), '--end', iso(to as number), '--json', '--data-dir', dataDir]);
    expect(result.code).toBe(1);
    expect(result.reports[0]).toMatchObject({ status: 'FAILED', error });
    expect(result.reports[0].error!.message.length).toBeGreaterThan(40);
    const refused = takeDenials(scratch.path).map(({ principal, action, resource }) => `${principal} ${action} ${resource}`);
    expect(refused).toEqual(stream === 'rear-camera' ? ['ingress kinesisvideo:GetDataEndpoint arn:aws:kinesisvideo:us-east-1:000000000000:stream/rear-camera/0'] : []);
  });

  it('refuses a range that ends before it starts, before anything runs', async () => {
    const result = await frames(['clip', '--stream', 'front-camera', '--start', iso(60), '--end', iso(30), '--data-dir', dataDir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/must be later than start/);
  });
});
