import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join, resolve } from 'node:path';
import { runFfmpeg } from '../../local/ffmpeg';

/**
 * What `frames local up` prints for the AWS CLI, pasted as is into a shell with a real `aws`:
 * aws-cli v1 (Python, `pip install awscli`) and v2 (Debian's `awscli` package), each against its
 * own fresh local cloud, with an empty HOME (no ~/.aws to help) and no AWS_* variable but those
 * the pasted `export` sets. List the buckets, copy a video over the CLI's 8 MB multipart threshold
 * into the ingress bucket, poll the pasted get-item until the job is COMPLETE; then `aws s3
 * presign` (SigV2 from v1, refused with S3's error; SigV4 from v2, which serves the bytes).
 *
 * Run by `npm run test:aws-cli` (.ci/run installs Debian's awscli first), never by `npm test`.
 * With CI=true both major versions must be found; elsewhere the ones installed run.
 */

const REPOSITORY = resolve(__dirname, '../..');
/** aws-cli's default multipart_threshold (both versions). */
const MULTIPART_THRESHOLD = 8 * 1024 * 1024;
const CLOUD_START_TIMEOUT_MS = 180_000;
const JOB_TIMEOUT_MS = 120_000;
const COMMAND_TIMEOUT_MS = 120_000;

const onCi = /^(true|1)$/i.test(process.env.CI ?? '');
const scratch = mkdtempSync(join(tmpdir(), 'frames-aws-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The machine's environment without a single AWS_* variable (a developer's profile, CI's keys). */
function withoutAwsVariables(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
}

const emptyHome = (name: string) => {
  const home = join(scratch, name);
  mkdirSync(home, { recursive: true });
  return home;
};

// ---------------------------------------------------------------------------------------------
// Which aws CLIs this machine has.

interface AwsCli {
  readonly major: 1 | 2;
  /** `aws-cli/2.9.19` */
  readonly version: string;
  /** The command that runs it: a path, or `python3 -m awscli`. */
  readonly argv: readonly string[];
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

const versions = new Map<string, string | undefined>();
function versionOf(argv: readonly string[]): string | undefined {
  const id = argv.length === 1 ? realpathSync(argv[0]) : argv.join(' ');
  if (!versions.has(id)) {
    const result = spawnSync(argv[0], [...argv.slice(1), '--version'], {
      encoding: 'utf8',
      env: { ...withoutAwsVariables(), HOME: emptyHome('version-home') },
      timeout: 60_000,
    });
    versions.set(id, result.status === 0 ? /aws-cli\/\d+\.\S+/.exec(`${result.stdout} ${result.stderr}`)?.[0] : undefined);
  }
  return versions.get(id);
}

/** v2: /usr/bin/aws (Debian's package) or the first `aws` on PATH that is v2. v1: the first `aws` on PATH that is v1, or `python3 -m awscli`. */
function findAwsClis(): AwsCli[] {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((directory) => join(directory, 'aws')).filter(isExecutable);
  const candidates: Record<1 | 2, string[][]> = {
    2: [...(isExecutable('/usr/bin/aws') ? [['/usr/bin/aws']] : []), ...onPath.map((path) => [path])],
    1: [...onPath.map((path) => [path]), ['python3', '-m', 'awscli']],
  };
  const found: AwsCli[] = [];
  for (const major of [1, 2] as const) {
    for (const argv of candidates[major]) {
      const version = versionOf(argv);
      if (version?.startsWith(`aws-cli/${major}.`)) {
        found.push({ major, version, argv });
        break;
      }
    }
  }
  return found;
}

const clis = findAwsClis();
const ran: string[] = [];
const describeCli = (cli: AwsCli) => `${cli.version} (${cli.argv.join(' ')})`;

afterAll(() => {
  process.stderr.write(`aws-cli test: ran with ${ran.length > 0 ? ran.join('; ') : 'no aws CLI'}\n`);
});

test(`an aws CLI to paste into is installed${onCi ? ' (CI: both v1 and v2)' : ''}`, () => {
  process.stderr.write(`aws-cli test: found ${clis.length > 0 ? clis.map(describeCli).join(', ') : 'no aws CLI'}\n`);
  expect(clis.map(describeCli)).not.toEqual([]);
  if (onCi) expect(clis.map((cli) => cli.major)).toEqual([1, 2]);
});

// ---------------------------------------------------------------------------------------------
// `frames local up`, as a person starts it and stops it.

interface RunningCloud {
  /** Everything on stdout up to the blank line that ends the AWS CLI commands. */
  readonly printed: Promise<string>;
  stop(): Promise<{ code: number | null; stderr: string }>;
}

/** Every process on the machine with its parent and command line (Linux /proc). */
function processTable(): Array<{ pid: number; ppid: number; argv: string[] }> {
  const table: Array<{ pid: number; ppid: number; argv: string[] }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      table.push({ pid: Number(entry), ppid, argv });
    } catch {
      // Gone meanwhile.
    }
  }
  return table;
}

/**
 * The `frames local up` node process under npx. npm does not pass SIGTERM on to the command it
 * runs (npx exits and the local cloud keeps running, orphaned), so the signal goes to frames itself.
 */
function framesProcess(npxPid: number): number | undefined {
  const table = processTable();
  const descendants = new Set([npxPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const entry of table) {
      if (descendants.has(entry.ppid) && !descendants.has(entry.pid)) {
        descendants.add(entry.pid);
        grew = true;
      }
    }
  }
  return table.find((entry) => descendants.has(entry.pid) && basename(entry.argv[0] ?? '') === 'node' && entry.argv.includes('local') && entry.argv.includes('up'))?.pid;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

function startLocalUp(dataDirectory: string): RunningCloud {
  const env = withoutAwsVariables();
  delete env.FRAMES_DATA_DIR;
  delete env.FRAMES_FAULTS;
  // Its own process group, so that whatever is left at the end can be found (and killed).
  const child: ChildProcess = spawn('npx', ['--no-update-notifier', 'frames', 'local', 'up', '--data-dir', dataDirectory], {
    cwd: REPOSITORY,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code, signal) => resolveExit(code ?? (signal ? -1 : null))));
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const printed = new Promise<string>((resolvePrinted, reject) => {
    const timer = setTimeout(() => reject(new Error(`frames local up printed no AWS CLI commands in ${CLOUD_START_TIMEOUT_MS / 1000} s.\nstdout:\n${stdout}\nstderr:\n${stderr}`)), CLOUD_START_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
      // The header, its lines, then the blank line that ends them.
      if (/^With the AWS CLI.*\n(?:.*\S.*\n)*[ \t]*\n/m.test(stdout)) {
        clearTimeout(timer);
        resolvePrinted(stdout);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`frames local up exited (${code}) before printing the AWS CLI commands.\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    });
  });
  printed.catch(() => undefined);

  return {
    printed,
    async stop() {
      const pgid = child.pid!;
      if (!hasExited) {
        const frames = framesProcess(pgid);
        process.kill(frames ?? pgid, 'SIGTERM');
      }
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([exited, new Promise<'timeout'>((resolveTimeout) => (timer = setTimeout(() => resolveTimeout('timeout'), 30_000)))]);
      clearTimeout(timer);
      // Nothing of the cloud may outlive it: the functions' hosts, the services process.
      for (let waited = 0; groupAlive(pgid) && waited < 10_000; waited += 200) await sleep(200);
      const leftovers = groupAlive(pgid) ? processTable().filter((entry) => entry.pid !== process.pid && isInGroup(entry.pid, pgid)) : [];
      if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
      if (code === 'timeout') throw new Error(`frames local up did not stop within 30 s of SIGTERM.\nstderr:\n${stderr}`);
      if (leftovers.length > 0) throw new Error(`frames local up left processes running after it stopped: ${leftovers.map((entry) => entry.argv.join(' ')).join('\n')}`);
      return { code, stderr };
    },
  };
}

function isInGroup(pid: number, pgid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid;
  } catch {
    return false;
  }
}

/** The lines printed under "With the AWS CLI" that a person pastes: `export …` and `aws …`. */
function awsCliLines(printed: string): { exportLine: string; commands: string[] } {
  const block = /^With the AWS CLI.*\n((?:.*\S.*\n)*)/m.exec(printed)![1];
  const lines = block.split('\n').map((line) => line.trim());
  const exports = lines.filter((line) => line.startsWith('export '));
  const commands = lines.filter((line) => line.startsWith('aws '));
  expect({ exports: exports.length, printed }).toEqual({ exports: 1, printed });
  return { exportLine: exports[0], commands };
}

/** The names `frames local up` prints for its buckets (`  ingress bucket  frames-ingress`). */
const printedBuckets = (printed: string) => [...printed.matchAll(/^\s+\w+ bucket\s+(\S+)\s*$/gm)].map((match) => match[1]);

// ---------------------------------------------------------------------------------------------
// Pasting.

interface Shell {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

interface Pasted {
  readonly command: string;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs pasted lines in bash, as a terminal would: the export line first, then the command. */
function paste(shell: Shell, lines: readonly string[]): Promise<Pasted> {
  return new Promise((resolvePasted, reject) => {
    const child = spawn('bash', ['-c', lines.join('\n')], { cwd: shell.cwd, env: shell.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolvePasted({ command: lines[lines.length - 1], code, stdout, stderr });
    });
  });
}

/** A failed command shows itself, its exit code and what it said (the cp's progress lines cut). */
function expectSuccess(result: Pasted): void {
  const tail = (text: string) => (text.length > 2_000 ? `…${text.slice(-2_000)}` : text);
  expect({ command: result.command, code: result.code, stderr: tail(result.stderr) }).toEqual({ command: result.command, code: 0, stderr: expect.anything() });
}

type AttributeValue = { S?: string; N?: string };
type JobItem = Record<string, AttributeValue>;

async function pollJobItem(shell: Shell, exportLine: string, getItem: string): Promise<JobItem> {
  const deadline = Date.now() + JOB_TIMEOUT_MS;
  let last: JobItem | undefined;
  for (;;) {
    const result = await paste(shell, [exportLine, getItem]);
    expectSuccess(result);
    last = result.stdout.trim() ? (JSON.parse(result.stdout) as { Item?: JobItem }).Item : undefined;
    const status = last?.Status?.S;
    if (status === 'COMPLETE') return last!;
    if (status === 'FAILED') throw new Error(`The job FAILED: ${JSON.stringify(last, null, 2)}`);
    if (Date.now() > deadline) throw new Error(`The job was not COMPLETE within ${JOB_TIMEOUT_MS / 1000} s; last item: ${JSON.stringify(last, null, 2)}`);
    await sleep(1_000);
  }
}

let video: { path: string; size: number; sha256: string } | undefined;

/** A real video over the multipart threshold: lossless H.264 of a noisy test pattern (a plain testsrc compresses to under 1 MB even lossless). */
async function testVideo(): Promise<NonNullable<typeof video>> {
  if (!video) {
    const path = join(scratch, 'video.mp4');
    await runFfmpeg([
      '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25:duration=3',
      '-vf', 'noise=alls=10:allf=t',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv420p',
      path,
    ]);
    const bytes = readFileSync(path);
    video = { path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  expect(video.size).toBeGreaterThan(MULTIPART_THRESHOLD);
  return video;
}

for (const cli of clis) {
  test(`aws-cli v${cli.major}: the commands frames local up prints work pasted as is (list, multipart copy, job item; presign)`, async () => {
    const started = Date.now();
    const source = await testVideo();
    const root = join(scratch, `v${cli.major}`);
    const [bin, cwd, data] = ['bin', 'work', 'data'].map((name) => join(root, name));
    for (const directory of [bin, cwd]) mkdirSync(directory, { recursive: true });
    // `aws` in the pasted lines is this CLI, as it is on the machine of someone who has only it.
    const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
    writeFileSync(join(bin, 'aws'), `#!/bin/sh\nexec ${cli.argv.map(quote).join(' ')} "$@"\n`, { mode: 0o755 });
    copyFileSync(source.path, join(cwd, 'video.mp4'));
    const shell: Shell = {
      cwd,
      env: { ...withoutAwsVariables(), HOME: emptyHome(`v${cli.major}-home`), PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` },
    };
    const versionCheck = await paste(shell, ['aws --version']);
    expect(`${versionCheck.stdout}${versionCheck.stderr}`).toContain(cli.version);

    const cloud = startLocalUp(data);
    let failed = true;
    try {
      const printed = await cloud.printed;
      const { exportLine, commands } = awsCliLines(printed);
      const find = (pattern: RegExp) => {
        const command = commands.find((line) => pattern.test(line));
        expect({ pattern: String(pattern), found: command !== undefined, printed }).toEqual({ pattern: String(pattern), found: true, printed });
        return command!;
      };
      const list = find(/ s3 ls\b/);
      const copy = find(/ s3 cp video\.mp4 /);
      const getItem = find(/ dynamodb get-item /);
      const buckets = printedBuckets(printed);
      expect(buckets.length).toBeGreaterThanOrEqual(3);

      let item: JobItem | undefined;
      // In the order printed, each exactly as printed; the get-item is pasted until the job is done.
      for (const command of commands) {
        if (command === getItem) {
          item = await pollJobItem(shell, exportLine, getItem);
          continue;
        }
        const result = await paste(shell, [exportLine, command]);
        expectSuccess(result);
        if (command === list) {
          for (const bucket of buckets) expect(result.stdout).toMatch(new RegExp(`\\s${bucket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
        }
        if (command === copy) expect(result.stdout).toMatch(/upload: \.\/video\.mp4 to s3:\/\/\S+\/video\.mp4/);
      }
      expect(item).toBeDefined();
      expect(item).toMatchObject({
        VideoId: { S: 'video.mp4' },
        Status: { S: 'COMPLETE' },
        SourceSize: { N: String(source.size) },
        FpsNumerator: { N: '5' }, // --metadata fps=5 reached the pipeline through the multipart upload
      });
      expect(Number(item!.TotalFrames?.N)).toBeGreaterThan(0);
      expect(item!.ProcessedFrames?.N).toBe(item!.TotalFrames?.N);
      expect(item!.SourceETag?.S).toMatch(/^"?[0-9a-f]{32}-\d+"?$/); // a multipart upload's ETag

      // `aws s3 presign` of the copied video: v1 signs with SigV2 (refused as S3 refuses it), v2 with SigV4.
      const [, endpoint, target] = /--endpoint-url (\S+) s3 cp video\.mp4 (s3:\/\/\S+)/.exec(copy)!;
      const presign = await paste(shell, [exportLine, `aws --endpoint-url ${endpoint} s3 presign ${target}`]);
      expectSuccess(presign);
      const url = presign.stdout.trim();
      const response = await fetch(url);
      if (new URL(url).searchParams.has('AWSAccessKeyId')) {
        const body = await response.text();
        expect({ url, status: response.status, body }).toEqual({ url, status: 400, body: expect.stringContaining('<Code>InvalidRequest</Code>') });
        expect(body).toContain('Please use AWS4-HMAC-SHA256.');
        expect(body).toContain('signed with AWS Signature Version 2, which the local S3 server does not support');
        process.stderr.write(`aws-cli v${cli.major}: s3 presign made a SigV2 URL; GET answered ${response.status} InvalidRequest\n`);
      } else {
        // A presigned URL carries its signer's grants: the CLI user uploads videos but may not read
        // them back (as with the stack's CLI policy), and may read the results.
        const body = await response.text();
        expect({ url, status: response.status, body }).toEqual({ url, status: 403, body: expect.stringContaining('<Code>AccessDenied</Code>') });
        const results = `s3://${item!.ResultsBucket?.S}/${item!.ResultsKey?.S}`;
        const presigned = await paste(shell, [exportLine, `aws --endpoint-url ${endpoint} s3 presign ${results}`]);
        expectSuccess(presigned);
        const resultsResponse = await fetch(presigned.stdout.trim());
        expect(resultsResponse.status).toBe(200);
        const lines = (await resultsResponse.text()).split('\n').filter(Boolean);
        expect(lines).toHaveLength(Number(item!.TotalFrames?.N));
        expect(JSON.parse(lines[0])).toMatchObject({ index: 0 });
        process.stderr.write(`aws-cli v${cli.major}: s3 presign made SigV4 URLs; the upload answered 403 AccessDenied, results.jsonl 200\n`);
      }
      failed = false;
    } finally {
      // Stopped either way; a failure to stop is reported unless it would hide the test's own.
      const stopped = await cloud.stop().catch((error: unknown) => {
        if (!failed) throw error;
        return undefined;
      });
      if (!failed) expect({ exitCode: stopped?.code, stderr: stopped?.stderr }).toEqual({ exitCode: 0, stderr: stopped?.stderr });
    }
    ran.push(`${describeCli(cli)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
}
