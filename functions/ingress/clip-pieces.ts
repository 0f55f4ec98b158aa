import type { ClipSegment } from '../../pipeline/clip-timeline';
import type { TimestampType } from '../../pipeline/clip-request';
import { RejectedInputError } from '../shared/errors';
import { ERROR_CODE } from '../../pipeline/job-record';

/** One fragment of a stream, as ListFragments describes it (timestamps in ms since the epoch). */
export interface Fragment {
  readonly number: string;
  readonly producerMs: number;
  readonly serverMs: number;
  readonly lengthMs: number;
  readonly sizeBytes: number;
}

/** A run of fragments one GetClip call returns whole, and the range that selects exactly them. */
export interface ClipPiece {
  readonly fragments: readonly Fragment[];
  /** GetClip's StartTimestamp: the first fragment's timestamp (of the request's type). */
  readonly startMs: number;
  /** GetClip's EndTimestamp (inclusive, compared to fragment starts): just before the next piece. */
  readonly endMs: number;
  readonly sizeBytes: number;
  readonly durationMs: number;
  /** True when the stream has a gap between the previous piece and this one. */
  readonly followsGap: boolean;
}

/**
 * GetClip returns "the first 100 MB or the first 200 fragments from the specified start
 * timestamp" and says nothing when it stops early. Every piece is planned to stay inside both
 * limits, so no clip is ever cut short without notice. Fragment sizes are the stream's (MKV); the
 * MP4 GetClip writes differs by its container overhead, so pieces are planned to 90 MB.
 */
export const CLIP_LIMITS = {
  maxFragments: 200,
  maxBytes: 100_000_000,
  plannedBytes: 90_000_000,
  /** MediaConvert stitches at most 150 inputs in one job ("up to 150 inputs in a job"). */
  maxPieces: 150,
  /**
   * A fragment that starts more than this after the previous one ends leaves a gap. Fragment
   * lengths are whole milliseconds, so contiguous fragments can be a few ms apart.
   */
  gapToleranceMs: 50,
} as const;

export type PieceLimits = Pick<typeof CLIP_LIMITS, 'maxFragments' | 'plannedBytes' | 'maxPieces' | 'gapToleranceMs'>;

const timestampOf = (fragment: Fragment, type: TimestampType) =>
  type === 'PRODUCER_TIMESTAMP' ? fragment.producerMs : fragment.serverMs;

/** Fragment numbers are decimal strings longer than a double holds: compare by length, then text. */
function compareFragmentNumbers(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** ListFragments returns fragments in no order; this puts them in stream order, once each. */
export function sortFragments(fragments: readonly Fragment[], type: TimestampType): Fragment[] {
  const unique = new Map(fragments.map((fragment) => [fragment.number, fragment]));
  return [...unique.values()].sort(
    (a, b) => timestampOf(a, type) - timestampOf(b, type) || compareFragmentNumbers(a.number, b.number),
  );
}

/**
 * Splits sorted fragments into GetClip pieces: a new piece at 200 fragments, before the planned
 * bytes would be exceeded, and at every gap (a piece never spans one, so that stitching the pieces
 * end to end is exactly the stream without its gaps). `requestEndMs` closes the last piece.
 */
export function planClipPieces(
  fragments: readonly Fragment[],
  type: TimestampType,
  requestEndMs: number,
  limits: PieceLimits = CLIP_LIMITS,
): ClipPiece[] {
  const groups: Array<{ fragments: Fragment[]; sizeBytes: number; followsGap: boolean }> = [];
  let previous: Fragment | undefined;
  for (const fragment of fragments) {
    const current = groups.at(-1);
    const gap = previous !== undefined && fragment.producerMs - (previous.producerMs + previous.lengthMs) > limits.gapToleranceMs;
    if (
      !current ||
      gap ||
      current.fragments.length >= limits.maxFragments ||
      current.sizeBytes + fragment.sizeBytes > limits.plannedBytes
    ) {
      groups.push({ fragments: [fragment], sizeBytes: fragment.sizeBytes, followsGap: gap });
    } else {
      current.fragments.push(fragment);
      current.sizeBytes += fragment.sizeBytes;
    }
    previous = fragment;
  }
  if (groups.length > limits.maxPieces) {
    throw new RejectedInputError(
      ERROR_CODE.clipTooLong,
      `The range holds ${fragments.length} fragments, which take ${groups.length} GetClip pieces; MediaConvert stitches at most ${limits.maxPieces} inputs in one job. Request a shorter range (about ${Math.floor((limits.maxPieces / groups.length) * 100)}% of this one) and the rest separately.`,
    );
  }
  return groups.map((group, index) => {
    const next = groups[index + 1]?.fragments[0];
    return {
      fragments: group.fragments,
      startMs: timestampOf(group.fragments[0], type),
      endMs: next ? timestampOf(next, type) - 1 : requestEndMs,
      sizeBytes: group.sizeBytes,
      durationMs: group.fragments.reduce((sum, fragment) => sum + fragment.lengthMs, 0),
      followsGap: group.followsGap,
    };
  });
}

/**
 * The clip's timeline (pipeline/clip-timeline.ts): a segment at the start and after every gap,
 * placed where the stitched pieces put it.
 */
export function clipTimeline(pieces: readonly ClipPiece[]): ClipSegment[] {
  const segments: ClipSegment[] = [];
  let offsetMs = 0;
  for (const piece of pieces) {
    if (segments.length === 0 || piece.followsGap) {
      segments.push({ OffsetMs: offsetMs, ProducerTimestampMs: piece.fragments[0].producerMs });
    }
    offsetMs += piece.durationMs;
  }
  return segments;
}
