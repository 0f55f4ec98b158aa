import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RAMP_LUMA_PER_FRAME } from './frames-cli';

/**
 * The media matrix: small videos of the shapes real uploads come in, each made with ffmpeg so that
 * source frame i (in presentation order) has luma 16 + step·i. A capture's brightness therefore
 * says which source frame it shows, and every capture can be checked against the frame on screen
 * at its timestamp (sourceFrames, expectedCaptures).
 *
 * They are made with the bundled ffmpeg (always there), so both builds under test read the same
 * bytes.
 */

/** The ffmpeg builds to run the matrix with: the one `npm ci` installs, and Debian's when present. */
export interface FfmpegBuild {
  readonly name: string;
  readonly path: string;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const BUNDLED_FFMPEG: FfmpegBuild = { name: 'bundled', path: (require('@ffmpeg-installer/ffmpeg') as { path: string }).path };
export const SYSTEM_FFMPEG: FfmpegBuild = { name: 'system', path: '/usr/bin/ffmpeg' };

export function ffmpegBuilds(): FfmpegBuild[] {
  return existsSync(SYSTEM_FFMPEG.path) ? [BUNDLED_FFMPEG, SYSTEM_FFMPEG] : [BUNDLED_FFMPEG];
}

export interface MatrixFile {
  readonly name: string;
  readonly what: string;
  /** Luma step between consecutive source frames (limited range). */
  readonly step: number;
  /** Capture rates to run it at, as N/D. */
  readonly rates: ReadonlyArray<readonly [number, number]>;
  /** Frames a person sees: rotation metadata swaps width and height. */
  readonly shown: { readonly width: number; readonly height: number };
  /** MediaConvert refuses it: the ERROR message must match this. */
  readonly refused?: RegExp;
}

const X264_LOSSLESS = ['-c:v', 'libx264', '-preset', 'veryfast', '-qp', '0', '-pix_fmt', 'yuv420p'];
/** As cameras encode: B-frames (so the video's first timestamp is after the file's start), not lossless. */
const X264_CAMERA = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '10', '-bf', '2', '-pix_fmt', 'yuv420p'];
const ramp = (rate: number, seconds?: number, step = 3) =>
  `nullsrc=s=64x36:r=${rate}${seconds === undefined ? '' : `:d=${seconds}`},geq=lum='16+${step}*N':cb=128:cr=128`;
