import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ffmpegOutput, runFfmpeg } from '../../local/ffmpeg';
import { frames, scratchDirectory } from './support/frames-cli';

/**
 * `frames estimate` on the videos whose container says something other than their video stream:
 * it must count the frames `frames run` captures from them, and refuse with one line (exit 2) a
 * file it truly cannot sample. Each video is small, so one `frames run` takes them all.
 */
const scratch = scratchDirectory('estimate-odd');
afterAll(() => scratch.remove());

const FPS = '30';
const testSource = (seconds: number) => ['-f', 'lavfi', '-i', `testsrc=size=160x120:rate=30:duration=${seconds}`];
const h264 = ['-c:v', 'libx264', '-pix_fmt', 'yuv420p'];

/** Each odd video, how ffmpeg makes it, and the frames a 30 fps capture of it gives. */
const ODD_VIDEOS = [
  // The mpegts muxer starts timestamps at 1.4 s; x264's default keyframe interval (250) leaves a
  // single keyframe, so seeks past the start land where nothing decodes.
  { file: 'offset.ts', args: [...testSource(5), ...h264, '-f', 'mpegts'], frames: 150 },
  // The container's duration is the audio's 15 s; the video stream is 5 s.
  { file: 'long-audio.mp4', args: [...testSource(5), '-f', 'lavfi', '-i', 'sine=frequency=440:duration=15', ...h264, '-c:a', 'aac'], frames: 150 },
  { file: 'one-frame.mp4', args: [...testSource(1), '-frames:v', '1', ...h264], frames: 1 },
];
const pathOf = (file: string) => join(scratch.path, file);

beforeAll(async () => {
  for (const video of ODD_VIDEOS) await runFfmpeg([...video.args, pathOf(video.file)]);
});

test('the odd videos are what this test means them to be', async () => {
  const report = async (file: string) => (await ffmpegOutput(['-i', pathOf(file)])).stderr;
  expect(await report('offset.ts')).toMatch(/start: 1\.4\d+/);
  expect(await report('long-audio.mp4')).toMatch(/Duration: 00:00:15\.0/);
  expect(await report('one-frame.mp4')).toMatch(/Duration: 00:00:00\.03/);
});

test('estimate counts the frames that frames run captures from each odd video', async () => {
  const run = await frames(['run', ...ODD_VIDEOS.map((video) => pathOf(video.file)), '--fps', FPS, '--json', '--data-dir', join(scratch.path, 'data')], {
    timeoutMs: 170_000,
  });
  expect(run.code).toBe(0);
  const captured = new Map(run.reports.map((report) => [report.videoId, report.totalFrames]));

  for (const video of ODD_VIDEOS) {
    const result = await frames(['estimate', pathOf(video.file), '--fps', FPS, '--json']);
    expect({ file: video.file, code: result.code, stderr: result.stderr }).toEqual({ file: video.file, code: 0, stderr: '' });
    const estimate = JSON.parse(result.stdout) as { estimate: { frames: number }; measured: { sampled: number }; video: { durationMs: number } };
    expect({ file: video.file, estimated: estimate.estimate.frames, captured: captured.get(video.file) }).toEqual({
      file: video.file,
      estimated: video.frames,
      captured: video.frames,
    });
    // Sampled inside the video stream's own duration: as many frames as it has, up to 5.
    expect(estimate.measured.sampled).toBe(Math.min(5, video.frames));
  }
});

test('a file that cannot be sampled exits 2 with one line and no stack trace', async () => {
  writeFileSync(pathOf('noise.mp4'), Buffer.alloc(65_536, 7));
  await runFfmpeg(['-f', 'lavfi', '-i', 'sine=duration=3', '-c:a', 'aac', pathOf('audio-only.m4a')]);
  // A readable index (moov first) over zeroed media data: ffmpeg sees a video stream of 30 packets, and decodes none.
  await runFfmpeg([...testSource(1), ...h264, '-movflags', '+faststart', pathOf('zeroed.mp4')]);
  const zeroed = readFileSync(pathOf('zeroed.mp4'));
  zeroed.fill(0, zeroed.indexOf('mdat') + 4);
  writeFileSync(pathOf('zeroed.mp4'), zeroed);

  for (const [file, reason] of [
    ['noise.mp4', /is not a video ffmpeg can read/],
    ['audio-only.m4a', /no video track \(it is audio only\)/],
    ['zeroed.mp4', /decoded no frame of its video stream \(30 packets\), so it cannot be sampled/],
  ] as const) {
    const result = await frames(['estimate', pathOf(file)]);
    expect({ file, code: result.code, stdout: result.stdout }).toEqual({ file, code: 2, stdout: '' });
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(reason);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  }
});
