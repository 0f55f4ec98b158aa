import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runFfmpeg } from '../../../local/ffmpeg';
import type { JobReport } from '../../../cli/job-report';
import type { LocalCloudDescription } from '../../../local/cloud/cloud-description';
import { createInterface } from 'node:readline';

/** The repository: `npx frames` runs its bin, as the README tells a person to. */
export const REPOSITORY = resolve(__dirname, '../../..');
/** The bin itself, for the measurements that must not count npm's own process (load, bench). */
export const FRAMES_CLI = join(REPOSITORY, 'cli', 'frames.js');

/** Local IAM evaluation is always on in tests, whatever a developer's shell exports (README, "Permissions"). */
const ALWAYS_ENFORCED = { FRAMES_IAM: 'on' };

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout's JSON lines (with --json). */
  readonly reports: JobReport[];
}

/**
 * The command line that runs `frames` as a person does: `npx frames …`, which npm runs through a
 * symlink named `frames` (so the CLI must start however it is invoked). `--prefix` names the
 * repository, so a test may run it from another working directory (`cwd`), as someone with the
 * repository elsewhere would.
 */
export function npxFrames(args: readonly string[]): { command: string; args: string[] } {
  // `--` keeps npm from taking the command's own flags (--help) as its own once it has options of its own.
  return { command: 'npx', args: ['--prefix', REPOSITORY, '--no-update-notifier', '--', 'frames', ...args] };
}

/** Runs the real `frames` command through npx in a child process, as a person would. */
export function frames(
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  const npx = npxFrames(args);
  return new Promise((resolvePromise) => {
    execFile(
      npx.command,
      npx.args,
      {
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, FRAMES_DATA_DIR: '', ...options.env, ...ALWAYS_ENFORCED },
        cwd: options.cwd ?? REPOSITORY,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        const reports = stdout
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as JobReport);
        resolvePromise({ code, stdout, stderr, reports });
      },
    );
  });
}

/**
 * A scratch directory removed by the returned function, which first fails the suite if any local
 * cloud under it refused a request (IAM) that no test took with `takeDenials`: every request a run
 * that should succeed makes must be allowed by the stack's own grants.
 */
export function scratchDirectory(name: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `frames-${name}-`));
  return {
    path,
    remove: () => {
      const denials = takeDenials(path);
      rmSync(path, { recursive: true, force: true });
      if (denials.length > 0) {
        throw new Error(
          `The local cloud refused ${denials.length} request(s) in runs that should succeed; add the grant to pipeline/permissions.ts:\n` +
            denials.map((denial) => `  ${denial.message}`).join('\n'),
        );
      }
    },
  };
}

export interface Denial {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly message: string;
}

/** The requests local clouds under `directory` refused (their `iam/denials.jsonl`), taken: the logs are emptied. */
export function takeDenials(directory: string): Denial[] {
  const logs = readdirSync(directory, { recursive: true, encoding: 'utf8' }).filter((entry) => entry.endsWith(join('iam', 'denials.jsonl')));
  return logs.flatMap((entry) => {
    const log = join(directory, entry);
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    rmSync(log);
    return lines.map((line) => JSON.parse(line) as Denial);
  });
}

/**
 * A luminance ramp: source frame n (at n/rate s) has luma 16 + 3n in limited range, so after the
 * JPEG's full-range conversion its mean luminance is 3n·255/219 ≈ 3.493n. A frame's brightness
 * therefore says which source frame it was captured from, and its timestamp can be checked.
 */
export const RAMP_LUMA_PER_FRAME = (3 * 255) / 219;

export function rampVideo(path: string, spec: { seconds: number; rate: string; size?: string }): Promise<void> {
  return runFfmpeg([
    '-f', 'lavfi',
    '-i', `nullsrc=s=${spec.size ?? '64x64'}:r=${spec.rate}:d=${spec.seconds},geq=lum='16+3*N':cb=128:cr=128`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-qp', '0', '-pix_fmt', 'yuv420p',
    path,
  ]);
}

export interface ResultLine {
  readonly index: number;
  readonly timestampMs: number;
  readonly producerTimestampMs?: number;
  readonly key: string;
  readonly output?: { meanLuminance: number; width: number; height: number; phash: string };
  readonly error?: { name: string; message: string };
}

export function readResults(path: string): ResultLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ResultLine);
}

/** A `frames local up` running in a child process, as a person would leave it in a terminal. */
export interface RunningLocalUp {
  readonly child: ChildProcess;
  /** What it printed with --json: endpoints, resources, credentials. */
  readonly cloud: LocalCloudDescription;
  /** Every later line it printed on stdout (with --json, one outcome event each), as they come. */
  readonly lines: readonly string[];
  /** SIGTERM, and wait for it to exit (nothing if it already has). */
  stop(): Promise<void>;
}

export async function startLocalUp(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<RunningLocalUp> {
  const npx = npxFrames(['local', 'up', '--json', '--data-dir', dataDir]);
  // Its own process group, so stop() can signal npm and the frames process it started together.
  const child = spawn(npx.command, npx.args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FRAMES_DATA_DIR: '', ...env, ...ALWAYS_ENFORCED },
    cwd: REPOSITORY,
    detached: true,
  });
  const lines: string[] = [];
  const output = createInterface({ input: child.stdout! });
  const firstLine = await new Promise<string>((resolvePromise, reject) => {
    output.once('line', (line) => {
      output.on('line', (later) => lines.push(later));
      resolvePromise(line);
    });
    child.once('exit', (code) => reject(new Error(`frames local up exited with ${code}`)));
  });
  const cloud = JSON.parse(firstLine) as LocalCloudDescription;
  return {
    child,
    cloud,
    lines,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolvePromise) => child.once('exit', resolvePromise));
        process.kill(-child.pid!, 'SIGTERM');
        await exited;
      }
      await processGone(cloud.pid, 30_000);
    },
  };
}

/** Waits until a process has exited: npm may return before the frames process it ran has stopped its cloud. */
async function processGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`frames local up (pid ${pid}) still runs ${timeoutMs / 1000} s after SIGTERM`);
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
  }
}
