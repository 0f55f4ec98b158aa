import { join } from 'node:path';
import { probeMedia, runFfmpeg } from '../../local/ffmpeg';
import { RAMP_LUMA_PER_FRAME, frames, rampVideo, scratchDirectory } from '../integration/support/frames-cli';
import { expectCompleteAndExact, expectNothingRunning } from './support/run-integrity';

/**
 * Valid videos of unusual shape, run together: each completes with exactly the frames the capture
 * rule gives (capture k at k/fps for every k/fps before the end of the video), of the right size.
 */
const scratch = scratchDirectory('unusual');
const dataDir = join(scratch.path, 'data');
const path = (name: string) => join(scratch.path, name);
afterAll(() => scratch.remove());

/** The VFR ramp's source frames: 30 at 30 fps, then 10 at 10 fps (frame n has luma 16 + 3n). */
const vfrTimestamp = (n: number) => (n < 30 ? n / 30 : 1 + (n - 30) / 10);
const VFR_FRAMES = 40;

beforeAll(async () => {
  await Promise.all([
    // Rotation metadata (a phone held upright): 64x48 stored, shown 48x64. ffmpeg 4 writes the
    // rotate tag only when remuxing.
    rampVideo(path('stored.mp4'), { seconds: 2, rate: '30', size: '64x48' }).then(() =>
      runFfmpeg(['-i', path('stored.mp4'), '-c', 'copy', '-metadata:s:v:0', 'rotate=90', path('rotated.mp4')]),
    ),
    // Odd dimensions need 4:4:4 (4:2:0 halves them).
    runFfmpeg(['-f', 'lavfi', '-i', 'testsrc=s=1279x719:r=30:d=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv444p', path('odd-size.mp4')]),
    rampVideo(path('under-a-second.mp4'), { seconds: 0.5, rate: '30' }),
    runFfmpeg([
      '-f', 'lavfi', '-i', `nullsrc=s=64x64:r=30:d=${VFR_FRAMES / 30},geq=lum='16+3*N':cb=128:cr=128`,
      '-vf', "setpts='if(lt(N,30),N/30,1+(N-30)/10)/TB'", '-vsync', 'vfr',
      '-c:v', 'libx264', '-preset', 'veryfast', '-qp', '0', '-pix_fmt', 'yuv420p', path('variable-rate.mp4'),
    ]),
  ]);
});

test('rotation, odd sizes, under a second and variable frame rate all complete with exact counts', async () => {
  const names = ['rotated.mp4', 'odd-size.mp4', 'under-a-second.mp4', 'variable-rate.mp4'];
  const vfrDurationMs = (await probeMedia(path('variable-rate.mp4')))!.durationMs;

  const result = await frames(['run', ...names.map(path), '--fps', '10', '--json', '--data-dir', dataDir]);

  expect(result.code).toBe(0);
  const byId = Object.fromEntries(result.reports.map((report) => [report.videoId, report]));
  // Shown upright: MediaConvert's Rotate AUTO (the template's) applies the rotation.
  expectCompleteAndExact(byId['rotated.mp4'], 20);
  expect(byId['rotated.mp4']).toMatchObject({ frameWidth: 48, frameHeight: 64 });
  expectCompleteAndExact(byId['odd-size.mp4'], 10);
  expect(byId['odd-size.mp4']).toMatchObject({ frameWidth: 1279, frameHeight: 719 });
  expectCompleteAndExact(byId['under-a-second.mp4'], 5);

  // Variable rate: captures at k/10 s for every k/10 before the end, each the source frame on
  // screen then (the last one at or before it), told apart by its brightness.
  const expected = Math.ceil((vfrDurationMs * 10) / 1000);
  const lines = expectCompleteAndExact(byId['variable-rate.mp4'], expected);
  for (const line of lines) {
    const t = line.index / 10;
    const source = Math.max(...[...Array(VFR_FRAMES).keys()].filter((n) => vfrTimestamp(n) <= t + 1e-6));
    const luminance = line.output!.meanLuminance;
    expect({ index: line.index, source, luminance, near: Math.abs(luminance - source * RAMP_LUMA_PER_FRAME) < 2 }).toEqual({
      index: line.index,
      source,
      luminance,
      near: true,
    });
  }
  await expectNothingRunning(dataDir);
});
