import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { JobReport } from '../../cli/job-report';
import { type ResultLine, frames, readResults, scratchDirectory } from './support/frames-cli';
import { BUNDLED_FFMPEG, makeMediaMatrix } from './support/media-matrix';

/**
 * Segmented extraction (issue "Time to results") through the front door: the same videos run by
 * `npx frames run` under a stack config that splits them (up to 3 segments of at least 0.5 s)
 * and under one that never does (extraction.maxSegments 1). Every result line must be the same,
 * index, timestamp and the processor's output (size, luminance, sharpness, perceptual hash), with
 * only the capture's key differing (a segment's captures are in its own folder); and the videos a
 * segment could not be cut in exactly (variable frame rate, not an MP4, audio that outlasts the
 * video, a fragmented MP4, a grid that meets too rarely) must say so and run as one job.
 */
const scratch = scratchDirectory('segmented');
afterAll(() => scratch.remove());

const SEGMENTED = join(scratch.path, 'segmented.json');
const ONE_JOB = join(scratch.path, 'one-job.json');
const media = join(scratch.path, 'media');

/** 3 s at 29.97 fps as cameras encode it (B-frames, so an edit list), a ramp whose luminance names each frame. */
function makeNtscCameraVideo(path: string): void {
  execFileSync(BUNDLED_FFMPEG.path, [
    '-v', 'error', '-y', '-f', 'lavfi', '-i', "nullsrc=s=64x36:r=30000/1001:d=3,geq=lum='16+2*N':cb=128:cr=128",
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '10', '-bf', '2', '-pix_fmt', 'yuv420p', path,
  ]);
}

beforeAll(async () => {
  writeFileSync(SEGMENTED, JSON.stringify({ extraction: { maxSegments: 3, minSegmentSeconds: 0.5 } }));
  writeFileSync(ONE_JOB, JSON.stringify({ extraction: { maxSegments: 1 } }));
  execFileSync('mkdir', ['-p', media]);
  await makeMediaMatrix(media);
  makeNtscCameraVideo(join(media, 'ntsc-camera.mp4'));
}, 120_000);

/** Runs the videos at `fps` under a config; the reports by video. */
async function runAll(config: string, fps: string, videos: readonly string[], dataDir: string): Promise<Map<string, JobReport>> {
  const result = await frames(['run', ...videos.map((video) => join(media, video)), '--fps', fps, '--json', '--data-dir', dataDir], {
    env: { FRAMES_CONFIG: config },
    timeoutMs: 300_000,
  });
  expect(result.stderr).not.toMatch(/frames: /);
  expect(result.reports.map((report) => [report.videoId, report.status])).toEqual(videos.map((video) => [video, 'COMPLETE']));
  return new Map(result.reports.map((report) => [report.videoId, report]));
}

/** A result line without the capture's key: what must not depend on how the frames were captured. */
const comparable = ({ key: _key, ...line }: ResultLine) => line;

const CASES: ReadonlyArray<{ fps: string; segmented: Record<string, number>; oneJob: Record<string, RegExp> }> = [
  {
    fps: '30',
    segmented: { 'cfr.mp4': 3, 'one-fps.mp4': 3 },
    oneJob: {
      'vfr-rotated.mp4': /the frame rate varies/,
      'offset.ts': /not an MP4\/MOV file/,
      'long-audio.mp4': /audio outlasts the video/,
      'fragmented.mp4': /fragmented MP4/,
      // 29.97 fps captured at 30 fps: the grids meet every 1,001 captures, 33 s apart.
      'ntsc-camera.mp4': /only every 1001 captures/,
    },
  },
  { fps: '5', segmented: { 'cfr.mp4': 3, 'one-fps.mp4': 3 }, oneJob: { 'ntsc-camera.mp4': /only every 1001 captures/ } },
  { fps: '30000/1001', segmented: { 'ntsc-camera.mp4': 3 }, oneJob: { 'cfr.mp4': /only every 1000 captures/ } },
];

describe.each(CASES)('captured at $fps fps', ({ fps, segmented, oneJob }) => {
  const videos = [...Object.keys(segmented), ...Object.keys(oneJob)];
  let split: Map<string, JobReport>;
  let whole: Map<string, JobReport>;

  beforeAll(async () => {
    const tag = fps.replace('/', '-');
    // One after the other: two local clouds at once would only slow both down.
    split = await runAll(SEGMENTED, fps, videos, join(scratch.path, `split-${tag}`));
    whole = await runAll(ONE_JOB, fps, videos, join(scratch.path, `whole-${tag}`));
  }, 600_000);

  test.each(Object.entries(segmented))('%s is split into %i segments, one job each, and gives the same results as one job', (video, segments) => {
    const report = split.get(video)!;
    expect(report.extraction).toMatchObject({ segments, plan: expect.stringContaining(`${segments} segments`) });
    expect(report.extraction!.jobIds).toHaveLength(segments);
    expect(new Set(report.extraction!.jobIds).size).toBe(segments);
    expect(whole.get(video)!.extraction).toMatchObject({ segments: 1, plan: 'one job: extraction.maxSegments is 1' });
    sameResults(report, whole.get(video)!);
    // Each segment's captures are in its own folder, numbered from 0 by its own job.
    const folders = new Set(readResults(report.results!).map((line) => /\/frames\/(segment-\d{3})\/frame\.\d{7}\.jpg$/.exec(line.key)?.[1]));
    expect(folders.size).toBe(segments);
  });

  test.each(Object.entries(oneJob))('%s runs as one job, and says why', (video, why) => {
    const report = split.get(video)!;
    expect(report.extraction).toMatchObject({ segments: 1, plan: expect.stringMatching(why) });
    sameResults(report, whole.get(video)!);
  });
});

function sameResults(split: JobReport, whole: JobReport): void {
  expect(split.totalFrames).toBe(whole.totalFrames);
  expect(split).toMatchObject({ processedFrames: whole.totalFrames, failedFrames: 0, frameWidth: whole.frameWidth, frameHeight: whole.frameHeight });
  const splitLines = readResults(split.results!);
  const wholeLines = readResults(whole.results!);
  expect(splitLines).toHaveLength(whole.totalFrames!);
  // Line for line: index, timestamp, and every field the processor wrote (the perceptual hash among them).
  expect(splitLines.map(comparable)).toEqual(wholeLines.map(comparable));
  expect(splitLines.map((line) => line.index)).toEqual(wholeLines.map((_, index) => index));
}
