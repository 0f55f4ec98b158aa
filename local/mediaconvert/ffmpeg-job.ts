import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type FrameSyncOption, type MeasuredVideoStream, ffmpegPath, reportedDurationMs } from '../ffmpeg';
import type { InputSeek } from './input-clipping';
import { JpegSplitter } from './jpeg-stream';
import { type FrameCaptureOutput, type VideoOutput, jpegQscaleFor } from './job-settings';

export interface FfmpegJobSpec {
  /** The job's inputs in order: several are stitched end to end into one timeline, as MediaConvert does. */
  readonly inputPaths: readonly string[];
  /**
   * The one input's clips, by frame number (both ends included), end to end: the timeline every
   * output takes. The whole input when not given.
   */
  readonly clips?: ReadonlyArray<{ readonly startFrame: number; readonly endFrame: number }>;
  /** Where to start reading the one input of clips (inputSeek): its clips' frames count from `frame`. */
  readonly seek?: InputSeek;
  /** The timeline's length, for progress: its video's (the inputs' video streams' added up, or the clips'). */
  readonly durationMs?: number;
  /** The input's decoded pixels, from probeMedia: picks the cheap path to full-range JPEG when it can. */
  readonly inputPixels?: { readonly pixelFormat: string; readonly colorRange: 'pc' | 'tv' };
  /** How this ffmpeg is told to pass frames through (frameSyncOption); `fps_mode` when not said. */
  readonly frameSync?: FrameSyncOption;
  /**
   * The frame capture, each JPEG written to `sink` in order (ffmpeg pipes them: no scratch files),
   * at most `captures` of them (captureCount), else MaxCaptures.
   */
  readonly frames?: { readonly output: FrameCaptureOutput; readonly sink: Writable; readonly captures?: number };
  readonly video?: { readonly output: VideoOutput; readonly path: string };
  readonly onProgress: (progress: { percent: number; framesDecoded: number }) => void;
}

/**
 * How many captures a frame capture makes of a video: capture k is at k·D/N seconds from the first
 * frame, for every such instant before the end of the video (the end of its last frame), so
 * ceil(duration × N/D), capped at MaxCaptures. `extents` are the inputs' video streams, stitched
 * end to end. Exact (integer arithmetic on the streams' own time bases), so a duration of exactly
 * k·D/N seconds gives k captures, not k + 1.
 */
