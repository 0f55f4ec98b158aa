import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ProcessFrame } from '../../functions/frame-worker/frame-processor';
import { type VideoStreamExtent, ffmpegOutput } from '../../local/ffmpeg';
import { jpegQscaleFor } from '../../local/mediaconvert/job-settings';
import { toJsonLines } from '../../pipeline/results-format';
import { resolveProcessorPath } from '../../pipeline/stack-config';
import { CliError, EXIT } from '../exit-codes';
import type { FrameFacts } from './cost-model';

/** Frames sampled at most, evenly over the video; the first processor call warms it up and is not timed. */
export const SAMPLE_FRAMES = 5;

/**
 * How far before a sample point the second try starts decoding. A seek into an MPEG-TS file lands
 * wherever the timestamps say, often after the keyframe before the point, and then nothing decodes
 * up to it; decoding from this far back passes a keyframe in all but unusual files.
 */
const SEEK_PREROLL_MS = 30_000;

/**
 * Where to sample, in ms from the start ffmpeg's `-ss` counts from: at most SAMPLE_FRAMES source
 * frames (fewer when the video has fewer), spread evenly over the video stream's own duration, each
 * at its frame's start time (as if the rate were constant) rounded down to the millisecond. `-ss`
 * drops every frame that starts before the point, so a point past the last frame's start gives no
 * image at all. `-ss` counts from the container's start time (MPEG-TS: the earliest stream's first
 * timestamp, 1.4 s say), which is never after the video's own start: a point can land a little
 * early, never past the end.
 */
export function samplePoints(video: VideoStreamExtent): number[] {
  const count = Math.min(SAMPLE_FRAMES, video.frames);
  const frameMs = video.durationMs / video.frames;
  return Array.from({ length: count }, (_, i) => Math.floor(Math.floor(((i + 0.5) * video.frames) / count) * frameMs));
}

/**
 * Measures what the estimate cannot know from the probe: the size of this video's JPEGs at the
 * capture quality (ffmpeg's encoder at the local MediaConvert's quality mapping), and what the
 * configured processor costs per frame on this machine, with the size of its results line.
 */
export async function measureSampleFrames(options: {
  readonly videoPath: string;
  readonly video: VideoStreamExtent;
  readonly quality: number;
  readonly processor: string;
  /** The processor's time per frame given on the command line: used instead of the time measured. */
  readonly processorMs?: number;
}): Promise<FrameFacts & { readonly sampled: number }> {
  const directory = mkdtempSync(join(tmpdir(), 'frames-estimate-'));
  try {
    const grab = (beforeInput: string[], afterInput: string[] = []) =>
      grabFrame(options.videoPath, beforeInput, afterInput, jpegQscaleFor(options.quality), join(directory, 'sample.jpg'));
    const images: Buffer[] = [];
    for (const atMs of samplePoints(options.video)) {
      const image = await captureAt(atMs, grab);
      if (image) images.push(image);
    }
    // Every point failed (keyframes further apart than the preroll, or a raw H.264 stream, which has
    // no timestamps to seek by): the first frame, read with no seek at all, will do.
    if (images.length === 0) {
      const first = await grab([]);
      if (first) images.push(first);
    }
    if (images.length === 0) {
      throw new CliError(
        `${options.videoPath}: ffmpeg decoded no frame of its video stream (${options.video.frames} packets), so it cannot be sampled; is the file damaged?`,
        EXIT.usage,
      );
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

/**
 * One JPEG of the first frame that starts at or after `atMs`, or undefined when ffmpeg writes none.
 * First a plain seek (fast: it decodes from the keyframe before the point); if that gives nothing,
 * a seek to SEEK_PREROLL_MS earlier that decodes forward to the point.
 */
async function captureAt(atMs: number, grab: (beforeInput: string[], afterInput?: string[]) => Promise<Buffer | undefined>): Promise<Buffer | undefined> {
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  for (const fromMs of new Set([atMs, Math.max(0, atMs - SEEK_PREROLL_MS)])) {
    const image = await grab(['-ss', seconds(fromMs)], atMs > fromMs ? ['-ss', seconds(atMs - fromMs)] : []);
    if (image) return image;
  }
  return undefined;
}

/** Writes the first frame ffmpeg gives after the options before and after its `-i` as a JPEG, and reads it back. */
async function grabFrame(videoPath: string, beforeInput: string[], afterInput: string[], qscale: number, path: string): Promise<Buffer | undefined> {
  rmSync(path, { force: true });
  await ffmpegOutput(['-v', 'error', '-y', ...beforeInput, '-i', videoPath, ...afterInput, '-frames:v', '1', '-q:v', String(qscale), path]);
  return readIfWritten(path);
}

function readIfWritten(path: string): Buffer | undefined {
  try {
    const image = readFileSync(path);
    return image.length > 0 ? image : undefined;
  } catch {
    return undefined;
  }
}
