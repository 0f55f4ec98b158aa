import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ffmpegPath, reportedDurationMs } from '../ffmpeg';
import { JpegSplitter } from './jpeg-stream';
import { type FrameCaptureOutput, type VideoOutput, jpegQscaleFor } from './job-settings';

export interface FfmpegJobSpec {
  /** The job's inputs in order: several are stitched end to end into one timeline, as MediaConvert does. */
  readonly inputPaths: readonly string[];
  /** Stitched inputs keep their audio in the proxy only when every one of them has audio. */
  readonly inputsHaveAudio?: boolean;
  /** The stitched timeline's length (the inputs' durations added up); ffmpeg reports each input's own. */
  readonly durationMs?: number;
  /** The input's decoded pixels, from probeMedia: picks the cheap path to full-range JPEG when it can. */
  readonly inputPixels?: { readonly pixelFormat: string; readonly colorRange: 'pc' | 'tv' };
  /** The frame capture, each JPEG written to `sink` in order (ffmpeg pipes them: no scratch files). */
  readonly frames?: { readonly output: FrameCaptureOutput; readonly sink: Writable };
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
 * JPEG stores full-range YUV; video is usually limited range (Y 16..235). ffmpeg's automatic
 * conversion goes through swscale, which for 720p costs about 2.5 ms a frame: more than the JPEG
 * encoding itself, and a quarter of plain `ffmpeg -vf fps=30 -q:v N` (measured, issue 4). For the
 * common case, 8-bit 4:2:0 limited range, a lookup table does the same expansion (rounded, as
 * swscale does) for a fraction of that; the encoder is told the samples are full range, so it
 * writes a plain JFIF (no "CS=ITU601" comment). Any other input keeps swscale's conversion.
 */
const EXPAND_TO_FULL_RANGE =
  "lutyuv=y='clip((val-16)*255/219+0.5,0,255)':u='clip((val-128)*255/224+128.5,0,255)':v='clip((val-128)*255/224+128.5,0,255)'";

function canExpandWithTable(pixels: FfmpegJobSpec['inputPixels']): boolean {
  return pixels?.pixelFormat === 'yuv420p' && pixels.colorRange === 'tv';
}

/**
 * The ffmpeg arguments for a job: one decode of the input's first video stream, split to the frame
 * capture (`fps=N/D`, which gives ceil(duration × rate) frames at t = k·D/N, unlike `-r`) and to
 * the H.264 proxy, so both outputs cost one decode.
 *
 * Each input's timeline starts at zero (MediaConvert's ZEROBASED), so the first capture is the
 * first frame even of a file whose timestamps start later (MPEG-TS, or an MP4 without an edit
 * list such as KVS clips). Several inputs are stitched by the concat filter, each after the last
 * frame of the one before: frame-accurate, where the concat demuxer trusts container durations.
 */
export function ffmpegArguments(spec: Omit<FfmpegJobSpec, 'onProgress' | 'frames'> & { frames?: { output: FrameCaptureOutput } }): string[] {
  // Frames go to stdout (fd 1), progress reports to fd 3.
  const args = ['-hide_banner', '-nostdin', '-y', '-nostats', '-progress', 'pipe:3', ...spec.inputPaths.flatMap((path) => ['-i', path])];
  const stitched = spec.inputPaths.length > 1;
  const stitchAudio = stitched && spec.inputsHaveAudio === true && spec.video !== undefined;
  const zeroBased = spec.inputPaths.map((_, i) => `[${i}:v:0]setpts=PTS-STARTPTS[v${i}]`);
  const audioParts = stitchAudio ? spec.inputPaths.map((_, i) => `[${i}:a:0]asetpts=PTS-STARTPTS[a${i}]`) : [];
  // Video and audio are joined separately: joined together, each input would start after the
  // longer of its two tracks, and AAC's 23 ms frames usually overhang the video, which would
  // shift every later frame (measured: the second piece of a clip was a frame late).
  const n = spec.inputPaths.length;
  const joined = stitched
    ? [
        `${spec.inputPaths.map((_, i) => `[v${i}]`).join('')}concat=n=${n}:v=1:a=0[joined]`,
        ...(stitchAudio ? [`${spec.inputPaths.map((_, i) => `[a${i}]`).join('')}concat=n=${n}:v=0:a=1[audio]`] : []),
      ]
    : [];
  const prelude = [...zeroBased, ...audioParts, ...joined].join(';');
  const source = stitched ? '[joined]' : '[v0]';
  const branches: string[] = [];
  const outputs: string[] = [];
  if (spec.frames) {
    const { output } = spec.frames;
    // round=up: capture k is the source frame on screen at k·D/N (the last one at or before it).
    // The default (near) takes the last frame of the window around k·D/N instead: at 5 fps from a
    // 30 fps source, the frame 67 ms after the capture's timestamp (measured with ffmpeg 4.1).
    const table = canExpandWithTable(spec.inputPixels);
    branches.push(`fps=${output.framerateNumerator}/${output.framerateDenominator}:round=up${table ? `,${EXPAND_TO_FULL_RANGE}` : ''}[frames]`);
    outputs.push(
      '-map', '[frames]',
      '-frames:v', String(output.maxCaptures),
      '-c:v', 'mjpeg', '-q:v', String(jpegQscaleFor(output.quality)),
      // Full-range YUV, as JPEG viewers expect: expanded by the table above (ffmpeg 4 needs
      // -strict to accept yuv420p for JPEG), or converted by swscale into yuvj420p.
      ...(table ? ['-strict', 'unofficial', '-pix_fmt', 'yuv420p', '-color_range', 'pc'] : ['-pix_fmt', 'yuvj420p']),
      '-f', 'image2pipe',
      'pipe:1',
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
    const audio = stitched ? (stitchAudio ? ['-map', '[audio]'] : []) : ['-map', '0:a:0?'];
    outputs.push(
      '-map', '[video]', ...audio,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '28', ...rate, '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '96k',
      '-movflags', '+faststart',
      '-f', 'mp4', path,
    );
  }
  const split = branches.length > 1 ? `${source}split=${branches.length}${branches.map((_, i) => `[s${i}]`).join('')};` : '';
  const graph = branches.map((branch, i) => (branches.length > 1 ? `[s${i}]${branch}` : `${source}${branch}`)).join(';');
  return [...args, '-filter_complex', `${prelude};${split}${graph}`, ...outputs];
}

const OUTPUT_HEADER = /^Output #(\d+)/;
const VIDEO_STREAM_SIZE = /Stream #\d+:\d+.*: Video: .*?, (\d{2,5})x(\d{2,5})/;

/** Runs ffmpeg for a job, reporting progress from `-progress` as it goes. */
export function runFfmpegJob(spec: FfmpegJobSpec, signal: AbortSignal): Promise<FfmpegJobResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), ffmpegArguments(spec), { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], signal });
    const [stdout, stderr, progress] = [child.stdio[1], child.stdio[2], child.stdio[3]] as Readable[];
    // The frames: split into JPEGs and handed to the sink, whose backpressure paces ffmpeg. If the
    // sink fails (an upload refused), ffmpeg is stopped: there is no point in decoding further.
    let framesFailure: Error | undefined;
    const framesDone = spec.frames
      ? pipeline(stdout, new JpegSplitter(), spec.frames.sink).catch((error: unknown) => {
          framesFailure = error as Error;
          child.kill();
        })
      : (stdout.resume(), Promise.resolve());
    let durationMs = 0;
    let opened = false;
    let currentOutput = -1;
    const outputSizes: Array<{ width: number; height: number }> = [];
    const errorTail: string[] = [];

    let stderrBuffer = '';
    stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderrBuffer += chunk;
      const lines = stderrBuffer.split('\n');
      stderrBuffer = lines.pop() ?? '';
      for (const line of lines) {
        durationMs = spec.durationMs ?? reportedDurationMs(line) ?? durationMs;
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
    progress.setEncoding('utf8').on('data', (chunk: string) => {
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
      void framesDone.then(() => {
        if (framesFailure) reject(framesFailure);
        else if (code === 0) resolve({ durationMs, outputSizes });
        else reject(new FfmpegError(errorTail.filter(Boolean).slice(-3).join(' | ') || `ffmpeg exited with code ${code}`, opened));
      });
    });
  });
}
