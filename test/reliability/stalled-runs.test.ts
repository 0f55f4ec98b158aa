import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobReport } from '../../cli/job-report';
import { FAULT_SETTINGS } from '../../local/faults/fault-plan';
import { MEDIACONVERT_MAX_ATTEMPTS } from '../../functions/shared/media-converter';
import { ASYNC_INVOCATION_RETRIES } from '../../pipeline/topology';
import { type CliResult, frames, rampVideo, scratchDirectory, startLocalUp } from '../integration/support/frames-cli';
import { expectCompleteAndExact, expectNothingRunning, injectedFaults } from './support/run-integrity';

/**
 * The two faults that, in an account, would leave a run in a running state with nothing coming
 * (issue "Nothing stalls in the cloud"), each through the product's front door:
 * - completion-crash: the completion function dies mid-fan-out on every attempt; the failed-events
 *   function hands the run to the sweeper, which finishes the fan-out;
 * - mediaconvert-unavailable: every submission fails beyond its retries; the run ends FAILED with
 *   RETRIES_EXHAUSTED and its event kept, and after the fault clears, `frames redrive` (the
 *   command the CLI prints) resumes it to COMPLETE.
 * Exact: every frame once, counts add up, nothing left running, the outcome event on the bus.
 * Bounded: how often a fault fired, by the retry limits.
 */
const scratch = scratchDirectory('stalled-runs');
afterAll(() => scratch.remove());

/** 10 s at 30 fps captured at 30 fps, 25 frames a message: 12 messages, so a fan-out needs two SendMessageBatch calls. */
const LONG_FRAMES = 300;
const SHORT_FRAMES = 60;
const longVideo = join(scratch.path, 'long.mp4');
const shortVideo = join(scratch.path, 'short.mp4');
const config = join(scratch.path, 'frames.config.json');
const invocationsOfAnEvent = 1 + ASYNC_INVOCATION_RETRIES;

beforeAll(async () => {
  await Promise.all([rampVideo(longVideo, { seconds: 10, rate: '30', size: '96x64' }), rampVideo(shortVideo, { seconds: 2, rate: '30' })]);
  writeFileSync(config, JSON.stringify({ processing: { framesPerMessage: 25 } }));
});

const reportOf = (result: CliResult): JobReport => {
  expect(result.reports).toHaveLength(1);
  return result.reports[0];
};

test('completion-crash: the sweeper finishes a fan-out the completion function died in on every attempt', async () => {
  const dataDir = join(scratch.path, 'completion-crash');
  const result = await frames(['run', longVideo, '--fps', '30', '--json', '--data-dir', dataDir], {
    env: { FRAMES_FAULTS: 'completion-crash', FRAMES_CONFIG: config },
    timeoutMs: 300_000,
  });
  expect(result.code).toBe(0);
  const report = reportOf(result);
  expectCompleteAndExact(report, LONG_FRAMES);
  expect(report.failedFrames).toBe(0);
  // Killed once per attempt of the job's COMPLETE event: Lambda's retries are a fixed number.
  expect(injectedFaults(dataDir)).toEqual({ 'completion-crash': invocationsOfAnEvent });
  // The sweeper, not a retry, finished the fan-out: from the kept COMPLETE event, in one repair.
  expect(report.swept).toMatchObject({ action: 'replay COMPLETE', attempts: 1 });
  expect(report.outcomeEvent?.detailType).toBe('Video Frames Completed');
  await expectNothingRunning(dataDir);
});

test('mediaconvert-unavailable: FAILED with RETRIES_EXHAUSTED, then the printed frames redrive resumes it to COMPLETE', async () => {
  const dataDir = join(scratch.path, 'mediaconvert-unavailable');
  const cloud = await startLocalUp(dataDir, { FRAMES_FAULTS: 'mediaconvert-unavailable' });
  try {
    const target = ['--data-dir', dataDir];
    expect((await frames(['upload', shortVideo, '--fps', '30', ...target])).code).toBe(0);

    const failed = await frames(['watch', 'short.mp4', '--json', ...target], { timeoutMs: 240_000 });
    expect(failed.code).toBe(1);
    const failure = reportOf(failed);
    expect(failure).toMatchObject({ status: 'FAILED', error: { code: 'RETRIES_EXHAUSTED' }, redrive: 'npx frames redrive short.mp4' });
    expect(failure.error?.message).toContain('MediaConvert is unavailable');
    expect(failure.outcomeEvent?.detailType).toBe('Video Frames Failed');
    // Every invocation tried at least once, and none more than the SDK's attempts.
    const refused = injectedFaults(dataDir)['mediaconvert-unavailable'] ?? 0;
    expect({ refused, within: refused >= invocationsOfAnEvent && refused <= invocationsOfAnEvent * MEDIACONVERT_MAX_ATTEMPTS }).toMatchObject({ within: true });

    // The fault clears; the command the record and the report print, with this cloud's data directory.
    writeFileSync(join(dataDir, 'faults', FAULT_SETTINGS.mediaConvertAvailableFile), '');
    const redriven = await frames([...failure.redrive!.split(' ').slice(2), ...target]);
    expect(redriven.code).toBe(0);
    expect(redriven.stderr).toContain('Redriven: short.mp4.');
    const follow = /^Follow it: npx frames (.+)$/m.exec(redriven.stdout)![1].split(' ');
    const resumed = await frames([...follow, '--json'], { timeoutMs: 240_000 });
    expect(reportOf(resumed)).toMatchObject({ status: 'COMPLETE', runId: failure.runId, outcomeEvent: { detailType: 'Video Frames Completed' } });

    const results = await frames(['results', 'short.mp4', '--json', '--out', join(scratch.path, 'redriven-results'), ...target]);
    expectCompleteAndExact(reportOf(results), SHORT_FRAMES);
    // Nothing was refused after the fault cleared.
    expect(injectedFaults(dataDir)['mediaconvert-unavailable']).toBe(refused);

    // `frames local up` printed both outcome events as they happened, in order.
    const events = cloud.lines.map((line) => JSON.parse(line) as { 'detail-type': string; detail: { videoId: string; runId: string; error?: { code: string } } });
    expect(events.map((event) => [event['detail-type'], event.detail.videoId, event.detail.runId, event.detail.error?.code])).toEqual([
      ['Video Frames Failed', 'short.mp4', failure.runId, 'RETRIES_EXHAUSTED'],
      ['Video Frames Completed', 'short.mp4', failure.runId, undefined],
    ]);
    await expectNothingRunning(dataDir);
  } finally {
    await cloud.stop();
  }
});
