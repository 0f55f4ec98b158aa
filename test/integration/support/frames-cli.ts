import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runFfmpeg } from '../../../local/ffmpeg';
import type { JobReport } from '../../../cli/job-report';
import type { LocalCloudDescription } from '../../../local/local-cloud';
import { createInterface } from 'node:readline';

export const FRAMES_CLI = resolve(__dirname, '../../../cli/frames.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout's JSON lines (with --json). */
  readonly reports: JobReport[];
}

/** Runs the real `frames` command in a child process, as a person would. */
export function frames(
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [FRAMES_CLI, ...args],
      {
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, FRAMES_DATA_DIR: '', ...options.env },
        cwd: options.cwd,
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

/** A scratch directory removed by the returned function. */
export function scratchDirectory(name: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `frames-${name}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
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
  /** SIGTERM, and wait for it to exit (nothing if it already has). */
  stop(): Promise<void>;
}

export async function startLocalUp(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<RunningLocalUp> {
  const child = spawn(process.execPath, [FRAMES_CLI, 'local', 'up', '--json', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FRAMES_DATA_DIR: '', ...env },
  });
  const firstLine = await new Promise<string>((resolvePromise, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolvePromise);
    child.once('exit', (code) => reject(new Error(`frames local up exited with ${code}`)));
  });
  return {
    child,
    cloud: JSON.parse(firstLine) as LocalCloudDescription,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolvePromise) => child.once('exit', resolvePromise));
    },
  };
}
