import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type RunningLocalUp, frames, npxFrames, rampVideo, scratchDirectory, startLocalUp } from './support/frames-cli';

/**
 * What a new user meets first, through the front door: `npx frames` (npm runs the bin through a
 * symlink named `frames`), from the repository and from another directory, with stdout and stderr
 * piped (not a terminal), as in a script or CI log.
 */
const scratch = scratchDirectory('first-minutes');
const dataDir = join(scratch.path, 'data');

beforeAll(() => rampVideo(join(scratch.path, 'clip.mp4'), { seconds: 1, rate: '30' }));
afterAll(() => scratch.remove());

test('npx frames --help lists every command and the exit codes', async () => {
  const result = await frames(['--help']);
  expect(result.code).toBe(0);
  for (const command of ['run', 'demo', 'clip', 'upload', 'status', 'watch', 'list', 'results', 'estimate', 'local']) {
    expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  }
  expect(result.stdout).toMatch(/Exit codes:/);
});

test('npx frames run … --json, from another directory: exactly one JSON object on stdout, each state once on stderr', async () => {
  // Relative paths from the user's own directory: the repository is only where the bin lives.
  const result = await frames(['run', 'clip.mp4', '--fps', '10', '--json', '--data-dir', 'data'], { cwd: scratch.path });
  expect(result.stderr).not.toMatch(/frames: /);
  expect(result.code).toBe(0);
  const lines = result.stdout.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0])).toMatchObject({ videoId: 'clip.mp4', status: 'COMPLETE', totalFrames: 10, processedFrames: 10, failedFrames: 0 });

  const progress = result.stderr.split('\n').filter(Boolean);
  // The few seconds the cloud takes to start are announced, then its readiness.
  expect(progress[0]).toBe(`Starting a local cloud on ${dataDir}...`);
  expect(progress[1]).toMatch(/^Local cloud ready in \d+\.\d s\.$/);
  // Each state once: the upload, the submission, the end.
  expect(progress.filter((line) => line.startsWith('clip.mp4: uploaded'))).toHaveLength(1);
  expect(progress.filter((line) => line.startsWith('clip.mp4: submitted'))).toHaveLength(1);
  expect(progress.filter((line) => line.startsWith('clip.mp4: COMPLETE'))).toHaveLength(1);
  expect(new Set(progress).size).toBe(progress.length);
});

test('npx frames watch on a finished job prints its final state at once, with no replayed progress', async () => {
  const result = await frames(['watch', 'clip.mp4', '--data-dir', dataDir]);
  expect(result.code).toBe(0);
  expect(result.stderr).toBe('');
  expect(result.stdout).toMatch(/^clip\.mp4: COMPLETE\n {2}frames {6}10 processed, 0 failed, 10 in all\n/);
});

test('npx frames run missing.mp4 exits 2 with one line naming the file', async () => {
  const result = await frames(['run', 'missing.mp4', '--data-dir', dataDir], { cwd: scratch.path });
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toBe('frames: Cannot read missing.mp4: no such file.\n');
});

describe('a second frames local up on the same data directory', () => {
  const upDir = join(scratch.path, 'up');
  let first: RunningLocalUp;

  beforeAll(async () => {
    first = await startLocalUp(upDir);
  });
  afterAll(() => first.stop());

  test('says in one line what to do and exits 3', async () => {
    const result = await frames(['local', 'up', '--data-dir', upDir]);
    expect(result.code).toBe(3);
    const lines = result.stderr.split('\n').filter(Boolean);
    expect(lines).toEqual([
      `frames: A local cloud (pid ${first.cloud.pid}, frames local up) already runs on ${upDir}. ` +
        `Use it (frames upload, run and watch find it), or stop it (Ctrl-C in its terminal, or kill ${first.cloud.pid}), or pass --data-dir to start another.`,
    ]);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

test('frames local up says it is starting before the few seconds it takes, then prints commands to paste', async () => {
  const npx = npxFrames(['local', 'up', '--data-dir', join(scratch.path, 'printed')]);
  const child = spawn(npx.command, npx.args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, FRAMES_DATA_DIR: '' } });
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const stdout: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      stdout.push(line);
      if (line.includes('npx frames watch')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`frames local up exited with ${code}: ${stderr.join('')}`)));
  });
  process.kill(-child.pid!, 'SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  expect(stderr.join('')).toMatch(/^Starting the local cloud on .*\.\.\.\nLocal cloud ready in \d+\.\d s\.\n/);
  const printed = stdout.join('\n');
  // aws-cli v1 reads only AWS_DEFAULT_REGION; v2 reads AWS_REGION first.
  expect(printed).toMatch(/^ {2}export AWS_ACCESS_KEY_ID=\S+ AWS_SECRET_ACCESS_KEY=\S+ AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1$/m);
  expect(printed).toMatch(/^ {2}aws --endpoint-url http:\/\/127\.0\.0\.1:\d+ s3 ls$/m);
  // What is printed for the frames command runs as printed: through npx, not a `frames` on the PATH.
  expect(printed).not.toMatch(/^ {2}frames (upload|watch|status|run|list|results) /m);
});
