import { spawnSync } from 'node:child_process';

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
