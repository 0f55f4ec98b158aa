import { evenlyPick } from './downsample';
import type { CutFrame, FailedFrame } from './results-digest';

/**
 * The contact sheet: which frames get a thumbnail. Every frame when the run has no more than the
 * limit; otherwise half the limit sampled evenly over the run, then the two sides of each scene
 * cut, then failed frames (each group spread evenly over the run when it has more than its share).
 */
export const THUMBNAIL_LIMIT = 120;
/** The most thumbnails `--thumbnails` may ask for: past this the file stops being small. */
export const THUMBNAIL_LIMIT_MAX = 2000;
/**
 * A cap on the thumbnails' bytes, whatever their number: at 160 px a JPEG is 3 to 8 KB, so 120 take
 * under 1 MB, but noisy 4:3 frames or a large --thumbnails could not grow the file past this.
 */
export const THUMBNAIL_BYTES_BUDGET = 4 * 1024 * 1024;

export type SheetReason = 'sample' | 'cut' | 'before-cut' | 'failed';

export interface SheetFrame {
  readonly index: number;
  readonly key: string;
  readonly reasons: readonly SheetReason[];
}

/** How many frames are sampled evenly for a run of `total` frames: every one, when they fit. */
export const sampleCount = (total: number, limit: number) => (total <= limit ? total : Math.ceil(limit / 2));

/** The evenly sampled frame indices (0-based, first and last included), known before reading the results. */
export function sampleIndices(total: number, limit: number): Set<number> {
  const count = sampleCount(total, limit);
  if (count <= 1) return new Set(count === 1 ? [0] : []);
  return new Set(Array.from({ length: count }, (_, at) => Math.round((at * (total - 1)) / (count - 1))));
}

export function chooseSheetFrames(input: {
  readonly total: number;
  readonly limit: number;
  /** Keys of the sampled frames (results-digest's `keys`). */
  readonly keys: ReadonlyMap<number, string>;
  readonly cuts: readonly CutFrame[];
  readonly failures: readonly FailedFrame[];
}): SheetFrame[] {
  const chosen = new Map<number, { key: string; reasons: SheetReason[] }>();
  const add = (index: number, key: string, reason: SheetReason) => {
    const entry = chosen.get(index) ?? { key, reasons: [] };
    if (!entry.reasons.includes(reason)) entry.reasons.push(reason);
    chosen.set(index, entry);
  };
  for (const index of sampleIndices(input.total, input.limit)) {
    const key = input.keys.get(index);
    if (key !== undefined) add(index, key, 'sample');
  }
  // A cut or failed frame a sample already shows is marked as such and costs no room. The room left
  // goes to the others: half of it to cuts (two frames each) when there are failed frames too.
  const shown = (index: number) => chosen.has(index);
  const addCut = (cut: CutFrame) => {
    add(cut.before.index, cut.before.key, 'before-cut');
    add(cut.index, cut.key, 'cut');
  };
  const cutsLeft: CutFrame[] = [];
  for (const cut of input.cuts) {
    if (shown(cut.index) && shown(cut.before.index)) addCut(cut);
    else cutsLeft.push(cut);
  }
  const failuresLeft: FailedFrame[] = [];
  for (const failure of input.failures) {
    if (shown(failure.index)) add(failure.index, failure.key, 'failed');
    else failuresLeft.push(failure);
  }
  const room = Math.max(0, input.limit - chosen.size);
  evenlyPick(cutsLeft, Math.floor(room / (failuresLeft.length > 0 ? 4 : 2))).forEach(addCut);
  for (const failure of evenlyPick(failuresLeft, Math.max(0, input.limit - chosen.size))) add(failure.index, failure.key, 'failed');
  return [...chosen].map(([index, entry]) => ({ index, key: entry.key, reasons: entry.reasons })).sort((a, b) => a.index - b.index);
}

/**
 * Keeps thumbnails within a byte budget: cuts and failed frames first, then samples, each group
 * thinned evenly (never cut off at the end of the run) when it does not fit whole.
 */
export function fitToBudget<T extends { readonly index: number; readonly reasons: readonly SheetReason[]; readonly bytes: number }>(
  thumbnails: readonly T[],
  budget = THUMBNAIL_BYTES_BUDGET,
): { kept: T[]; dropped: number } {
  const marked = (thumbnail: T) => thumbnail.reasons.some((reason) => reason !== 'sample');
  const groups = [thumbnails.filter(marked), thumbnails.filter((thumbnail) => !marked(thumbnail))];
  const kept: T[] = [];
  let left = budget;
  for (const group of groups) {
    let take = group;
    while (take.length > 0 && sizeOf(take) > left) {
      // Shrink in proportion to the overshoot, by at least one.
      const count = Math.min(take.length - 1, Math.floor((take.length * left) / sizeOf(take)));
      take = evenlyPick(group, count);
    }
    kept.push(...take);
    left -= sizeOf(take);
  }
  kept.sort((a, b) => a.index - b.index);
  return { kept, dropped: thumbnails.length - kept.length };
}

const sizeOf = (thumbnails: readonly { readonly bytes: number }[]) => thumbnails.reduce((sum, thumbnail) => sum + thumbnail.bytes, 0);
