import { existsSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CLOUD_FILE } from '../../local/cloud/cloud-description';
import { frames, rampVideo, readResults, scratchDirectory } from './support/frames-cli';

const scratch = scratchDirectory('failures');
const dataDir = join(scratch.path, 'data');
afterAll(() => scratch.remove());

test('a corrupt file ends FAILED with MediaConvert\'s error, and the CLI exits 1', async () => {
  const corrupt = join(scratch.path, 'corrupt.mp4');
  writeFileSync(corrupt, randomBytes(64 * 1024));

  const result = await frames(['run', corrupt, '--json', '--data-dir', dataDir]);

  expect(result.code).toBe(1);
  expect(result.reports).toHaveLength(1);
  expect(result.reports[0]).toMatchObject({ videoId: 'corrupt.mp4', status: 'FAILED' });
  expect(result.reports[0].error).toMatchObject({ code: 'MEDIACONVERT_ERROR', serviceCode: 1010 });
  expect(result.reports[0].error!.message).toMatch(/Unable to open input file \[s3:\/\/[^\]]+corrupt\.mp4\]/);

  // The record persists after the run: status reads it from the job table on disk.
  const status = await frames(['status', 'corrupt.mp4', '--data-dir', dataDir]);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/corrupt\.mp4: FAILED/);
  expect(status.stdout).toMatch(/MEDIACONVERT_ERROR/);
});

test('two videos at once both complete with exact counts', async () => {
  const short = join(scratch.path, 'short.mp4');
  const long = join(scratch.path, 'long clip.mp4');
  await Promise.all([rampVideo(short, { seconds: 2, rate: '30' }), rampVideo(long, { seconds: 3, rate: '30' })]);

  const result = await frames(['run', short, long, '--fps', '10', '--json', '--data-dir', dataDir]);

  expect(result.code).toBe(0);
  const byId = Object.fromEntries(result.reports.map((report) => [report.videoId, report]));
  expect(byId['short.mp4']).toMatchObject({ status: 'COMPLETE', totalFrames: 20, processedFrames: 20 });
  // A space in the key travels URL-encoded in the S3 event, as real S3 sends it, and back.
  expect(byId['long clip.mp4']).toMatchObject({ status: 'COMPLETE', totalFrames: 30, processedFrames: 30 });
  expect(readResults(byId['long clip.mp4'].results!).map((line) => line.index)).toEqual([...Array(30).keys()]);
  expect(existsSync(join(dataDir, CLOUD_FILE))).toBe(false);
});

test('bad input is refused before anything starts, with exit code 2', async () => {
  const video = join(scratch.path, 'any.mp4');
  writeFileSync(video, 'not looked at: the command line is checked first');
  const cases: Array<[string[], RegExp]> = [
    [['run', video, '--fps', '30/0'], /fps "30\/0"/],
    [['run', video, '--quality', '101'], /quality/i],
    [['run', video, '--max-captures', '-1'], /max/i],
    [['run', join(scratch.path, 'missing.mp4')], /no such file/],
    [['run', join(scratch.path)], /is not a file/],
    [['run', video, '--key', 'notes.txt'], /does not end in one of the video suffixes/],
    [['run'], /missing required argument/],
  ];
  for (const [args, message] of cases) {
    const result = await frames([...args, '--data-dir', dataDir]);
    expect({ args, code: result.code }).toEqual({ args, code: 2 });
    expect(result.stderr).toMatch(message);
  }
});

test('status of a video that never ran exits 3 and says what a video id is', async () => {
  const result = await frames(['status', 'never-uploaded.mp4', '--data-dir', dataDir]);
  expect(result.code).toBe(3);
  expect(result.stderr).toMatch(/No job for video id "never-uploaded.mp4".*file name/);
});