export function captureCount(
  extents: ReadonlyArray<Pick<MeasuredVideoStream, 'ticks' | 'timeBase'>>,
  output: Pick<FrameCaptureOutput, 'framerateNumerator' | 'framerateDenominator' | 'maxCaptures'>,
): number {
  // The total as a fraction of seconds, numerator / denominator.
  let numerator = 0n;
  let denominator = 1n;
  for (const { ticks, timeBase } of extents) {
    const [tbNumerator, tbDenominator] = [BigInt(timeBase[0]), BigInt(timeBase[1])];
    numerator = numerator * tbDenominator + BigInt(ticks) * tbNumerator * denominator;
    denominator *= tbDenominator;
  }
  const captures = numerator * BigInt(output.framerateNumerator);
  const per = denominator * BigInt(output.framerateDenominator);
  const count = captures <= 0n ? 0n : (captures + per - 1n) / per;
  return Number(count < BigInt(output.maxCaptures) ? count : BigInt(output.maxCaptures));
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
 *
 * An input's clips are cut before anything else, so every output takes them: `trim` by frame
 * number (start_frame is the clip's first frame, end_frame the one after its last), then
 * `setpts=PTS-STARTPTS`, so the clip's first frame is at zero and the capture at k·D/N after it
 * is the one the whole input's capture makes at j·q/p + k·D/N. Several clips are cut from one
 * decode (split) and joined by concat, as inputs are. ffmpeg stops reading once the last clip has
 * ended. With a `seek` (an MP4 or MOV whose first clip starts after its first GOP: inputSeek), the
 * input is read from `-ss` just before the first clip, ffmpeg decoding from the keyframe before it,
 * and frames count from the seek's frame; else it is read from its start, and every frame before
 * the first clip is decoded (a clip at the end of an hour costs the hour's decode). Several clips
 * are one decode from the first clip's start, the frames between them decoded and dropped. With
 * ffmpeg 4 the fps filter after a trim runs on past the clip's end to the file's, repeating the
 * clip's last frame (measured: a 1 s clip of a 4 s file at 5 fps gave 10 captures, not 5): the
 * capture's `captures` stops it.
 *
 * The same on every ffmpeg build (measured on the bundled 2018 build and Debian's 5.1, issue 5):
 * - the outputs pass the filtered frames through (`-fps_mode passthrough`, or `-vsync` where there
 *   is no `-fps_mode`). With ffmpeg 4's default frame sync, each frame the fps filter emits lasted as
 *   long as its *source* frame, so wherever the capture rate was above the source's momentary rate
 *   (a 1 fps source at 30 fps, the slow stretches of a phone's variable-rate video) the JPEG output
 *   repeated frames and the later captures showed the previous source frame;
 * - the capture stops at `captures` (captureCount, from the video stream's own packets): ffmpeg 4
 *   ends the fps filter at the *file's* end, not the video's, so when the video starts after the
 *   file does (MPEG-TS with a start offset, B-frames in fragmented MP4, WebM) it added 1–2 captures
 *   of the last frame.
 *
 * The proxy has no audio (the settings take no AudioDescriptions, and MediaConvert adds none
 * without one), and its MaxBitrate caps the whole file, container included: x264's VBV runs at 95%
 * of it with a one-second buffer that starts nearly empty. ffmpeg's default buffer starts 90% full,
 * which a few-second proxy spends at once (a busy 4 s 180-line video with a two-second buffer: 570
 * kb/s of video against 400, 642 with its AAC), and x264's fastest preset overshoots its VBV rate
 * by up to about 1%, the MP4 container adding about 1% more (measured: 382-387 kb/s for 2 to 10 s
 * of the same video, on both builds).
 */
export function ffmpegArguments(
  spec: Omit<FfmpegJobSpec, 'onProgress' | 'frames'> & { frames?: { output: FrameCaptureOutput; captures?: number } },
): string[] {
  const frameSync = spec.frameSync ?? 'fps_mode';
  // Frames go to stdout (fd 1), progress reports to fd 3.
  const args = [
    '-hide_banner', '-nostdin', '-y', '-nostats', '-progress', 'pipe:3',
    ...(frameSync === 'vsync' ? ['-vsync', 'passthrough'] : []),
    ...(spec.seek ? ['-ss', spec.seek.seconds] : []),
    ...spec.inputPaths.flatMap((path) => ['-i', path]),
  ];
  const passthrough = frameSync === 'fps_mode' ? ['-fps_mode', 'passthrough'] : [];
  const clips = spec.clips ?? [];
  if (clips.length > 0 && spec.inputPaths.length !== 1) throw new Error('Input clips are cut from a job with one input');
  if (spec.seek && (clips.length === 0 || clips[0].startFrame < spec.seek.frame)) throw new Error('A seek is to the first clip of a clipped job');
  // The frames of the input as read: from the seek's frame, if any.
  const first = spec.seek?.frame ?? 0;
  const cut = (clip: { startFrame: number; endFrame: number }) =>
    `trim=start_frame=${clip.startFrame - first}:end_frame=${clip.endFrame + 1 - first},setpts=PTS-STARTPTS`;
  // The pieces of the timeline: the inputs, or the one input's clips.
  const pieces =
    clips.length === 0
      ? spec.inputPaths.map((_, i) => `[${i}:v:0]setpts=PTS-STARTPTS[v${i}]`)
      : clips.length === 1
        ? [`[0:v:0]${cut(clips[0])}[v0]`]
        : [`[0:v:0]split=${clips.length}${clips.map((_, i) => `[c${i}]`).join('')}`, ...clips.map((clip, i) => `[c${i}]${cut(clip)}[v${i}]`)];
  const n = Math.max(spec.inputPaths.length, clips.length);
  const stitched = n > 1;
  const joined = stitched ? [`${Array.from({ length: n }, (_, i) => `[v${i}]`).join('')}concat=n=${n}:v=1:a=0[joined]`] : [];
  const prelude = [...pieces, ...joined].join(';');
  const source = stitched ? '[joined]' : '[v0]';
  const branches: string[] = [];
  const outputs: string[] = [];
  if (spec.frames) {
    const { output, captures } = spec.frames;
    // round=up: capture k is the source frame on screen at k·D/N (the last one at or before it).
    // The default (near) takes the last frame of the window around k·D/N instead: at 5 fps from a
    // 30 fps source, the frame 67 ms after the capture's timestamp (measured with ffmpeg 4.1).
    const table = canExpandWithTable(spec.inputPixels);
    branches.push(`fps=${output.framerateNumerator}/${output.framerateDenominator}:round=up${table ? `,${EXPAND_TO_FULL_RANGE}` : ''}[frames]`);
    outputs.push(
      '-map', '[frames]',
      '-frames:v', String(captures ?? output.maxCaptures),
      ...passthrough,
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
    const rate = output.maxBitrate && Math.floor(output.maxBitrate * 0.95);
    const cap = rate ? ['-maxrate', String(rate), '-bufsize', String(rate), '-rc_init_occupancy', String(Math.round(rate / 10))] : [];
    outputs.push(
      '-map', '[video]',
      ...passthrough,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '28', ...cap, '-pix_fmt', 'yuv420p',
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
