import { spawn, spawnSync } from 'node:child_process';

let resolved: string | undefined;

/**
 * The ffmpeg to run: FRAMES_FFMPEG if set, else a system ffmpeg on PATH (usually newer, with the
 * machine's hardware decoders), else the static binary that `npm ci` installed with
 * @ffmpeg-installer/ffmpeg, so nothing has to be installed by hand.
 */
export function ffmpegPath(): string {
  if (resolved) return resolved;
  const configured = process.env.FRAMES_FFMPEG;
  if (configured) return (resolved = configured);
  const system = spawnSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' });
  if (system.status === 0) return (resolved = 'ffmpeg');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (resolved = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path);
}

/**
 * Runs ffmpeg quietly (errors only) to completion; rejects with ffmpeg's own error text. For the
 * short one-off commands (sample videos, test videos); the MediaConvert endpoint's long-running
 * job with progress is local/mediaconvert/ffmpeg-job.ts.
 */
export function runFfmpeg(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ${args.join(' ')} failed: ${errors.trim()}`))));
  });
}
