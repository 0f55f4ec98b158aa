import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ffmpegPath } from '../ffmpeg';
import { type FrameCaptureOutput, type VideoOutput, frameCaptureFileName, jpegQscaleFor } from './job-settings';

export interface FfmpegJobSpec {
  readonly inputPath: string;
  readonly frames?: { readonly output: FrameCaptureOutput; readonly directory: string };
  readonly video?: { readonly output: VideoOutput; readonly path: string };
  readonly onProgress: (progress: { percent: number; framesDecoded: number }) => void;
}

export interface FfmpegJobResult {
  readonly durationMs: number;
  /** Width and height of each output, in the order frames, video. */
  readonly outputSizes: ReadonlyArray<{ width: number; height: number }>;
}

/** ffmpeg failed; `opened` says whether it got as far as reading the input's streams. */
export class FfmpegError extends Error {
  override readonly name = 'FfmpegError';
  constructor(
    message: string,
    readonly opened: boolean,
  ) {
    super(message);
  }
}

/**
 * The ffmpeg arguments for a job: one decode of the input's first video stream, split to the frame
 * capture (`fps=N/D`, which gives ceil(duration × rate) frames at t = k·D/N, unlike `-r`) and to
 * the H.264 proxy, so both outputs cost one decode.
 */
export function ffmpegArguments(spec: Omit<FfmpegJobSpec, 'onProgress'>): string[] {
  const args = ['-hide_banner', '-nostdin', '-y', '-nostats', '-progress', 'pipe:1', '-i', spec.inputPath];
  const branches: string[] = [];
  const outputs: string[] = [];
  if (spec.frames) {
    const { output, directory } = spec.frames;
    // round=up: capture k is the source frame on screen at k·D/N (the last one at or before it).
    // The default (near) takes the last frame of the window around k·D/N instead: at 5 fps from a
    // 30 fps source, the frame 67 ms after the capture's timestamp (measured with ffmpeg 4.1).
    branches.push(`fps=${output.framerateNumerator}/${output.framerateDenominator}:round=up[frames]`);
    outputs.push(
      '-map', '[frames]',
      '-frames:v', String(output.maxCaptures),
      '-c:v', 'mjpeg', '-q:v', String(jpegQscaleFor(output.quality)),
      // Full-range YUV, as JPEG viewers expect; ffmpeg 4 warns about limited range otherwise.
      '-pix_fmt', 'yuvj420p',
      '-start_number', '0',
      '-f', 'image2',
      join(directory, frameCaptureFileName(output, '%07d')),
    );
  }
  if (spec.video) {
    const { output, path } = spec.video;
    const width = output.width ?? -2;
    const height = output.height ?? (output.width ? -2 : -1);
    // The proxy is for looking at, not for analysis: the cheapest scaler and x264 preset, so it
    // adds as little as possible to the frame capture it rides along with.
    branches.push(`scale=${width}:${height}:flags=fast_bilinear[video]`);
    const rate = output.maxBitrate ? ['-maxrate', String(output.maxBitrate), '-bufsize', String(output.maxBitrate * 2)] : [];
    outputs.push(
      '-map', '[video]', '-map', '0:a:0?',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '28', ...rate, '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '96k',
      '-movflags', '+faststart',
      '-f', 'mp4', path,
    );
  }
  const split = branches.length > 1 ? `[0:v:0]split=${branches.length}${branches.map((_, i) => `[s${i}]`).join('')};` : '';
  const graph = branches.map((branch, i) => (branches.length > 1 ? `[s${i}]${branch}` : `[0:v:0]${branch}`)).join(';');
  return [...args, '-filter_complex', split + graph, ...outputs];
}

const DURATION = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/;
const OUTPUT_HEADER = /^Output #(\d+)/;
const VIDEO_STREAM_SIZE = /Stream #\d+:\d+.*: Video: .*?, (\d{2,5})x(\d{2,5})/;

/** Runs ffmpeg for a job, reporting progress from `-progress` as it goes. */
export function runFfmpegJob(spec: FfmpegJobSpec, signal: AbortSignal): Promise<FfmpegJobResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), ffmpegArguments(spec), { stdio: ['ignore', 'pipe', 'pipe'], signal });
    let durationMs = 0;
    let opened = false;
    let currentOutput = -1;
    const outputSizes: Array<{ width: number; height: number }> = [];
    const errorTail: string[] = [];

    let stderrBuffer = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderrBuffer += chunk;
      const lines = stderrBuffer.split('\n');
      stderrBuffer = lines.pop() ?? '';
      for (const line of lines) {
        const duration = DURATION.exec(line);
        if (duration) {
          durationMs = Math.round((Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3])) * 1000);
        }
        if (/Stream #0:\d+.*: Video:/.test(line) && currentOutput < 0) opened = true;
        const header = OUTPUT_HEADER.exec(line);
        if (header) currentOutput = Number(header[1]);
        const size = VIDEO_STREAM_SIZE.exec(line);
        if (size && currentOutput >= 0 && !outputSizes[currentOutput]) {
          outputSizes[currentOutput] = { width: Number(size[1]), height: Number(size[2]) };
        }
        errorTail.push(line.trim());
        if (errorTail.length > 6) errorTail.shift();
      }
    });

    let progressBuffer = '';
    let framesDecoded = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      progressBuffer += chunk;
      const lines = progressBuffer.split('\n');
      progressBuffer = lines.pop() ?? '';
      for (const line of lines) {
        const [key, value] = line.split('=');
        if (key === 'frame') framesDecoded = Number(value) || framesDecoded;
        if (key === 'out_time_us' && durationMs > 0) {
          const percent = Math.min(99, Math.floor(Number(value) / 1000 / durationMs * 100));
          if (Number.isFinite(percent) && percent >= 0) spec.onProgress({ percent, framesDecoded });
        }
      }
    });

    child.once('error', (error) => reject(error));
    child.once('close', (code) => {
      if (code === 0) resolve({ durationMs, outputSizes });
      else reject(new FfmpegError(errorTail.filter(Boolean).slice(-3).join(' | ') || `ffmpeg exited with code ${code}`, opened));
    });
  });
}
