// mp4box ships its types only as .d.cts/.d.mts behind package exports, which this project's
// node10 module resolution cannot see; tsconfig maps the type-only name `mp4box-types` to them.
// A tsconfig path must not name `mp4box` itself: tsx and esbuild follow paths at run time too.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createFile, MP4BoxBuffer } = require('mp4box') as typeof import('mp4box-types');
import type { FrameRate } from '../../pipeline/capture-settings';

/**
 * What the ingress function needs to plan segments (pipeline/segment-plan.ts) before it submits:
 * the video track's frame count and, when every frame lasts the same, its frame rate. Read from
 * an MP4/MOV header with ranged reads, through GPAC's parser (mp4box): it says which byte it
 * needs next, so a file whose `moov` is at the end (as cameras write it) costs a read of its
 * start and one of its `moov`, never the media between.
 *
 * Why the header and not a probe of the media: Lambda's disk and time are the very limits this
 * product exists to avoid, and the header holds the sample table itself (`stts`: how long each
 * frame lasts), which is exactly the frame grid the planner cuts on.
 */
export interface VideoTrackFacts {
  readonly frames: number;
  /** Every frame lasts 1/frameRate (one `stts` entry) and the track starts at 0 (no edit beyond one plain entry). */
  readonly constantFrameRate: boolean;
  /** Present when `constantFrameRate`. */
  readonly frameRate?: FrameRate;
  /** Ticks of the track's timescale the frames last, and that timescale. */
  readonly durationTicks: number;
  readonly timescale: number;
  readonly width: number;
  readonly height: number;
  /**
   * The movie lasts longer than its video track (audio that outlasts the video, as phones and
   * cameras write it): where the job's timeline and the frame grid part, one job is the safe plan.
   */
  readonly movieOutlastsVideo: boolean;
}

/** Reads bytes [start, end) of the object (one ranged GET). */
export type RangeReader = (start: number, end: number) => Promise<Uint8Array>;

export interface ProbeOptions {
  /** Bytes a read asks for at least (the first read finds `ftyp` and the top-level box headers). */
  readonly chunkBytes?: number;
  /** Reads at most: a header that needs more is not one this probe plans from. */
  readonly maxReads?: number;
}

export type ProbeResult =
  | { readonly kind: 'mp4'; readonly video: VideoTrackFacts; readonly reads: number; readonly bytesRead: number }
  | { readonly kind: 'unknown'; readonly reason: string; readonly reads: number; readonly bytesRead: number };

const DEFAULT_CHUNK_BYTES = 256 * 1024;
/** B-frames delay the first frame's composition by a few frames; an edit list skips that much. */
const MAX_COMPOSITION_SHIFT_FRAMES = 4;
const DEFAULT_MAX_READS = 32;

export async function probeVideo(read: RangeReader, size: number, options: ProbeOptions = {}): Promise<ProbeResult> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const maxReads = options.maxReads ?? DEFAULT_MAX_READS;
  const file = createFile();
  let ready = false;
  let failure: string | undefined;
  file.onReady = () => (ready = true);
  file.onError = (module: string, message: string) => (failure = `${module}: ${message}`);

  let reads = 0;
  let bytesRead = 0;
  let position = 0;
  while (!ready && !failure && position < size) {
    if (reads >= maxReads) return { kind: 'unknown', reason: `the header was not complete after ${reads} reads`, reads, bytesRead };
    const end = Math.min(size, position + chunkBytes);
    const bytes = await read(position, end);
    reads += 1;
    bytesRead += bytes.byteLength;
    if (position === 0 && !startsLikeMp4(bytes)) return { kind: 'unknown', reason: 'not an MP4/MOV file (it does not start with an ISO box)', reads, bytesRead };
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    let next: number | undefined;
    try {
      next = file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(copy, position));
    } catch (error) {
      // A header the parser cannot read is not one to plan from: one job, and MediaConvert decides.
      return { kind: 'unknown', reason: `its MP4 header could not be parsed (${error instanceof Error ? error.message : String(error)})`, reads, bytesRead };
    }
    // The parser asks for the byte it needs next: past `mdat` when `moov` comes after it.
    position = typeof next === 'number' && next > position ? next : end;
  }
  if (!ready) return { kind: 'unknown', reason: failure ?? 'no MP4/MOV header (moov) was found', reads, bytesRead };

  const info = file.getInfo();
  const track = info.videoTracks[0];
  if (!track) return { kind: 'unknown', reason: 'the file has no video track', reads, bytesRead };
  // A fragmented MP4's header lists no frames: they are in the fragments, spread over the file.
  if (info.isFragmented) return { kind: 'unknown', reason: 'a fragmented MP4: its header does not list the frames', reads, bytesRead };
  const trak = file.getTrackById(track.id);
  const stts = trak.mdia.minf.stbl.stts;
  const edits = trak.edts?.elst?.entries ?? [];
  const frameTicks = stts.sample_deltas[0] ?? 0;
  const mediaTicks = stts.sample_counts.reduce((sum, count, index) => sum + count * stts.sample_deltas[index], 0);
  // One edit that plays the media from (about) its start, at normal rate, to its end is how
  // muxers write a plain track: the shift is B-frames' composition delay (a few frames). A trim
  // (a later start, or an edit shorter than the media) hides frames the header still counts.
  const plainEdit = (edit: (typeof edits)[number]) =>
    edit.media_rate_integer === 1 &&
    edit.media_time >= 0 &&
    edit.media_time <= MAX_COMPOSITION_SHIFT_FRAMES * frameTicks &&
    (edit.segment_duration * track.timescale) / info.timescale >= mediaTicks - edit.media_time - frameTicks;
  const plainEdits = edits.length === 0 || (edits.length === 1 && plainEdit(edits[0]));
  const constantFrameRate = stts.sample_deltas.length === 1 && frameTicks > 0 && plainEdits;
  const frameRate = constantFrameRate ? reduced(track.timescale, stts.sample_deltas[0]) : undefined;
  return {
    kind: 'mp4',
    video: {
      frames: track.nb_samples,
      constantFrameRate,
      ...(frameRate ? { frameRate } : {}),
      durationTicks: mediaTicks,
      timescale: track.timescale,
      width: track.video?.width ?? 0,
      height: track.video?.height ?? 0,
      movieOutlastsVideo: outlasts(info.duration, info.timescale, track.duration, track.timescale, stts.sample_deltas[0] ?? 0),
    },
    reads,
    bytesRead,
  };
}

/** The first box of an MP4/MOV file is one of these (QuickTime files may start with a free box). */
const FIRST_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pdin', 'styp']);

function startsLikeMp4(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 8 && FIRST_BOXES.has(String.fromCharCode(...bytes.subarray(4, 8)));
}

/** The movie is longer than the video track by more than one frame. */
function outlasts(movieDuration: number, movieTimescale: number, trackDuration: number, trackTimescale: number, frameTicks: number): boolean {
  if (!movieTimescale || !trackTimescale) return false;
  return movieDuration / movieTimescale - trackDuration / trackTimescale > Math.max(frameTicks / trackTimescale, 0.001);
}

function reduced(numerator: number, denominator: number): FrameRate {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const divisor = gcd(numerator, denominator);
  return { numerator: numerator / divisor, denominator: denominator / divisor };
}
