import { spawn, spawnSync } from 'node:child_process';

let resolved: string | undefined;

/**
 * The ffmpeg to run: FRAMES_FFMPEG if set (read on every call, so a test can pin a build per
 * run), else a system ffmpeg on PATH (usually newer, with the machine's hardware decoders), else
 * the static binary that `npm ci` installed with @ffmpeg-installer/ffmpeg (a 2018 build, about
 * 4.1), so nothing has to be installed by hand. The local MediaConvert endpoint gives the same
 * frames with either (local/mediaconvert/ffmpeg-job.ts says how).
 */
export function ffmpegPath(): string {
  const configured = process.env.FRAMES_FFMPEG;
  if (configured) return configured;
  if (resolved) return resolved;
  const system = spawnSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' });
  if (system.status === 0) return (resolved = 'ffmpeg');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (resolved = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path);
}

/** How a build of ffmpeg is told to pass each filtered frame to the output as it is. */
export type FrameSyncOption = 'fps_mode' | 'vsync';

const frameSyncOptions = new Map<string, Promise<FrameSyncOption>>();

/**
 * ffmpeg 5.1 and later set the output frame sync per output (`-fps_mode`); older builds (the
 * bundled 2018 one) only globally (`-vsync`, deprecated since 5.1). Asked once per binary.
 */
