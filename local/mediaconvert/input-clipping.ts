import type { FrameTimeline } from '../ffmpeg';
import type { InputClip, Timecode } from './job-settings';

/**
 * Input clipping, once the input is in hand: which source frames each clip takes, and how long
 * the clips last. MediaConvert's timecodes name frames (HH:MM:SS:FF, both ends of a clip
 * included); with the ZEROBASED source the input's first frame is 00:00:00:00, and timecode
 * HH:MM:SS:FF is frame ((HH·60 + MM)·60 + SS)·base + FF, where base is the input's nominal whole
 * frame rate (30 for 30 and for 29.97 fps, 24 for 23.976, 25 for 25).
 *
 * Frames are counted as decoded, in presentation order: ffmpeg's trim filter then cuts the clip by
 * frame number (ffmpeg-job.ts), so a clip is exactly its frames whatever the container's
 * timestamps. For a constant-rate input this is MediaConvert's count. A variable-rate input
 * (phone video) is counted frame by frame here, where MediaConvert counts on the constant-rate
 * timeline it converts such input to: the same clip can then start a few frames apart on AWS.
 */

/**
 * The input's nominal whole frame rate, which timecodes count frames in: its average rate
 * rounded, so 30 for 30000/1001 and 24 for 24000/1001. The average, not the commonest step, so
 * that a rate whose frames the time base cannot hold exactly (60 fps in milliseconds: 16 and 17 ms)
 * still comes out whole.
 */
export function timecodeBaseOf(timeline: FrameTimeline): number {
  const ticks = timeline.end - timeline.starts[0];
  if (ticks <= 0) return 1;
  return Math.max(1, Math.round((timeline.starts.length * timeline.timeBase[1]) / (ticks * timeline.timeBase[0])));
}

/** A clip as frames of the input (`startFrame`..`endFrame`, both included), and its length. */
export interface ResolvedClip {
  readonly startFrame: number;
  readonly endFrame: number;
  /** From the start of its first frame to the end of its last, in ticks of `timeBase`. */
  readonly ticks: number;
  readonly timeBase: readonly [number, number];
  readonly durationMs: number;
}

/** A clipping the input cannot satisfy: the job ends in ERROR with this message. */
export class ClippingError extends Error {
  override readonly name = 'ClippingError';
}

export function frameOfTimecode(timecode: Timecode, base: number): number {
  if (timecode.frames >= base) {
    throw new ClippingError(
      `${timecode.field}: ${timecode.text} names frame ${timecode.frames} of a second, but the input has ${base} frames a second (frames 00 to ${String(base - 1).padStart(2, '0')})`,
    );
  }
  return ((timecode.hours * 60 + timecode.minutes) * 60 + timecode.seconds) * base + timecode.frames;
}

/**
 * Each clip's frames in the input. A clip that starts after the input's last frame is an error:
 * it would be an empty output (or, for the job's only clip, no output at all), which is never
 * what was meant, so the job fails saying where the input ends rather than completing with
 * nothing. A clip whose end is past the last frame runs to the input's end, as a blank end does:
 * the outputs' duration and capture count are those of the frames the clip really has.
 */
export function resolveClips(clips: readonly InputClip[], timeline: FrameTimeline): ResolvedClip[] {
  const base = timecodeBaseOf(timeline);
  const frames = timeline.starts.length;
  const lastFrame = frames - 1;
  const [tbNumerator, tbDenominator] = timeline.timeBase;
  return clips.map((clip) => {
    const startFrame = clip.start ? frameOfTimecode(clip.start, base) : 0;
    const endFrame = Math.min(clip.end ? frameOfTimecode(clip.end, base) : lastFrame, lastFrame);
    if (clip.start && startFrame > lastFrame) {
      throw new ClippingError(
        `${clip.start.field}: ${clip.start.text} is frame ${startFrame}, after the input's last frame ${lastFrame} ` +
          `(${frames} frames at ${base} frames a timecode second: the last timecode is ${timecodeOf(lastFrame, base)})`,
      );
    }
    const ticks = (endFrame + 1 < frames ? timeline.starts[endFrame + 1] : timeline.end) - timeline.starts[startFrame];
    return { startFrame, endFrame, ticks, timeBase: timeline.timeBase, durationMs: (ticks * 1000 * tbNumerator) / tbDenominator };
  });
}

function timecodeOf(frame: number, base: number): string {
  const two = (value: number) => String(value).padStart(2, '0');
  const seconds = Math.floor(frame / base);
  return `${two(Math.floor(seconds / 3600))}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}:${two(frame % base)}`;
}

/**
 * Where a clipped job's ffmpeg starts reading its input: `-ss seconds` before `-i`, after which
 * the first frame ffmpeg hands on is the input's frame `frame` (the clips' frames then count from
 * it: ffmpeg-job.ts).
 */
export interface InputSeek {
  /** On ffmpeg's timeline of the input (measureFrameTimeline's), to the microsecond: `12.345678`. */
  readonly seconds: string;
  readonly frame: number;
}

