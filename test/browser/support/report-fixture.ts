import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runFfmpeg } from '../../../local/ffmpeg';

/**
 * The run a report is tested on, by the browser test and test/integration/report.test.ts: a
 * generated video of three shots (so two scene cuts), captured at 10 fps, through a processor that
 * fails some frames and analyses the rest with the default processor.
 */
export const SCENES = {
  seconds: 6,
  fps: 10,
  frames: 60,
  /** The first frame of each new shot: shots are 2 s long. */
  cuts: [20, 40],
  /** Frames the processor fails: index mod 7 = 3, as local mode's processor-throws fault. */
  failed: Array.from({ length: 60 }, (_, index) => index).filter((index) => index % 7 === 3),
} as const;

/**
 * Three 2-second shots at 320x180: ffmpeg's moving test pattern (bright, sharp), colour bars under
 * a heavy blur (the blurred shot), and a darkened Mandelbrot zoom (the dark shot). Their perceptual
 * hashes are 24 and 30 bits apart at the cuts, and at most 10 within a shot (measured).
 */
export function scenesVideo(path: string): Promise<void> {
  const shot = `s=320x180:r=${SCENES.fps}`;
  return runFfmpeg([
    '-f', 'lavfi', '-i', `testsrc2=${shot}:d=2`,
    '-f', 'lavfi', '-i', `smptebars=${shot}:d=2`,
    '-f', 'lavfi', '-i', `mandelbrot=${shot},trim=duration=2`,
    '-filter_complex', '[1:v]gblur=sigma=6[blurred];[2:v]format=yuv420p,eq=brightness=-0.3:contrast=0.7[dark];[0:v][blurred][dark]concat=n=3:v=1[v]',
    '-map', '[v]', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
    path,
  ]);
}

/**
 * Writes a processor module (the README's contract) that throws for SCENES.failed and returns the
 * default processor's analysis for every other frame; returns its path, for `--processor`.
 */
export function failingProcessor(directory: string): string {
  const defaultProcessor = resolve(__dirname, '../../../functions/frame-worker/default-processor.ts');
  const path = join(directory, 'failing-processor.ts');
  writeFileSync(
    path,
    [
      `import { processFrame as analyse } from ${JSON.stringify(defaultProcessor.replace(/\.ts$/, ''))};`,
      `export const processFrame: typeof analyse = async (frame, image) => {`,
      `  if (frame.index % 7 === 3) throw new RangeError(\`no detector output for frame \${frame.index}\`);`,
      `  return analyse(frame, image);`,
      `};`,
      '',
    ].join('\n'),
  );
  return path;
}