export function frameSyncOption(path = ffmpegPath()): Promise<FrameSyncOption> {
  let option = frameSyncOptions.get(path);
  if (!option) {
    option = new Promise<FrameSyncOption>((resolve) => {
      const child = spawn(path, ['-hide_banner', '-h', 'long'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let help = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (help += chunk));
      child.once('error', () => resolve('vsync'));
      child.once('close', () => resolve(/^-fps_mode\b/m.test(help) ? 'fps_mode' : 'vsync'));
    });
    frameSyncOptions.set(path, option);
  }
  return option;
}

/**
 * Runs ffmpeg quietly (errors only) to completion; rejects with ffmpeg's own error text. For the
 * short one-off commands (sample videos, test videos); the MediaConvert endpoint's long-running
 * job with progress is local/mediaconvert/ffmpeg-job.ts.
 */
export async function runFfmpeg(args: readonly string[]): Promise<void> {
  const { code, stderr } = await ffmpegOutput(['-loglevel', 'error', '-y', ...args]);
  if (code !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${stderr.trim()}`);
}

/**
 * Runs a short ffmpeg command to completion and hands back what it wrote and its exit code, for
 * the commands whose output is the answer (probes, packet reports). Rejects only when ffmpeg
 * cannot be started.
 */
export function ffmpegOutput(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** What ffmpeg reports about a media file's first video stream (and whether it has audio). */
export interface MediaProbe {
  /** ffmpeg's demuxer for the file: `mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`, `png_pipe`, … */
  readonly container: string;
  /** 0 when ffmpeg does not know (a stream without a duration). */
  readonly durationMs: number;
  readonly video?: {
    readonly codec: string;
    readonly width: number;
    readonly height: number;
    /** ffmpeg's name for it: yuv420p, yuvj420p, yuv420p10le, … */
    readonly pixelFormat: string;
    /** 'pc' (full, JPEG) or 'tv' (limited); 'tv' when the file does not say, as ffmpeg assumes. */
    readonly colorRange: 'pc' | 'tv';
    /** Frames a second, from the stream's average rate; undefined when ffmpeg cannot tell. */
    readonly frameRate?: number;
  };
  /** Video streams in the file, cover art (attached pictures) not counted. */
  readonly videoStreams: number;
  readonly hasAudio: boolean;
  /** ffmpeg's name of the first audio stream's codec (aac, mp3, pcm_s16le, …). */
  readonly audioCodec?: string;
}

const DURATION = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/;
const PROBE_VIDEO = /Stream #\d+:\d+.*?: Video: (\w+)[^,]*, (\w+)(?:\(([^)]*)\))?, (\d{2,5})x(\d{2,5})/;
const PROBE_RATE = /, (\d+(?:\.\d+)?) fps/;

/** Demuxers of single pictures (and picture sequences), which MediaConvert does not take as video inputs. */
const STILL_IMAGE_DEMUXER = /^(image2|[a-z0-9]+_pipe|gif|apng)$/;

/**
 * Why a probed file is no video MediaConvert would transcode, or undefined when it is one: a
 * still image (even renamed .mp4), or a file with no video track (audio only).
 */
export function notAVideo(probe: MediaProbe): string | undefined {
  if (STILL_IMAGE_DEMUXER.test(probe.container)) {
    return `the input is a still image (${probe.container}), not a video; upload a video file (MP4, MOV, MKV, MPEG-TS, …)`;
  }
  if (!probe.video) return `the input has no video track${probe.hasAudio ? ' (it is audio only)' : ''}; upload a file with video`;
  return undefined;
}

/**
 * Why MediaConvert would not take a probed file as a job's input, or undefined when it would: not
 * a video (notAVideo), or a video with several video streams, which MediaConvert does not support
 * (its user guide, on input selectors). ffmpeg would silently take the first stream, which in
 * files with a thumbnail track is the thumbnail.
 */
export function notAMediaConvertInput(probe: MediaProbe): string | undefined {
  const notVideo = notAVideo(probe);
  if (notVideo) return notVideo;
  if (probe.videoStreams > 1) {
    return (
      `the input has ${probe.videoStreams} video streams, and MediaConvert does not support inputs with several video streams; ` +
      'keep the one to capture (for example ffmpeg -i in.mp4 -map 0:v:1 -map 0:a? -c copy out.mp4) and upload that'
    );
  }
  return undefined;
}

/** The input's duration from ffmpeg's `Duration: HH:MM:SS.ss` report line, or undefined if absent. */
export function reportedDurationMs(text: string): number | undefined {
  const duration = DURATION.exec(text);
  return duration ? Math.round((Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3])) * 1000) : undefined;
}

/**
 * Reads what `ffmpeg -i` prints about a file (no ffprobe ships with @ffmpeg-installer). Resolves
 * undefined when ffmpeg cannot open the file as media at all.
 */
export async function probeMedia(path: string): Promise<MediaProbe | undefined> {
  // ffmpeg exits 1 here ("At least one output file must be specified"): the report is what counts.
  const { stderr } = await ffmpegOutput(['-i', path]);
  return parseProbe(stderr);
}

export function parseProbe(report: string): MediaProbe | undefined {
  if (!/^Input #0/m.test(report)) return undefined;
  // The input's part of the report only, should it go on to describe outputs.
  const text = report.split(/^Output #/m)[0];
  const videoLine = text.split('\n').find((line) => PROBE_VIDEO.test(line));
  const video = videoLine ? PROBE_VIDEO.exec(videoLine) : null;
  const rate = videoLine ? PROBE_RATE.exec(videoLine) : null;
  const audio = /Stream #\d+:\d+.*?: Audio: (\w+)/.exec(text);
  const videoStreams = text.split('\n').filter((line) => /Stream #0:\d+.*?: Video: /.test(line) && !/\(attached pic\)/.test(line)).length;
  return {
    container: /^Input #0, ([^ ]+), from/m.exec(text)?.[1] ?? '',
    durationMs: reportedDurationMs(text) ?? 0,
    video: video
      ? {
          codec: video[1],
          pixelFormat: video[2],
          colorRange: video[3]?.split(',').map((part) => part.trim()).includes('pc') || video[2].startsWith('yuvj') ? 'pc' : 'tv',
          width: Number(video[4]),
          height: Number(video[5]),
          frameRate: rate ? Number(rate[1]) : undefined,
        }
      : undefined,
    videoStreams,
    hasAudio: /Stream #\d+:\d+.*?: Audio: /.test(text),
    ...(audio ? { audioCodec: audio[1] } : {}),
  };
}

/** The first video stream's own extent: what a frame capture runs over, whatever the container says. */
export interface VideoStreamExtent {
  /** From its first frame's timestamp to the end of its last frame (the last frame's duration included). */
  readonly durationMs: number;
  /** Its frames: its packets, less those the container says to discard (see VideoPacket). */
  readonly frames: number;
}

/** What measureVideoStream measures: the extent, and its duration exactly. */
export interface MeasuredVideoStream extends VideoStreamExtent {
  /** The duration in `ticks` of the stream's time base, `timeBase[0]/timeBase[1]` seconds. */
  readonly ticks: number;
  readonly timeBase: readonly [number, number];
}

/** One packet of a video stream, as the demuxer hands it on (one frame's worth of data). */
export interface VideoPacket {
  /** Its presentation time in ticks of the stream's time base (its decoding time when it has none). */
  readonly at: number;
  /** Its decoding time; `at` when not said. */
  readonly dts?: number;
  /** In ticks; 0 when the container does not say. */
  readonly duration: number;
  /** A keyframe (a sync sample, in MP4): decoding can start here. */
  readonly key?: boolean;
  /**
   * Decoded only to be dropped: the packets before an MP4 edit list's start (a file cut mid-GOP
   * with `-c copy` keeps the GOP from its keyframe, and says which frames are not shown). No frames.
   */
  readonly discard?: boolean;
}

/** The first video stream, frame by frame, as presented (what the decoder hands on). */
export interface FrameTimeline {
  /** Seconds per tick: timeBase[0]/timeBase[1]. */
  readonly timeBase: readonly [number, number];
  /** Each frame's presentation time in ticks, ascending. */
  readonly starts: readonly number[];
  /** The end of the last frame, in ticks. */
  readonly end: number;
  /** The packets it was read from, in decoding (file) order, discarded ones included. */
  readonly packets: readonly VideoPacket[];
}

/** A stream time base line of ffmpeg's framecrc muxer (`#tb 0: 1/15360`). */
const FRAMECRC_TIME_BASE = /^#tb 0: (\d+)\/(\d+)$/m;
/**
 * A packet line of the framecrc muxer: `0, dts, pts, duration, size, hash[, F=0xflags]`, the flags
 * said only when they are not exactly "keyframe".
 */
const FRAMECRC_PACKET = /^0,\s*(-?\d+),\s*(-?\d+),\s*(\d+),\s*\d+,\s*0x[0-9a-f]+(?:,\s*F=0x([0-9A-Fa-f]+))?/gm;
/** ffmpeg's AV_NOPTS_VALUE as framecrc prints it (a raw H.264 stream has no presentation times). */
const NO_TIMESTAMP = -(2n ** 63n);
/** AV_PKT_FLAG_KEY and AV_PKT_FLAG_DISCARD. */
const KEY = 0x1;
const DISCARD = 0x4;

/**
 * Reads the first video stream's packets without decoding them: ffmpeg copies them to the
 * framecrc muxer, which prints each one's timestamps, duration and flags. Timestamps are ffmpeg's,
 * as it hands them to filters: from the file's start time, which is what an input `-ss` counts
 * from too. Undefined when the file has no video frames.
 */
export async function measureFrameTimeline(path: string): Promise<FrameTimeline | undefined> {
  const { stdout } = await ffmpegOutput(['-v', 'error', '-i', path, '-map', '0:v:0', '-c', 'copy', '-f', 'framecrc', '-']);
  const timeBase = FRAMECRC_TIME_BASE.exec(stdout);
  if (!timeBase) return undefined;
  return timelineOfPackets(
    [Number(timeBase[1]), Number(timeBase[2])],
    [...stdout.matchAll(FRAMECRC_PACKET)].map(([, dts, pts, duration, flagText]): VideoPacket => {
      const flags = flagText === undefined ? KEY : parseInt(flagText, 16);
      return {
        // Presentation time when the container has one, else the decoding time ffmpeg made up.
        at: BigInt(pts) === NO_TIMESTAMP ? Number(dts) : Number(pts),
        dts: Number(dts),
        duration: Number(duration),
        key: (flags & KEY) !== 0,
        discard: (flags & DISCARD) !== 0,
      };
    }),
  );
}

/**
 * The frames of a stream's packets (in decoding order): those not to be discarded, in presentation
 * order. A last packet without a duration (rare) lasts as long as the step before it. Undefined
 * when there are none.
 */
export function timelineOfPackets(timeBase: readonly [number, number], packets: readonly VideoPacket[]): FrameTimeline | undefined {
  const frames = packets.filter((packet) => !packet.discard).sort((a, b) => a.at - b.at);
  if (frames.length === 0) return undefined;
  const last = frames[frames.length - 1];
  const lastDuration = last.duration || (frames.length > 1 ? last.at - frames[frames.length - 2].at : 0);
  return { timeBase, starts: frames.map((frame) => frame.at), end: last.at + lastDuration, packets };
}

/** A timeline's extent: from its first frame to the end of its last. */
export function extentOf(timeline: FrameTimeline): MeasuredVideoStream {
  const ticks = timeline.end - timeline.starts[0];
  const [numerator, denominator] = timeline.timeBase;
  return { durationMs: (ticks * 1000 * numerator) / denominator, frames: timeline.starts.length, ticks, timeBase: timeline.timeBase };
}

/**
 * Measures the first video stream on its own, without decoding (measureFrameTimeline). The
 * container's `Duration:` is the longest stream's (a 5 s video with 15 s of audio says 15 s), and
 * MPEG-TS timestamps start at the stream's start time (1.4 s, say); this is first frame to end of
 * last frame, so a 5 s 30 fps video is 5000 ms and a one-frame video one frame long. Packets the
 * demuxer marks to discard are no frames: an MP4 cut mid-GOP with `-c copy` (120 packets of which
 * an edit list hides 12) has the 108 frames a player shows, and their duration. Undefined when
 * the file has no video frames.
 */
export async function measureVideoStream(path: string): Promise<MeasuredVideoStream | undefined> {
  const timeline = await measureFrameTimeline(path);
  return timeline && extentOf(timeline);
}
