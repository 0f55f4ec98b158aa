import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ProcessFrame } from '../../functions/frame-worker/frame-processor';
import { runFfmpeg } from '../../local/ffmpeg';
import { jpegQscaleFor } from '../../local/mediaconvert/job-settings';
import { toJsonLines } from '../../pipeline/results-format';
import { resolveProcessorPath } from '../../pipeline/stack-config';
import { CliError, EXIT } from '../exit-codes';
import type { FrameFacts } from './cost-model';

/** Frames sampled, evenly over the video; the first processor call warms it up and is not timed. */
export const SAMPLE_FRAMES = 5;

/**
 * Measures what the estimate cannot know from the probe: the size of this video's JPEGs at the
 * capture quality (ffmpeg's encoder at the local MediaConvert's quality mapping), and what the
 * configured processor costs per frame on this machine, with the size of its results line.
 */
export async function measureSampleFrames(options: {
  readonly videoPath: string;
  readonly durationMs: number;
  readonly quality: number;
  readonly processor: string;
  /** The processor's time per frame given on the command line: used instead of the time measured. */
  readonly processorMs?: number;
}): Promise<FrameFacts & { readonly sampled: number }> {
  const directory = mkdtempSync(join(tmpdir(), 'frames-estimate-'));
  try {
    const images: Buffer[] = [];
    for (let i = 0; i < SAMPLE_FRAMES; i += 1) {
      const at = ((options.durationMs / 1000) * (i + 0.5)) / SAMPLE_FRAMES;
      const path = join(directory, `sample-${i}.jpg`);
      await runFfmpeg(['-v', 'error', '-y', '-ss', at.toFixed(3), '-i', options.videoPath, '-frames:v', '1', '-q:v', String(jpegQscaleFor(options.quality)), path]);
      images.push(readFileSync(path));
    }
    const jpegBytes = Math.round(images.reduce((sum, image) => sum + image.length, 0) / images.length);
    const processFrame = loadProcessor(options.processor);
    const times: number[] = [];
    let lineBytes = 0;
    for (const [index, image] of [images[0], ...images].entries()) {
      const frame = { videoId: 'estimate', runId: 'estimate', bucket: 'frames', key: `estimate/frames/frame.${String(index).padStart(7, '0')}.jpg`, index, timestampMs: index * 1000 };
      const started = performance.now();
      let output;
      try {
        output = await processFrame(frame, image);
      } catch (error) {
        throw new CliError(`The processor ${options.processor} threw on a sample frame: ${(error as Error).message}. Fix it before running the pipeline.`, EXIT.usage);
      }
      if (index > 0) times.push(performance.now() - started);
      lineBytes = Math.max(lineBytes, Buffer.byteLength(toJsonLines([{ index: frame.index, timestampMs: frame.timestampMs, key: frame.key, output }])));
    }
    times.sort((a, b) => a - b);
    return {
      jpegBytes,
      processorMs: options.processorMs ?? times[Math.floor(times.length / 2)],
      resultLineBytes: lineBytes,
      sampled: images.length,
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function loadProcessor(path: string): ProcessFrame {
  // The CLI runs under tsx, so a TypeScript processor loads as the worker's bundle would run it.
  const module = require(resolveProcessorPath(path)) as { processFrame?: ProcessFrame };
  if (typeof module.processFrame !== 'function') throw new CliError(`The processor ${path} does not export processFrame.`, EXIT.usage);
  return module.processFrame;
}
