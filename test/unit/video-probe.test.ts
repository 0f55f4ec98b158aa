import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { path as ffmpeg } from '@ffmpeg-installer/ffmpeg';
import { probeVideo } from '../../functions/ingress/video-probe';

/**
 * The ingress function's header probe, on files the bundled ffmpeg writes as cameras and phones
 * do: it must read the frame count and the frame rate of a constant-rate MP4 wherever its `moov`
 * is, with a few ranged reads that skip the media, and say when it cannot (variable rate, not MP4).
 */
const run = promisify(execFile);
const directory = mkdtempSync(join(tmpdir(), 'frames-probe-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function video(name: string, args: readonly string[]): Promise<string> {
  const path = join(directory, name);
  await run(ffmpeg, ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=4:size=160x120:rate=30000/1001', '-pix_fmt', 'yuv420p', ...args, path]);
  return path;
}

/** Ranged reads of a file, counted as the ingress function's GETs would be. */
function reader(path: string) {
  const bytes = readFileSync(path);
  const ranges: [number, number][] = [];
  return {
    size: bytes.length,
    ranges,
    read: async (start: number, end: number) => {
      ranges.push([start, end]);
      return bytes.subarray(start, end);
    },
  };
}

it('a 29.97 fps MP4 with its moov at the end (as cameras write): frames and rate, reading around the media', async () => {
  const path = await video('camera.mp4', ['-g', '30']);
  const file = reader(path);
  // Small reads, so the media between the start and the moov is visibly skipped.
  const probe = await probeVideo(file.read, file.size, { chunkBytes: 1024 });
  expect(probe).toMatchObject({ kind: 'mp4', video: { frames: 120, constantFrameRate: true, frameRate: { numerator: 30000, denominator: 1001 }, width: 160, height: 120 } });
  expect(file.ranges.length).toBeLessThanOrEqual(4);
  expect(probe.bytesRead).toBeLessThan(statSync(path).size / 2);
});

it('the same with its moov first (faststart): one read', async () => {
  const file = reader(await video('faststart.mp4', ['-movflags', '+faststart']));
  const probe = await probeVideo(file.read, file.size);
  expect(probe).toMatchObject({ kind: 'mp4', reads: 1, video: { frames: 120, constantFrameRate: true, frameRate: { numerator: 30000, denominator: 1001 } } });
});

it('a variable frame rate is said, with its frame count and no rate', async () => {
  // Frames 0..59 every 1/30 s, then every 2/30 s.
  const file = reader(await video('vfr.mp4', ['-vf', "setpts='if(lt(N,60),N,60+(N-60)*2)/(30*TB)'", '-vsync', 'vfr', '-r', '1000']));
  const probe = await probeVideo(file.read, file.size);
  expect(probe.kind).toBe('mp4');
  if (probe.kind !== 'mp4') return;
  expect(probe.video.constantFrameRate).toBe(false);
  expect(probe.video.frameRate).toBeUndefined();
  expect(probe.video.frames).toBe(120);
});

it('MPEG-TS has no MP4 header: unknown, with the reason, after its first read', async () => {
  const file = reader(await video('clip.ts', ['-f', 'mpegts']));
  const probe = await probeVideo(file.read, file.size, { chunkBytes: 4096, maxReads: 3 });
  expect(probe).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('not an MP4/MOV file'), reads: 1 });
});

it('B-frames shift the edit a frame or two: still a plain constant rate; a trim by edit list is not (it hides frames the header counts)', async () => {
  const camera = reader(await video('b-frames.mp4', ['-c:v', 'libx264', '-bf', '2', '-g', '30']));
  expect(await probeVideo(camera.read, camera.size)).toMatchObject({ kind: 'mp4', video: { frames: 120, constantFrameRate: true } });

  // Cut mid-GOP without re-encoding: the edit list starts 0.5 s into the media it keeps from the keyframe before.
  const trimmed = join(directory, 'trimmed.mp4');
  await run(ffmpeg, ['-y', '-loglevel', 'error', '-ss', '1.5', '-i', join(directory, 'b-frames.mp4'), '-c', 'copy', trimmed]);
  const file = reader(trimmed);
  const probe = await probeVideo(file.read, file.size);
  expect(probe).toMatchObject({ kind: 'mp4', video: { constantFrameRate: false } });
});

it('a header the parser cannot read is unknown, with the reason, not an error', async () => {
  const file = reader(await video('broken.mp4', ['-movflags', '+faststart']));
  const bytes = readFileSync(join(directory, 'broken.mp4'));
  // A moov box whose size runs past the file.
  const corrupt = Buffer.from(bytes);
  corrupt.writeUInt32BE(0xfffffff0, bytes.indexOf('moov') - 4);
  const probe = await probeVideo(async (start, end) => corrupt.subarray(start, end), file.size);
  expect(probe.kind).toBe('unknown');
});