const TONE = (seconds: number) => ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`];

/**
 * A phone's variable frame rate: gaps between frames of 3, 5, 4, 8, 2, 6, 4, 10, 3 and 4 ticks of
 * 1/120 s, repeated (momentary rates from 12 to 60 fps, 24.5 on average).
 */
const VFR_GAPS = [3, 5, 4, 8, 2, 6, 4, 10, 3, 4];
const vfrTicks = () => {
  const cycle = VFR_GAPS.reduce((sum, gap) => sum + gap, 0);
  return `${VFR_GAPS.map((gap, j) => `${gap}*lt(${j},mod(N,${VFR_GAPS.length}))`).join('+')}+floor(N/${VFR_GAPS.length})*${cycle}`;
};

export const MATRIX: readonly MatrixFile[] = [
  { name: 'cfr.mp4', what: 'control: 30 fps, 2 s', step: 3, rates: [[30, 1], [7, 1], [30000, 1001]], shown: { width: 64, height: 36 } },
  { name: 'vfr-rotated.mp4', what: 'variable rate (12-60 fps), rotate 90', step: 3, rates: [[30, 1], [10, 1]], shown: { width: 36, height: 64 } },
  { name: 'one-fps.mp4', what: '1 fps, 4 s', step: 50, rates: [[30, 1], [1, 1]], shown: { width: 64, height: 36 } },
  { name: 'offset.ts', what: 'MPEG-TS, starts at 1.4 s, B-frames, audio', step: 3, rates: [[30, 1], [24, 1]], shown: { width: 64, height: 36 } },
  { name: 'fragmented.mp4', what: 'fragmented MP4, B-frames, audio', step: 3, rates: [[30, 1], [24, 1]], shown: { width: 64, height: 36 } },
  { name: 'live.webm', what: 'WebM without a duration (written to a pipe), audio', step: 3, rates: [[30, 1], [7, 1]], shown: { width: 64, height: 36 } },
  { name: 'long-audio.mp4', what: '2 s of video, 5 s of audio', step: 3, rates: [[30, 1]], shown: { width: 64, height: 36 } },
  {
    name: 'two-video.mp4',
    what: 'two video streams, a 160x90 thumbnail first',
    step: 3,
    rates: [[30, 1]],
    shown: { width: 64, height: 36 },
    refused: /MediaConvert does not support inputs with several video streams/,
  },
];

/** Makes every file of the matrix in `directory`. */
export async function makeMediaMatrix(directory: string): Promise<void> {
  const at = (name: string) => join(directory, name);
  await Promise.all([
    generate(['-f', 'lavfi', '-i', ramp(30, 2), ...X264_LOSSLESS, at('cfr.mp4')]),
    generate([
      '-f', 'lavfi', '-i', `${ramp(30)},settb=1/120,setpts='${vfrTicks()}'`,
      '-frames:v', '50', '-vsync', 'vfr', ...X264_LOSSLESS, '-video_track_timescale', '120', at('vfr-stored.mp4'),
      // ffmpeg 4 writes the rotate tag only when remuxing.
    ]).then(() => generate(['-i', at('vfr-stored.mp4'), '-c', 'copy', '-metadata:s:v:0', 'rotate=90', at('vfr-rotated.mp4')])),
    generate(['-f', 'lavfi', '-i', ramp(1, 4, 50), ...X264_LOSSLESS, at('one-fps.mp4')]),
    // The MPEG-TS muxer starts timestamps at 1.4 s; with B-frames the video starts after the audio.
    generate(['-f', 'lavfi', '-i', ramp(30, 2), ...TONE(2), ...X264_CAMERA, '-c:a', 'aac', '-f', 'mpegts', at('offset.ts')]),
    generate([
      '-f', 'lavfi', '-i', ramp(30, 2), ...TONE(2), ...X264_CAMERA, '-g', '10', '-c:a', 'aac',
      '-movflags', 'frag_keyframe+empty_moov', at('fragmented.mp4'),
    ]),
    // Written to a pipe in live mode, and nothing says how long it is (no -t: the muxer would write that).
    generatePiped(['-f', 'lavfi', '-i', ramp(30, 2), ...TONE(2), '-c:v', 'libvpx-vp9', '-lossless', '1', '-c:a', 'libopus', '-live', '1', '-f', 'webm', 'pipe:1'], at('live.webm')),
    generate(['-f', 'lavfi', '-i', ramp(30, 2), ...TONE(5), ...X264_LOSSLESS, '-c:a', 'aac', at('long-audio.mp4')]),
    generate([
      '-f', 'lavfi', '-i', 'nullsrc=s=160x90:r=30:d=2,geq=lum=200:cb=128:cr=128',
      '-f', 'lavfi', '-i', ramp(30, 2),
      '-map', '0:v', '-map', '1:v', ...X264_LOSSLESS, at('two-video.mp4'),
    ]),
  ]);
}

/**
 * A busy picture with sound, 320x180 (the proxy's own size, so the proxy keeps its detail): for the
 * proxy's MaxBitrate and audio.
 */
export function makeBusyVideo(path: string, seconds: number): Promise<void> {
  return generate([
    '-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=30:duration=${seconds},noise=alls=30:allf=t`, ...TONE(seconds),
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '16', '-pix_fmt', 'yuv420p', '-c:a', 'aac', path,
  ]);
}

