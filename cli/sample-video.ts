import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runFfmpeg } from '../local/ffmpeg';

export interface SampleSpec {
  readonly seconds: number;
  readonly width: number;
  readonly height: number;
  readonly fps: string;
}

/** `npm start`'s sample: 10 s of ffmpeg's moving test pattern with a tone, 1280x720 at 30 fps. */
export const DEMO_SAMPLE: SampleSpec = { seconds: 10, width: 1280, height: 720, fps: '30' };

/** Writes a synthetic H.264/AAC MP4 with ffmpeg (tests and benchmarks make their videos this way). */
export function generateVideo(path: string, spec: SampleSpec): Promise<void> {
  return runFfmpeg([
    '-f', 'lavfi', '-i', `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}:duration=${spec.seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${spec.seconds}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '60',
    '-c:a', 'aac', '-shortest', '-movflags', '+faststart',
    path,
  ]);
}

/** The demo sample under the data directory, made once. */
export async function demoSample(dataDirectory: string): Promise<string> {
  const directory = join(dataDirectory, 'samples');
  mkdirSync(directory, { recursive: true });
  const path = join(directory, 'sample.mp4');
  if (!existsSync(path)) await generateVideo(path, DEMO_SAMPLE);
  return path;
}
