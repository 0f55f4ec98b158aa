import { join } from 'node:path';
import { mib, runMeasured, seconds } from '../../bench/measure-process';
import type { JobReport } from '../../cli/job-report';
import { FRAMES_CLI, rampVideo, scratchDirectory } from '../integration/support/frames-cli';
import { expectCompleteAndExact, expectNothingRunning } from './support/run-integrity';

/**
 * Load: 20 videos uploaded at once into one local cloud (`frames run` uploads them together), each
 * processed to the last frame. Wall time and peak memory of the whole local run are printed, not
 * asserted: shared machines are too noisy to time in a test (the benchmarks judge speed).
 */
const scratch = scratchDirectory('load');
afterAll(() => scratch.remove());

const VIDEOS = 20;
/** 3 s at 30 fps, captured at 15 fps: 45 frames each. */
const FRAMES_PER_VIDEO = 45;

test('20 videos at once all COMPLETE with exact counts', async () => {
  const videos = Array.from({ length: VIDEOS }, (_, index) => join(scratch.path, `load-${String(index).padStart(2, '0')}.mp4`));
  // Five at a time: generating is not what is measured.
  for (let start = 0; start < videos.length; start += 5) {
    await Promise.all(videos.slice(start, start + 5).map((video) => rampVideo(video, { seconds: 3, rate: '30' })));
  }
  const dataDir = join(scratch.path, 'data');

  const run = await runMeasured(process.execPath, [FRAMES_CLI, 'run', ...videos, '--fps', '15', '--json', '--data-dir', dataDir], {
    env: { ...process.env, FRAMES_DATA_DIR: '' },
  });

  expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
  const reports = run.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as JobReport);
  expect(reports).toHaveLength(VIDEOS);
  let frames = 0;
  for (const report of reports) {
    expectCompleteAndExact(report, FRAMES_PER_VIDEO);
    expect(report.failedFrames).toBe(0);
    frames += report.processedFrames;
  }
  await expectNothingRunning(dataDir);
  process.stdout.write(
    `load: ${VIDEOS} videos uploaded at once, ${frames} frames, all COMPLETE, 0 lost; ` +
      `wall time ${seconds(run.ms)}, peak memory ${mib(run.peakBytes)} (the CLI and every process it started)\n`,
  );
});
