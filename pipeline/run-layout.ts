/**
 * Where one run's objects live. Everything of a run sits under its run prefix
 * (`<storage prefix of the video>/<runId>`), so a re-upload never mixes with an older run, and the
 * same prefix is used in the frames bucket (frames, proxy, per-batch results) and in the egress
 * bucket (results.jsonl, summary.json).
 *
 * Functions import this file: it depends on the definition's constants only.
 */
import { CLIP_PIECES_PREFIX } from './definition';

/** MediaConvert appends `.NNNNNNN.jpg` (7 digits, 0-based) to a frame-capture destination's base name. */
export const FRAME_BASE_NAME = 'frame';
/** The proxy MP4 that MediaConvert requires beside a frame-capture output. */
export const PROXY_BASE_NAME = 'proxy';

const FRAME_INDEX_DIGITS = 7;
const FRAME_FILE = new RegExp(`(?:^|/)${FRAME_BASE_NAME}\\.(\\d{${FRAME_INDEX_DIGITS}})\\.jpg$`);

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

/** The key MediaConvert gives the capture with this 0-based index. */
export function frameKey(framesPrefix: string, index: number): string {
  return `${framesPrefix}${FRAME_BASE_NAME}.${String(index).padStart(FRAME_INDEX_DIGITS, '0')}.jpg`;
}

/** The 0-based index of a capture from its key or s3:// path; undefined for anything else. */
export function frameIndexOf(keyOrPath: string): number | undefined {
  const match = FRAME_FILE.exec(keyOrPath);
  return match ? Number(match[1]) : undefined;
}

/**
 * The first capture is the video's first frame, then one every denominator/numerator seconds
 * (ARCHITECTURE.md, "Frame timestamps"). Rounded to whole milliseconds.
 */
export function frameTimestampMs(index: number, fps: { numerator: number; denominator: number }): number {
  return Math.round((index * 1000 * fps.denominator) / fps.numerator);
}
