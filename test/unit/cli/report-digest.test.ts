import { Readable } from 'node:stream';
import { chartPositions, evenlyPick } from '../../../cli/report/downsample';
import { BARE_OUTPUT } from '../../../cli/report/output-fields';
import { PHASH_DISTANCE_SERIES, SERIES_LIMIT, digestResults } from '../../../cli/report/results-digest';
import { CUT_THRESHOLD_BITS, CutTracker, isCut } from '../../../cli/report/scene-cuts';
import type { FrameResult, JsonValue } from '../../../pipeline/results-format';

/** results.jsonl's lines, as the report reads them: a stream, never a whole file. */
const linesOf = (results: readonly FrameResult[]) => Readable.from(results.map((result) => JSON.stringify(result)));

const frame = (index: number, output: JsonValue, extra: Partial<FrameResult> = {}): FrameResult => ({
  index,
  timestampMs: index * 100,
  key: `v/run/frames/frame.${String(index).padStart(7, '0')}.jpg`,
  output,
  ...extra,
});
const failed = (index: number, message = `no output for frame ${index}`): FrameResult => ({
  index,
  timestampMs: index * 100,
  key: `v/run/frames/frame.${String(index).padStart(7, '0')}.jpg`,
  error: { name: 'RangeError', message },
});

/** A hash whose first `bits` bits are set: hashes of two shots differ in exactly as many bits as asked. */
const hashWithBits = (bits: number) => (bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(64 - bits)).toString(16).padStart(16, '0');
const analysis = (phash: string, luminance = 100) => ({ width: 64, height: 36, meanLuminance: luminance, sharpness: 500 + luminance, phash });

describe('scene cuts from the perceptual hash', () => {
  it(`cuts at ${CUT_THRESHOLD_BITS} bits or more from the previous hashed frame, not below`, () => {
    const tracker = new CutTracker();
    expect(tracker.next(hashWithBits(0))).toBeUndefined();
    expect(tracker.next(hashWithBits(CUT_THRESHOLD_BITS - 1))).toBe(CUT_THRESHOLD_BITS - 1);
    expect(isCut(CUT_THRESHOLD_BITS - 1)).toBe(false);
    expect(tracker.next(hashWithBits(2 * CUT_THRESHOLD_BITS - 1))).toBe(CUT_THRESHOLD_BITS);
    expect(isCut(CUT_THRESHOLD_BITS)).toBe(true);
    // A frame without a hash is skipped: the next is compared with the last one that had one.
    expect(tracker.next(undefined)).toBeUndefined();
    expect(tracker.next(hashWithBits(2 * CUT_THRESHOLD_BITS - 1))).toBe(0);
  });

  it('finds each cut, its distance and the frame before it, across failed frames', async () => {
    const results = [
      frame(0, analysis(hashWithBits(0), 160)),
      frame(1, analysis(hashWithBits(3), 161)),
      failed(2),
      frame(3, analysis(hashWithBits(30), 60)), // 27 bits from frame 1: a cut, found past the failed frame
      frame(4, analysis(hashWithBits(32), 61)),
      frame(5, analysis(hashWithBits(12), 200)), // 20 bits: a cut at the threshold
      failed(6, 'x'.repeat(2000)),
    ];
    const digest = await digestResults(linesOf(results), { expectedFrames: results.length });
    expect(digest.frames).toBe(7);
    expect(digest.hashed).toBe(true);
    expect(digest.cuts.map((cut) => [cut.index, cut.distance, cut.before.index])).toEqual([
      [3, 27, 1],
      [5, 20, 4],
    ]);
    expect(digest.cutCount).toBe(2);
    expect(digest.cuts[0]!.key).toBe(results[3]!.key);
    expect(digest.failures.map((failure) => [failure.index, failure.error.name])).toEqual([
      [2, 'RangeError'],
      [6, 'RangeError'],
    ]);
    expect(digest.failureCount).toBe(2);
    // Long messages are cut for the page; results.jsonl keeps them whole.
    expect(digest.failures[1]!.error.message.length).toBe(500);
    const distance = digest.series.find((series) => series.path === PHASH_DISTANCE_SERIES)!;
    expect(Array.from(distance.values)).toEqual([NaN, 3, NaN, 27, 2, 20, NaN]);
  });
});

