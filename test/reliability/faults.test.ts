import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAULT_SETTINGS, type FaultName } from '../../local/faults/fault-plan';
import { ERROR_CODE } from '../../pipeline/job-record';
import type { JobReport } from '../../cli/job-report';
import { type CliResult, frames, rampVideo, scratchDirectory } from '../integration/support/frames-cli';
import { expectCompleteAndExact, expectNothingRunning, injectedFaults } from './support/run-integrity';

/**
 * Each fault of local mode's fault-injection switch (FRAMES_FAULTS), injected into a real run of
 * two videos: the run must still count every frame once, list every frame once in results.jsonl,
 * and leave no job running. injected.jsonl proves each fault fired: a fault that never happened
 * would make these tests pass for nothing.
 */
const scratch = scratchDirectory('faults');
afterAll(() => scratch.remove());

/** 3 s at 30 fps, captured at 30 fps: 90 frames, in 4 messages of 25 (batches 0..3). */
const FRAMES_PER_VIDEO = 90;
const videos = [join(scratch.path, 'first.mp4'), join(scratch.path, 'second.mp4')];
const config = join(scratch.path, 'frames.config.json');
const failureTotals: Record<string, number> = {};

beforeAll(async () => {
  await Promise.all(videos.map((video) => rampVideo(video, { seconds: 3, rate: '30' })));
  // Small messages, so a run has several batches for the faults to land between.
  writeFileSync(config, JSON.stringify({ processing: { framesPerMessage: 25 } }));
});

afterAll(() => {
  // The figures the issue asks for, printed where CI's log shows them.
  process.stdout.write(`faults injected per fault: ${JSON.stringify(failureTotals)}\n`);
});

async function runWithFaults(fault: FaultName | 'all'): Promise<{ result: CliResult; dataDir: string }> {
  const dataDir = join(scratch.path, fault);
  const result = await frames(['run', ...videos, '--fps', '30', '--json', '--data-dir', dataDir], {
    env: { FRAMES_FAULTS: fault, FRAMES_CONFIG: config },
  });
  expect(result.stderr).toContain(`Fault injection is on (FRAMES_FAULTS)`);
  expect(result.reports.map((report) => report.videoId).sort()).toEqual(['first.mp4', 'second.mp4']);
  return { result, dataDir };
}

function recordInjected(dataDir: string) {
  const counts = injectedFaults(dataDir);
  for (const [name, count] of Object.entries(counts)) failureTotals[name] = (failureTotals[name] ?? 0) + count;
  return counts;
}

/** Frames the processor-throws fault fails: every 7th from frame 3. */
const thrownFor = (total: number) =>
  [...Array(total).keys()].filter((index) => index % FAULT_SETTINGS.processorThrows.every === FAULT_SETTINGS.processorThrows.at);

test('the processor throwing for some frames: those frames are failed, named in the results, the rest processed', async () => {
  const { result, dataDir } = await runWithFaults('processor-throws');
  expect(result.code).toBe(0);
  const thrown = thrownFor(FRAMES_PER_VIDEO);
  for (const report of result.reports) {
    const lines = expectCompleteAndExact(report, FRAMES_PER_VIDEO);
    expect(report.failedFrames).toBe(thrown.length);
    expect(lines.filter((line) => line.error).map((line) => line.index)).toEqual(thrown);
    expect(lines[thrown[0]].error).toMatchObject({ name: 'InjectedProcessorFault', message: expect.stringMatching(/failed 3 of 3 attempts/) });
  }
  // Three attempts for each thrown frame of each video.
  expect(recordInjected(dataDir)['processor-throws']).toBe(2 * 3 * thrown.length);
  await expectNothingRunning(dataDir);
});

/** The mediaconvert-error fault fails the first job: one video FAILED with it, exit 1; returns the other. */
function expectOneFailedByMediaConvert(result: CliResult): JobReport {
  expect(result.code).toBe(1);
  const failed = result.reports.filter((report) => report.status === 'FAILED');
  expect(failed).toHaveLength(1);
  expect(failed[0].error).toMatchObject({
    code: ERROR_CODE.mediaConvertError,
    serviceCode: 1999,
    message: expect.stringMatching(/injected fault \(mediaconvert-error\)/),
  });
  // Nothing was counted for a run whose frames were never complete.
  expect(failed[0]).toMatchObject({ processedFrames: 0, failedFrames: 0 });
  expect(failed[0].totalFrames).toBeUndefined();
  return result.reports.find((report) => report.status === 'COMPLETE')!;
}

test('a MediaConvert ERROR mid-job fails that job with its code; the other video completes', async () => {
  const { result, dataDir } = await runWithFaults('mediaconvert-error');
  expectCompleteAndExact(expectOneFailedByMediaConvert(result), FRAMES_PER_VIDEO);
  expect(recordInjected(dataDir)).toEqual({ 'mediaconvert-error': 1 });
  await expectNothingRunning(dataDir);
});

/** Faults the pipeline absorbs without losing or failing a frame: both videos exact, nothing failed. */
test.each<[FaultName, string, (injected: number) => void]>([
  // Two uploads, two submissions, each video's job state changes, and 4 batches a video, at least.
  ['duplicate-delivery', 'every event and every queue message delivered twice', (injected) => expect(injected).toBeGreaterThanOrEqual(2 + 2 + 8)],
  ['worker-crash', 'a worker process killed mid-batch (the batch comes back)', (injected) => expect(injected).toBe(2)],
  ['s3-outage', 'the S3 server refusing connections for a few seconds', (injected) => expect(injected).toBe(1)],
  // Each video makes at least 2 claims and state changes and 4 batch counts: 12+ writes, 4+ throttled.
  ['dynamodb-throttle', 'DynamoDB throttling one item write in three', (injected) => expect(injected).toBeGreaterThanOrEqual(4)],
])('%s (%s): every frame counted and listed once, none failed', async (fault, _, expectInjected) => {
  const { result, dataDir } = await runWithFaults(fault);
  expect(result.code).toBe(0);
  for (const report of result.reports) {
    expectCompleteAndExact(report, FRAMES_PER_VIDEO);
    expect(report.failedFrames).toBe(0);
  }
  const injected = recordInjected(dataDir);
  expect(Object.keys(injected)).toEqual([fault]);
  expectInjected(injected[fault]!);
  await expectNothingRunning(dataDir);
});

test('all six faults at once: one job FAILED by MediaConvert, the other exact', async () => {
  const { result, dataDir } = await runWithFaults('all');
  const completed = expectOneFailedByMediaConvert(result);
  expectCompleteAndExact(completed, FRAMES_PER_VIDEO);
  expect(completed.failedFrames).toBe(thrownFor(FRAMES_PER_VIDEO).length);
  const counts = recordInjected(dataDir);
  expect(Object.keys(counts).sort()).toEqual(
    ['duplicate-delivery', 'dynamodb-throttle', 'mediaconvert-error', 'processor-throws', 's3-outage', 'worker-crash'],
  );
  await expectNothingRunning(dataDir);
});
