import { ffmpegOutput } from '../ffmpeg';
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

/** The input's first video stream, frame by frame, as presented (what the decoder hands on). */
export interface FrameTimeline {
  /** Seconds per tick: timeBase[0]/timeBase[1]. */
  readonly timeBase: readonly [number, number];
  /** Each frame's presentation time in ticks, ascending. */
  readonly starts: readonly number[];
  /** The end of the last frame, in ticks. */
  readonly end: number;
}

const FRAMECRC_TIME_BASE = /^#tb 0: (\d+)\/(\d+)$/m;
/** A packet line of ffmpeg's framecrc muxer: `0, dts, pts, duration, size, hash[, F=0xflags]`. */
const FRAMECRC_PACKET = /^0,\s*(-?\d+),\s*(-?\d+),\s*(\d+),\s*\d+,\s*0x[0-9a-f]+(?:,\s*F=0x([0-9A-Fa-f]+))?/gm;
const NO_TIMESTAMP = -(2n ** 63n);
/** AV_PKT_FLAG_DISCARD: a packet decoded only to be dropped (before an MP4 edit list's start). */
const DISCARD = 0x4;

/**
 * Reads the first video stream's packets without decoding them (ffmpeg copies them to the framecrc
 * muxer, as measureVideoStream in ../ffmpeg.ts does), keeping each frame's presentation time.
 * Packets the demuxer marks to be discarded are no frames: an MP4 cut mid-GOP keeps the GOP's
 * start, which the decoder decodes and drops. Undefined when the file has no video packets.
 */
export async function measureFrameTimeline(path: string): Promise<FrameTimeline | undefined> {
  const { stdout } = await ffmpegOutput(['-v', 'error', '-i', path, '-map', '0:v:0', '-c', 'copy', '-f', 'framecrc', '-']);
  const timeBase = FRAMECRC_TIME_BASE.exec(stdout);
  if (!timeBase) return undefined;
  return timelineOfPackets(
    [Number(timeBase[1]), Number(timeBase[2])],
    [...stdout.matchAll(FRAMECRC_PACKET)].map(([, dts, pts, duration, flags]) => ({
      // Presentation time when the container has one, else the decoding time ffmpeg made up.
      at: BigInt(pts) === NO_TIMESTAMP ? Number(dts) : Number(pts),
      duration: Number(duration),
      discard: flags !== undefined && (parseInt(flags, 16) & DISCARD) !== 0,
    })),
  );
}

export function timelineOfPackets(
  timeBase: readonly [number, number],
  packets: ReadonlyArray<{ at: number; duration: number; discard?: boolean }>,
): FrameTimeline | undefined {
  const frames = packets.filter((packet) => !packet.discard).sort((a, b) => a.at - b.at);
  if (frames.length === 0) return undefined;
  const last = frames[frames.length - 1];
  // A last packet without a duration lasts as long as the step before it (as measureVideoStream).
  const lastDuration = last.duration || (frames.length > 1 ? last.at - frames[frames.length - 2].at : 0);
  return { timeBase, starts: frames.map((frame) => frame.at), end: last.at + lastDuration };
}

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
