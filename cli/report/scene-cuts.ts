import { hammingDistance } from '../../functions/frame-worker/perceptual-hash';

/**
 * A scene cut is where a frame's perceptual hash (the default processor's `phash`) is at least
 * this many of its 64 bits away from the previous frame's. Frames of one shot differ by about 0-6
 * bits, fast motion by up to 14 (measured on ffmpeg's moving testsrc2 at 10 fps), and unrelated
 * images by about 32; a cut between two real shots measured 24 to 30. 20 sits between motion and
 * cuts with margin on both sides.
 */
export const CUT_THRESHOLD_BITS = 20;

/** The output field a cut is found from: only processors that return a perceptual hash have cuts. */
export const PHASH_FIELD = 'phash';

const HASH = /^[0-9a-f]{16}$/;

/** The output's perceptual hash, when it has a well-formed one. */
export function phashOf(output: unknown): string | undefined {
  if (typeof output !== 'object' || output === null || Array.isArray(output)) return undefined;
  const hash = (output as Record<string, unknown>)[PHASH_FIELD];
  return typeof hash === 'string' && HASH.test(hash) ? hash : undefined;
}

/**
 * Follows the hashes frame after frame: the distance of each hashed frame to the last hashed one
 * before it. A failed frame has no hash, so the frame after it is compared with the one before it
 * (a cut that falls on a failed frame is found on the next frame that has a hash).
 */
export class CutTracker {
  private previous: string | undefined;

  /** The distance to the previous hashed frame; undefined for the first one, or without a hash. */
  next(hash: string | undefined): number | undefined {
    if (hash === undefined) return undefined;
    const distance = this.previous === undefined ? undefined : hammingDistance(this.previous, hash);
    this.previous = hash;
    return distance;
  }
}

export const isCut = (distance: number | undefined): distance is number => distance !== undefined && distance >= CUT_THRESHOLD_BITS;