describe('series found from the outputs', () => {
  it("charts a custom processor's numbers, nested numbers and array lengths, not strings or booleans", async () => {
    const results = [
      frame(0, { score: 0.5, label: 'car', ok: true, stats: { mean: 1, deep: { deeper: { tooDeep: 1 } } }, objects: [{ x: 1 }, { x: 2 }] }),
      failed(1),
      frame(2, { score: 0.75, label: 'bus', ok: false, stats: { mean: 3 }, objects: [], lateField: 9 }),
    ];
    const digest = await digestResults(linesOf(results));
    const byPath = Object.fromEntries(digest.series.map((series) => [series.path, Array.from(series.values)]));
    expect(Object.keys(byPath)).toEqual(['score', 'stats.mean', 'objects.length', 'lateField']);
    expect(byPath).toEqual({
      score: [0.5, NaN, 0.75],
      'stats.mean': [1, NaN, 3],
      'objects.length': [2, NaN, 0],
      // A field first seen late has no value for the frames before it.
      lateField: [NaN, NaN, 9],
    });
    expect(digest.series.find((series) => series.path === 'score')).toMatchObject({ min: 0.5, max: 0.75, count: 2 });
    // No phash, no cuts.
    expect(digest.hashed).toBe(false);
    expect(digest.cuts).toEqual([]);
  });

  it('charts a processor that returns a bare number or an array', async () => {
    const numbers = await digestResults(linesOf([frame(0, 4), frame(1, 7)]));
    expect(numbers.series.map((series) => [series.path, Array.from(series.values)])).toEqual([[BARE_OUTPUT, [4, 7]]]);
    const arrays = await digestResults(linesOf([frame(0, [1, 2, 3])]));
    expect(arrays.series.map((series) => series.path)).toEqual([`${BARE_OUTPUT}.length`]);
  });

  it(`keeps at most ${SERIES_LIMIT} series and names the others`, async () => {
    const wide = Object.fromEntries(Array.from({ length: SERIES_LIMIT + 3 }, (_, n) => [`field${n}`, n]));
    const digest = await digestResults(linesOf([frame(0, wide)]));
    expect(digest.series).toHaveLength(SERIES_LIMIT);
    expect(digest.uncollected).toEqual([`field${SERIES_LIMIT}`, `field${SERIES_LIMIT + 1}`, `field${SERIES_LIMIT + 2}`]);
  });

  it('grows its columns past the expected count, and counts lines that are not results', async () => {
    const results = Array.from({ length: 100 }, (_, index) => JSON.stringify(frame(index, { v: index })));
    const digest = await digestResults(Readable.from(['not json', ...results, '{"no":"index"}', '']), { expectedFrames: 10 });
    expect(digest.frames).toBe(100);
    expect(digest.unreadableLines).toBe(2);
    expect(Array.from(digest.series[0]!.values)).toEqual(Array.from({ length: 100 }, (_, index) => index));
    expect(Array.from(digest.indices.slice(98))).toEqual([98, 99]);
  });

  it("uses a KVS clip's producer time as the time axis", async () => {
    const start = Date.parse('2026-11-21T08:00:30Z');
    const digest = await digestResults(linesOf([frame(0, { v: 1 }, { producerTimestampMs: start }), frame(1, { v: 2 }, { producerTimestampMs: start + 500 })]));
    expect(digest.absoluteTime).toBe(true);
    expect(Array.from(digest.timesMs)).toEqual([start, start + 500]);
  });

  it('keeps the keys of the frames asked for (cuts and failures carry their own)', async () => {
    const digest = await digestResults(linesOf([frame(0, 1), frame(1, 1), frame(2, 1)]), { wantKey: (index) => index !== 1 });
    expect([...digest.keys.keys()]).toEqual([0, 2]);
  });
});

describe('downsampling the charts', () => {
  it('draws every frame up to the limit', () => {
    expect(Array.from(chartPositions(5, [new Float64Array([1, 2, 3, 4, 5])], [], 10))).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps a lone spike, every cut and failed frame, and stays within the limit', () => {
    const frames = 1_000_000;
    const luminance = new Float64Array(frames).fill(120);
    const sharpness = new Float64Array(frames).fill(800);
    luminance[654_321] = 3; // one dark frame
    sharpness[111_111] = 5; // one blurred frame
    const failedFrames = [17, 500_000, 999_999];
    for (const position of failedFrames) {
      luminance[position] = NaN;
      sharpness[position] = NaN;
    }
    const cuts = [250_000, 750_001];
    const limit = 20_000;
    const positions = chartPositions(frames, [luminance, sharpness], [...failedFrames, ...cuts].sort((a, b) => a - b), limit);
    expect(positions.length).toBeLessThanOrEqual(limit);
    expect(positions.length).toBeGreaterThan(limit / 4);
    const kept = new Set(positions);
    for (const position of [654_321, 111_111, ...failedFrames, ...cuts]) expect(kept.has(position)).toBe(true);
    // Ascending, no repeats, and spread over the whole run.
    expect(Array.from(positions)).toEqual([...kept].sort((a, b) => a - b));
    expect(positions[0]).toBeLessThan(frames / 1000);
    expect(positions[positions.length - 1]).toBeGreaterThan(frames - frames / 1000);
  });

  it('keeps at most half the limit of cuts and failures, spread evenly', () => {
    const mustKeep = Array.from({ length: 50_000 }, (_, n) => n * 2);
    const positions = chartPositions(100_000, [new Float64Array(100_000)], mustKeep, 1000);
    expect(positions.length).toBeLessThanOrEqual(1000);
    expect(evenlyPick([1, 2, 3, 4, 5, 6, 7, 8, 9], 3)).toEqual([1, 5, 9]);
    expect(evenlyPick([1, 2], 5)).toEqual([1, 2]);
  });
});
