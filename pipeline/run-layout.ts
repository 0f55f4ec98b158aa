/**
 * Where one run's objects live. Everything of a run sits under its run prefix
 * (`<storage prefix of the video>/<runId>`), so a re-upload never mixes with an older run, and the
 * same prefix is used in the frames bucket (frames, proxy, per-batch results) and in the egress
 * bucket (results.jsonl, summary.json).
 *
 * Functions import this file: it depends on the definition's constants only.
 */
import { CLIP_PIECES_PREFIX } from './definition';

/**
 * The base name the job template gives the frame-capture destination, so this pipeline's own jobs
 * name captures `frame.NNNNNNN.jpg`. Nothing that reads captures relies on it: the completion
 * function takes the naming from the COMPLETE event's path (captureOfPath).
 */
export const FRAME_BASE_NAME = 'frame';
/** The proxy MP4 that MediaConvert requires beside a frame-capture output. */
export const PROXY_BASE_NAME = 'proxy';

const FRAME_INDEX_DIGITS = 7;
/**
 * MediaConvert names captures `<base name><name modifier>.NNNNNNN.jpg` (7 digits, 0-based): the
 * key up to the counter (the destination's key prefix, base name and modifier; the file name part
 * is never empty), and the counter.
 */
const CAPTURE_KEY = new RegExp(`^((?:.*/)?[^/]+)\\.(\\d{${FRAME_INDEX_DIGITS}})\\.jpg$`);
const CAPTURE_COUNTER = new RegExp(`^\\.(\\d{${FRAME_INDEX_DIGITS}})\\.jpg$`);
const S3_PATH = /^s3:\/\/([^/]+)\/(.+)$/;

/** One frame capture, as named in a COMPLETE event's output path. */
export interface Capture {
  readonly bucket: string;
  /**
   * Every capture key of its output up to `.NNNNNNN.jpg`: the destination's key prefix, base name
   * and name modifier (`<run>/frames/video_frame` for `<run>/frames/video_frame.0000036.jpg`).
   */
  readonly namePrefix: string;
  readonly index: number;
}

/** A capture from its `s3://bucket/key` path; undefined for a path not named like one. */
export function captureOfPath(path: string): Capture | undefined {
  const location = S3_PATH.exec(path);
  const key = location ? CAPTURE_KEY.exec(location[2]) : null;
  return location && key ? { bucket: location[1], namePrefix: key[1], index: Number(key[2]) } : undefined;
}

/** The key of capture `index` of an output whose captures are named `<namePrefix>.NNNNNNN.jpg`. */
export function captureKey(namePrefix: string, index: number): string {
  return `${namePrefix}.${String(index).padStart(FRAME_INDEX_DIGITS, '0')}.jpg`;
}

/**
 * The index of a key named exactly `<namePrefix>.NNNNNNN.jpg`; undefined for any other key (another
 * base name or modifier, the proxy MP4 beside the captures, a counter of other length).
 */
export function captureIndexOf(key: string, namePrefix: string): number | undefined {
  if (!key.startsWith(namePrefix)) return undefined;
  const counter = CAPTURE_COUNTER.exec(key.slice(namePrefix.length));
  return counter ? Number(counter[1]) : undefined;
}

/**
 * Where segment `segment` of a segmented run writes under a prefix (its frames, its proxy): each
 * job numbers its captures from 0, so each gets a folder of its own.
 */
export function segmentPrefix(prefix: string, segment: number): string {
  return `${prefix}segment-${String(segment).padStart(3, '0')}/`;
}

export interface RunLayout {
  readonly runPrefix: string;
  /** Holds this run's JPEGs and nothing else (the proxy has its own prefix). */
  readonly framesPrefix: string;
  readonly proxyPrefix: string;
  /** Frames bucket: one JSON Lines object per processed batch, read back by the fan-in. */
  batchResultsKey(batch: number): string;
  /** Egress bucket: one line per frame, ordered by index. */
  readonly resultsKey: string;
  /** Egress bucket: counts, settings, stage timings and failed frames. */
  readonly summaryKey: string;
  /** Ingress bucket: where a KVS clip's pieces are, under CLIP_PIECES_PREFIX. */
  readonly clipPiecesPrefix: string;
  /** Ingress bucket: piece n (0-based) of a KVS clip, one GetClip MP4. */
  clipPieceKey(piece: number): string;
}

export function runLayout(runPrefix: string): RunLayout {
  const clipPiecesPrefix = `${CLIP_PIECES_PREFIX}${runPrefix}/`;
  return {
    runPrefix,
    framesPrefix: `${runPrefix}/frames/`,
    proxyPrefix: `${runPrefix}/proxy/`,
    batchResultsKey: (batch) => `${runPrefix}/batches/batch.${String(batch).padStart(6, '0')}.jsonl`,
    resultsKey: `${runPrefix}/results.jsonl`,
    summaryKey: `${runPrefix}/summary.json`,
    clipPiecesPrefix,
    clipPieceKey: (piece) => `${clipPiecesPrefix}piece.${String(piece).padStart(4, '0')}.mp4`,
  };
}

/** The key MediaConvert gives capture `index` of this pipeline's job template (base name `frame`). */
export function frameKey(framesPrefix: string, index: number): string {
  return captureKey(`${framesPrefix}${FRAME_BASE_NAME}`, index);
}

/** The 0-based index of a capture, whatever its base name and modifier, from its key or s3:// path; undefined for anything else. */
export function frameIndexOf(keyOrPath: string): number | undefined {
  const match = CAPTURE_KEY.exec(keyOrPath);
  return match ? Number(match[2]) : undefined;
}

/**
 * The first capture is the video's first frame, then one every denominator/numerator seconds
 * (ARCHITECTURE.md, "Frame timestamps"). Rounded to whole milliseconds.
 */
export function frameTimestampMs(index: number, fps: { numerator: number; denominator: number }): number {
  return Math.round((index * 1000 * fps.denominator) / fps.numerator);
}
