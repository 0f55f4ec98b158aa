/**
 * Splitting one video's frame capture into segments, one MediaConvert job each (issue "Time to
 * results"), so extraction runs in parallel and a segment's frames are processed while the rest
 * is still being extracted. Pure arithmetic: the ingress function plans, the completion function
 * and the fan-in number frames from the plan.
 *
 * A segment must capture exactly the frames the single job would have, with the same indices and
 * timestamps. One job captures at t_i = i·b/a seconds (capture rate a/b) the source frame on
 * screen then; a job whose input is clipped to start at source frame j captures at j·q/p + k·b/a
 * (source rate p/q). The two agree for every k only if the segment starts at an instant on both
 * grids: i·b/a = j·q/p, that is i·b·p = j·q·a. So cuts are made only at capture indices that are
 * multiples of `captureStride` = q·a / gcd(b·p, q·a): every capture for 30 fps captured at 5 fps,
 * every 1,001st for 29.97 fps captured at 5 fps. Where that stride is too long for the video, or
 * the frame rate varies, or the video is short, the plan is one job.
 */
import type { FrameRate } from './capture-settings';

export interface SegmentPlanInput {
  /** The video stream's frame rate; meaningful only when `constantFrameRate`. */
  readonly sourceRate: FrameRate;
  /** Frames in the video stream. */
  readonly sourceFrames: number;
  /** Whether every frame lasts 1/sourceRate (an MP4's sample durations are all equal). */
  readonly constantFrameRate: boolean;
  readonly captureRate: FrameRate;
  readonly maxCaptures: number;
  /** A segment shorter than this is not worth a job of its own. */
  readonly minSegmentSeconds: number;
  /** Most jobs for one video (MediaConvert's concurrency, the queue's share). */
  readonly maxSegments: number;
}

export interface Segment {
  readonly index: number;
  /** The first source frame of the segment's input clipping (0-based), and the first after it. */
  readonly firstSourceFrame: number;
  readonly endSourceFrame: number;
  /** The run-wide index of the segment's first capture, and how many it captures. */
  readonly firstCapture: number;
  readonly captures: number;
}

export type SegmentPlan =
  | { readonly kind: 'single'; readonly captures: number; readonly reason: string }
  | { readonly kind: 'segmented'; readonly captures: number; readonly captureStride: number; readonly segments: readonly Segment[] };

const gcd = (x: bigint, y: bigint): bigint => (y === 0n ? (x < 0n ? -x : x) : gcd(y, x % y));

/** Captures the single job makes: ceil(duration × a/b), capped at maxCaptures (as MediaConvert counts). */
export function singleJobCaptures(input: Pick<SegmentPlanInput, 'sourceRate' | 'sourceFrames' | 'captureRate' | 'maxCaptures'>): number {
  const { sourceRate: s, captureRate: c } = input;
  // duration = sourceFrames · q/p seconds; captures = ceil(duration · a/b).
  const numerator = BigInt(input.sourceFrames) * BigInt(s.denominator) * BigInt(c.numerator);
  const per = BigInt(s.numerator) * BigInt(c.denominator);
  const count = numerator <= 0n ? 0n : (numerator + per - 1n) / per;
  return Number(count < BigInt(input.maxCaptures) ? count : BigInt(input.maxCaptures));
}

/** Capture indices that are on the source's frame grid are the multiples of this. */
export function captureStride(sourceRate: FrameRate, captureRate: FrameRate): number {
  const bp = BigInt(captureRate.denominator) * BigInt(sourceRate.numerator);
  const qa = BigInt(sourceRate.denominator) * BigInt(captureRate.numerator);
  return Number(qa / gcd(bp, qa));
}

/** The source frame shown at capture `index`, when the index is on the grid (a multiple of the stride). */
export function sourceFrameAtCapture(index: number, sourceRate: FrameRate, captureRate: FrameRate): number {
  const frames = BigInt(index) * BigInt(captureRate.denominator) * BigInt(sourceRate.numerator);
  const per = BigInt(captureRate.numerator) * BigInt(sourceRate.denominator);
  if (frames % per !== 0n) throw new RangeError(`Capture ${index} is not on the source's frame grid`);
  return Number(frames / per);
}

