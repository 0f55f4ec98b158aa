import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { frameTimestampMs } from '../../pipeline/run-layout';
import { RAMP_LUMA_PER_FRAME, frames, rampVideo, readResults, scratchDirectory } from './support/frames-cli';

/**
 * `frames run` end to end on the local cloud: real local S3 server, dynalite, SQS server, the local
 * MediaConvert endpoint running ffmpeg, and the deployable bundles. The ramp video's brightness
 * identifies each source frame, so every result line can be checked against its timestamp.
 */
const scratch = scratchDirectory('run');
const dataDir = join(scratch.path, 'data');
const ramp = join(scratch.path, 'ramp.mp4');
const SOURCE_RATE = 30;
const SECONDS = 2;

beforeAll(() => rampVideo(ramp, { seconds: SECONDS, rate: String(SOURCE_RATE) }));
afterAll(() => scratch.remove());

/** Frames k with k / rate < duration: what MediaConvert and `fps=N/D` capture. */
const expectedCount = (numerator: number, denominator: number) => Math.ceil((SECONDS * numerator) / denominator);

async function runAndCheck(fps: { numerator: number; denominator: number }, extra: string[] = []) {
  const fpsText = fps.denominator === 1 ? String(fps.numerator) : `${fps.numerator}/${fps.denominator}`;
  const result = await frames(['run', ramp, '--fps', fpsText, '--json', '--data-dir', dataDir, ...extra]);
  expect(result.stderr).not.toMatch(/frames: /);
  expect(result.code).toBe(0);
  expect(result.reports).toHaveLength(1);
  const [report] = result.reports;
  expect(report).toMatchObject({ videoId: 'ramp.mp4', status: 'COMPLETE', failedFrames: 0 });
  expect(report.processedFrames).toBe(report.totalFrames);
  const lines = readResults(report.results!);
  expect(lines).toHaveLength(report.totalFrames!);
  lines.forEach((line, index) => {
    // Ordered and complete: line i is frame i, with its own key and timestamp.
    expect(line.index).toBe(index);
    expect(line.key).toMatch(new RegExp(`/frames/frame\\.${String(index).padStart(7, '0')}\\.jpg$`));
    expect(line.timestampMs).toBe(frameTimestampMs(index, fps));
    // The pixels are those of the source frame nearest to the timestamp.
    const sourceFrame = Math.round((line.timestampMs / 1000) * SOURCE_RATE);
    expect(Math.abs(line.output!.meanLuminance - sourceFrame * RAMP_LUMA_PER_FRAME)).toBeLessThan(2);
  });
  return { report, lines };
}

test('30 fps captures every frame of a 30 fps video, in order, each at its own timestamp', async () => {
  const { report } = await runAndCheck({ numerator: 30, denominator: 1 });
  expect(report.totalFrames).toBe(expectedCount(30, 1));
  expect(report).toMatchObject({ frameWidth: 64, frameHeight: 64, fps: '30/1' });
  expect(existsSync(report.summary!)).toBe(true);
});

test('5 fps captures every sixth source frame', async () => {
  const { report, lines } = await runAndCheck({ numerator: 5, denominator: 1 });
  expect(report.totalFrames).toBe(expectedCount(5, 1));
  expect(lines.map((line) => line.timestampMs)).toEqual([0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800]);
});

test('30000/1001 fps keeps the NTSC rate exact', async () => {
  const { report, lines } = await runAndCheck({ numerator: 30000, denominator: 1001 });
  expect(report.totalFrames).toBe(expectedCount(30000, 1001));
  expect(report.fps).toBe('30000/1001');
  expect(lines.at(-1)!.timestampMs).toBe(Math.round((59 * 1001) / 30));
});

test('--max-captures stops the capture at that many frames', async () => {
  const { report } = await runAndCheck({ numerator: 30, denominator: 1 }, ['--max-captures', '7']);
  expect(report.totalFrames).toBe(7);
});

test('uploading the same key again starts a new run and keeps the earlier results', async () => {
  const first = await runAndCheck({ numerator: 5, denominator: 1 });
  const second = await runAndCheck({ numerator: 10, denominator: 1 });
  expect(second.report.runId).not.toBe(first.report.runId);
  expect(second.report.totalFrames).toBe(expectedCount(10, 1));
  expect(existsSync(first.report.results!)).toBe(true);

  const status = await frames(['status', 'ramp.mp4', '--json', '--data-dir', dataDir]);
  expect(status.code).toBe(0);
  expect(status.reports[0]).toMatchObject({ runId: second.report.runId, status: 'COMPLETE', totalFrames: 20 });
});
