/**
 * Which frames the charts draw when a run has more than the limit: a chart of a million points
 * would make the file tens of megabytes and the page slow, and a screen is a few thousand pixels
 * wide anyway. The frames are cut into equal buckets and each bucket keeps, for every series, the
 * frame with its lowest and the frame with its highest value, so a single dark, blurred or
 * changed frame still shows as a spike (an average or every n-th frame would hide it); and every
 * frame in `mustKeep` (cuts and failed frames) is kept, up to half the limit.
 */
export const CHART_POINT_LIMIT = 20_000;

/**
 * Positions (0..frames-1) to draw, ascending, at most `limit` of them. `series` are per-position
 * values with NaN for none; `mustKeep` holds positions, ascending.
 */
export function chartPositions(
  frames: number,
  series: readonly Float64Array[],
  mustKeep: readonly number[],
  limit = CHART_POINT_LIMIT,
): Uint32Array {
  if (frames <= limit) return Uint32Array.from({ length: frames }, (_, position) => position);
  const kept = evenlyPick(mustKeep, Math.floor(limit / 2));
  // Each bucket keeps at most two frames per series (one when there is no series to follow).
  const perBucket = 2 * Math.max(1, series.length);
  const buckets = Math.max(1, Math.floor((limit - kept.length) / perBucket));
  const chosen = new Set<number>(kept);
  for (let bucket = 0; bucket < buckets; bucket += 1) {
    const start = Math.floor((bucket * frames) / buckets);
    const end = Math.floor(((bucket + 1) * frames) / buckets);
    let any = false;
    for (const values of series) {
      let low = -1;
      let high = -1;
      for (let position = start; position < end; position += 1) {
        const value = values[position]!;
        if (Number.isNaN(value)) continue;
        if (low < 0 || value < values[low]!) low = position;
        if (high < 0 || value > values[high]!) high = position;
      }
      if (low >= 0) {
        chosen.add(low).add(high);
        any = true;
      }
    }
    // A bucket of failed frames only still marks where the time axis is.
    if (!any) chosen.add(start);
  }
  return Uint32Array.from([...chosen].sort((a, b) => a - b));
}

/** At most `count` items of a list, spread evenly over it (first and last included). */
export function evenlyPick<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  if (count <= 0) return [];
  if (count === 1) return [items[0]!];
  return Array.from({ length: count }, (_, at) => items[Math.round((at * (items.length - 1)) / (count - 1))]!);
}