export function planSegments(input: SegmentPlanInput): SegmentPlan {
  const captures = singleJobCaptures(input);
  const single = (reason: string): SegmentPlan => ({ kind: 'single', captures, reason });
  if (!input.constantFrameRate) return single('the frame rate varies: segments could not be cut on both grids');
  const capturedSeconds = (captures * input.captureRate.denominator) / input.captureRate.numerator;
  const wanted = Math.min(input.maxSegments, Math.floor(capturedSeconds / input.minSegmentSeconds));
  if (wanted < 2) return single(`the video is short: ${capturedSeconds.toFixed(1)} s captured, segments are at least ${input.minSegmentSeconds} s`);

  const base = timecodeBase(input.sourceRate);
  if (base === undefined) {
    return single(`the frame rate ${input.sourceRate.numerator}/${input.sourceRate.denominator} has no non-drop-frame timecode to clip by`);
  }
  const stride = captureStride(input.sourceRate, input.captureRate);
  const minCaptures = Math.ceil((input.minSegmentSeconds * input.captureRate.numerator) / input.captureRate.denominator);
  // Each cut as near its even share as the grid allows, never closer than a minimum segment.
  const cuts: number[] = [];
  for (let k = 1; k < wanted; k += 1) {
    const ideal = (k * captures) / wanted;
    const cut = Math.round(ideal / stride) * stride;
    const previous = cuts.at(-1) ?? 0;
    if (cut - previous >= minCaptures && captures - cut >= minCaptures) cuts.push(cut);
  }
  if (cuts.length === 0) {
    return single(`the capture grid meets the source's frame grid only every ${stride} captures, too far apart for segments of this video`);
  }

  const starts = [0, ...cuts];
  const segments = starts.map((firstCapture, index): Segment => {
    const next = starts[index + 1];
    return {
      index,
      firstSourceFrame: sourceFrameAtCapture(firstCapture, input.sourceRate, input.captureRate),
      endSourceFrame: next === undefined ? input.sourceFrames : sourceFrameAtCapture(next, input.sourceRate, input.captureRate),
      firstCapture,
      captures: (next ?? captures) - firstCapture,
    };
  });
  return { kind: 'segmented', captures, captureStride: stride, segments };
}

/**
 * Frames per timecode second of a non-drop-frame timecode at this rate: the rate itself when it is
 * a whole number, 30 for 30000/1001 (and 24, 60 for 24000/1001, 60000/1001): MediaConvert's
 * input clippings name frames as HH:MM:SS:FF. Undefined for a rate no timecode counts (12.5 fps).
 */
export function timecodeBase(rate: FrameRate): number | undefined {
  const whole = rate.numerator % rate.denominator === 0 ? rate.numerator / rate.denominator : undefined;
  const ntsc = (rate.numerator * 1001) / (rate.denominator * 1000);
  const base = whole ?? (Number.isInteger(ntsc) ? ntsc : undefined);
  // FF has two digits: a 120 fps video's frame 119 has no timecode MediaConvert accepts.
  return base !== undefined && base <= MAX_TIMECODE_BASE ? base : undefined;
}

/** The highest frame rate HH:MM:SS:FF counts (two frame digits; 60 is the highest AWS's examples use). */
const MAX_TIMECODE_BASE = 60;

/**
 * Source frame `frame` (0-based from the start, as the template's ZEROBASED timecode counts) as a
 * non-drop-frame timecode HH:MM:SS:FF.
 */
export function timecodeOfFrame(frame: number, rate: FrameRate): string {
  const base = timecodeBase(rate);
  if (base === undefined) throw new RangeError(`No timecode counts frames at ${rate.numerator}/${rate.denominator} fps`);
  const two = (value: number) => String(value).padStart(2, '0');
  const seconds = Math.floor(frame / base);
  return `${two(Math.floor(seconds / 3600))}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}:${two(frame % base)}`;
}

/**
 * The input clipping of a segment. Both of MediaConvert's timecodes are inclusive, so the end is
 * the segment's last frame; the last segment has no end and runs to the end of the video, as the
 * single job does.
 */
export function inputClippingOf(segment: Segment, segments: number, sourceRate: FrameRate): { StartTimecode: string; EndTimecode?: string } {
  const start = timecodeOfFrame(segment.firstSourceFrame, sourceRate);
  if (segment.index === segments - 1) return { StartTimecode: start };
  return { StartTimecode: start, EndTimecode: timecodeOfFrame(segment.endSourceFrame - 1, sourceRate) };
}