/** The demuxers that seek to a keyframe by the file's own index: MP4 and MOV (`mov,mp4,m4a,3gp,3g2,mj2`). */
const SEEKS_TO_INDEXED_KEYFRAMES = /^mov,/;

/**
 * Where to start reading the input so that its clips need not decode every frame before the first
 * of them: without it, a clip late in a long video costs the decode of all that comes before (the
 * pipeline splits a long video into one job per segment, run at once: segment k of N decoded k/N
 * of the video first, the jobs together about N/2 times the video). Undefined when the input is
 * to be read from its start: the first clip starts in the first GOP (nothing to skip), the input
 * is not an MP4 or MOV, or no seek could be shown to keep every frame.
 *
 * ffmpeg's input `-ss T` seeks the demuxer to a keyframe before T, decodes from there, drops the
 * frames presented before T and counts time from T. T is halfway between the presentation times
 * of the frame before the clip's first and the first, so the first frame handed on is the clip's
 * first whichever way ffmpeg rounds T into the stream's time base (T is at least 2 ticks from
 * both; a time base too coarse for that, such as 1/30 s at 30 fps, is not sought in).
 *
 * The MP4 demuxer finds the keyframe by decoding time. With B-frames a keyframe is decoded before
 * it is presented, and frames presented before it can be decoded after it: the leading frames of
 * an open GOP (x265's default), which need the GOP before. A seek that lands on a keyframe decoded
 * before T loses those of them presented after T. ffmpeg moves its target back 3/23 s when a
 * stream has B-frames, which is not always enough (measured with ffmpeg 4.1: x265 at 10 fps with
 * 1 s GOPs lost the frame before each keyframe; a variable-rate H.264 with a 0.4 s gap, a frame
 * decoded just before a keyframe). So the seek is checked against the input's packets: decoding
 * must start at the last keyframe, in decoding order, before every frame presented from T on and
 * presented no later than the first of them, and the next keyframe must be decoded after T, so
 * that no seek lands on it. When it is not, T moves back a frame at a time (the frames between are
 * decoded and dropped by the clip's trim).
 *
 * MP4 and MOV only (the pipeline's inputs): MPEG-TS seeks to a byte position, not a keyframe, and
 * lost frames when tried; other containers are read from their start.
 */
export function inputSeek(timeline: FrameTimeline, clips: ReadonlyArray<Pick<ResolvedClip, 'startFrame'>>, container: string): InputSeek | undefined {
  const start = clips[0]?.startFrame ?? 0;
  if (start <= 0 || !SEEKS_TO_INDEXED_KEYFRAMES.test(container)) return undefined;
  const { packets } = timeline;
  const [numerator, denominator] = timeline.timeBase;
  // The frames in presentation order (as timelineOfPackets numbers them), each with its place in
  // decoding order; and for each, the earliest place in decoding order of it and all after it.
  const frames = packets
    .map((packet, decoded) => ({ at: packet.at, decoded, discard: packet.discard }))
    .filter((frame) => !frame.discard)
    .sort((a, b) => a.at - b.at);
  const firstDecoded: number[] = [];
  for (let i = frames.length - 1, earliest = Infinity; i >= 0; i--) firstDecoded[i] = earliest = Math.min(earliest, frames[i].decoded);
  const keyframes = packets.flatMap((packet, decoded) => (packet.key ? [decoded] : []));
  for (let frame = Math.min(start, frames.length - 1); frame > 0; frame--) {
    const before = frames[frame - 1].at;
    const at = frames[frame].at;
    // Twice T, in ticks: a whole number.
    const twiceTarget = before + at;
    if (twiceTarget <= 0) return undefined;
    if (at - before < 4 || ((at - before) * numerator) / denominator < 4e-6) continue;
    let keyframe = lastAtMost(keyframes, firstDecoded[frame]);
    while (keyframe >= 0 && packets[keyframes[keyframe]].at > at) keyframe--;
    // Decoding starts at the first keyframe anyway (or there is none to start at).
    if (keyframe <= 0) return undefined;
    const next = packets[keyframes[keyframe + 1]];
    if (next === undefined || 2 * (next.dts ?? next.at) - twiceTarget >= 4) {
      return { seconds: secondsOf(BigInt(twiceTarget), BigInt(numerator), BigInt(2 * denominator)), frame };
    }
  }
  return undefined;
}

/** The index of the last value at most `limit` in ascending `values`; -1 when there is none. */
function lastAtMost(values: readonly number[], limit: number): number {
  let [low, high] = [0, values.length];
  while (low < high) {
    const middle = (low + high) >> 1;
    if (values[middle] <= limit) low = middle + 1;
    else high = middle;
  }
  return low - 1;
}

/** ticks × numerator / denominator seconds (all positive), rounded to the microsecond: `12.345678`. */
function secondsOf(ticks: bigint, numerator: bigint, denominator: bigint): string {
  const micros = (ticks * numerator * 1_000_000n + denominator / 2n) / denominator;
  return `${micros / 1_000_000n}.${String(micros % 1_000_000n).padStart(6, '0')}`;
}