/** The video stream's frames as the file holds them: presentation times, in its time base, from the first. */
export interface SourceFrames {
  readonly timeBase: readonly [number, number];
  /** Each frame's start, ticks after the first frame's. */
  readonly starts: readonly bigint[];
  /** First frame's start to the end of the last. */
  readonly durationTicks: bigint;
}

/**
 * Reads the first video stream's packets (ffmpeg's framecrc muxer, no decoding): the ground truth
 * the captures are checked against, read independently of the code under test. A last packet
 * without a duration lasts as long as the gap before it.
 */
export async function sourceFrames(path: string): Promise<SourceFrames> {
  const { stdout } = await run(BUNDLED_FFMPEG.path, ['-v', 'error', '-i', path, '-map', '0:v:0', '-c', 'copy', '-f', 'framecrc', '-']);
  const timeBase = /^#tb 0: (\d+)\/(\d+)$/m.exec(stdout);
  if (!timeBase) throw new Error(`no video packets in ${path}`);
  const packets = [...stdout.matchAll(/^0,\s*(-?\d+),\s*(-?\d+),\s*(\d+),/gm)]
    .map(([, , pts, duration]) => ({ pts: BigInt(pts), duration: BigInt(duration) }))
    .sort((a, b) => (a.pts < b.pts ? -1 : a.pts > b.pts ? 1 : 0));
  const first = packets[0].pts;
  const last = packets[packets.length - 1];
  const lastDuration = last.duration > 0n ? last.duration : last.pts - packets[packets.length - 2].pts;
  return {
    timeBase: [Number(timeBase[1]), Number(timeBase[2])],
    starts: packets.map((packet) => packet.pts - first),
    durationTicks: last.pts + lastDuration - first,
  };
}

export function durationMsOf(source: SourceFrames): number {
  return (Number(source.durationTicks) * 1000 * source.timeBase[0]) / source.timeBase[1];
}

/**
 * The documented capture: capture k at k·D/N s from the first frame, for every such instant before
 * the end of the video (ceil(duration × N/D) of them), showing the source frame on screen then
 * (the last to start at or before it). Returns each capture's source frame index.
 */
export function expectedCaptures(source: SourceFrames, [numerator, denominator]: readonly [number, number]): number[] {
  const [tbNum, tbDen] = [BigInt(source.timeBase[0]), BigInt(source.timeBase[1])];
  const [n, d] = [BigInt(numerator), BigInt(denominator)];
  // Capture k is inside the video while k·D/N < duration, i.e. k·D·tbDen < ticks·tbNum·N.
  const captures: number[] = [];
  let frame = 0;
  for (let k = 0n; k * d * tbDen < source.durationTicks * tbNum * n; k++) {
    while (frame + 1 < source.starts.length && source.starts[frame + 1] * tbNum * n <= k * d * tbDen) frame++;
    captures.push(frame);
  }
  return captures;
}

/** The source frame a capture shows, from its mean luminance (full range, as the JPEG holds it). */
export function sourceIndexOf(meanLuminance: number, step: number): number {
  return Math.round(meanLuminance / ((step * RAMP_LUMA_PER_FRAME) / 3));
}

/** Runs the bundled ffmpeg quietly; rejects with its error text. */
function generate(args: readonly string[]): Promise<void> {
  return run(BUNDLED_FFMPEG.path, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args]).then(() => undefined);
}

/** As generate, the output written by ffmpeg to a pipe (so a WebM gets no duration nor cues). */
async function generatePiped(args: readonly string[], path: string): Promise<void> {
  const { stdoutBytes } = await run(BUNDLED_FFMPEG.path, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args]);
  writeFileSync(path, stdoutBytes);
}

function run(path: string, args: readonly string[]): Promise<{ stdout: string; stdoutBytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      if (code === 0) resolve({ stdout: stdoutBytes.toString('utf8'), stdoutBytes });
      else reject(new Error(`ffmpeg ${args.join(' ')} failed: ${stderr.trim()}`));
    });
  });
}
