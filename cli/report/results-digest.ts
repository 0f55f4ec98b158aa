import type { FrameError, FrameResult } from '../../pipeline/results-format';
import { visitNumericFields } from './output-fields';
import { CutTracker, isCut, phashOf } from './scene-cuts';

/** Series collected from the outputs, in order of first appearance; more are named but not kept. */
export const SERIES_LIMIT = 10;
/**
 * Cuts and failed frames kept with their details (and drawn as markers). A run may fail every one
 * of a million frames; past this many they are counted, and results.jsonl still names each.
 */
export const DETAIL_LIMIT = 10_000;
/** Error messages are cut to this length: the report shows them, results.jsonl keeps them whole. */
const MESSAGE_LIMIT = 500;

/** The key of the series the report derives from `phash`: the distance to the previous frame. */
export const PHASH_DISTANCE_SERIES = 'phash.distance';

export interface SeriesColumn {
  /** The output field's dotted path (output-fields.ts), or PHASH_DISTANCE_SERIES. */
  readonly path: string;
  /** One value per frame, by position in results.jsonl; NaN where the frame has none. */
  readonly values: Float64Array;
  readonly min: number;
  readonly max: number;
  /** Frames that have a value. */
  readonly count: number;
}

export interface CutFrame {
  readonly index: number;
  readonly timeMs: number;
  readonly key: string;
  /** Bits of the perceptual hash that differ from the previous hashed frame. */
  readonly distance: number;
  /** The last frame before the cut that had a hash: the other side of the cut. */
  readonly before: { readonly index: number; readonly key: string };
}

export interface FailedFrame {
  readonly index: number;
  readonly timeMs: number;
  readonly key: string;
  readonly error: FrameError;
}

/**
 * What the report needs of results.jsonl, read once, line by line: the per-frame numbers as
 * columns (8 bytes a frame each), the cuts and failed frames, and the keys of a few chosen frames.
 * Nothing else of a line is kept, so a run of a million frames costs tens of megabytes.
 */
export interface ResultsDigest {
  readonly frames: number;
  /** Frame index by position (lines are ordered by index; kept, not assumed). */
  readonly indices: Uint32Array;
  /** Producer time for KVS clips (ms since the epoch), else the time from the video's start (ms). */
  readonly timesMs: Float64Array;
  /** True when the times are producer times (every line of a KVS clip has one). */
  readonly absoluteTime: boolean;
  readonly series: readonly SeriesColumn[];
  /** Numeric fields seen after SERIES_LIMIT were full: named in the report, not charted. */
  readonly uncollected: readonly string[];
  /** True when some output had a perceptual hash, so cuts could be looked for. */
  readonly hashed: boolean;
  readonly cuts: readonly CutFrame[];
  readonly cutCount: number;
  readonly failures: readonly FailedFrame[];
  readonly failureCount: number;
  /** Keys of the frames `wantKey` asked for. */
  readonly keys: ReadonlyMap<number, string>;
  /** Lines that were not a result (not JSON, or no index): counted, never fatal. */
  readonly unreadableLines: number;
}

export interface DigestOptions {
  /** The run's frame count, when known: columns are sized once instead of grown. */
  readonly expectedFrames?: number;
  /** Frames whose keys to keep, beyond the cuts and failures (the contact sheet's even samples). */
  readonly wantKey?: (index: number) => boolean;
}

/** Reads results.jsonl's lines (a stream of them: the file is never held whole). */
export async function digestResults(lines: AsyncIterable<string>, options: DigestOptions = {}): Promise<ResultsDigest> {
  const table = new ColumnTable(Math.max(16, options.expectedFrames ?? 0));
  const series = new Map<string, { column: number; min: number; max: number; count: number }>();
  const uncollected = new Set<string>();
  const cuts: CutFrame[] = [];
  const failures: FailedFrame[] = [];
  const keys = new Map<number, string>();
  const tracker = new CutTracker();
  let cutCount = 0;
  let failureCount = 0;
  let unreadableLines = 0;
  let absoluteTime: boolean | undefined;
  let hashed = false;
  let lastHashed: { index: number; key: string } | undefined;

  const record = (path: string, row: number, value: number) => {
    let entry = series.get(path);
    if (!entry) {
      if (series.size >= SERIES_LIMIT) {
        if (uncollected.size < 100) uncollected.add(path);
        return;
      }
      entry = { column: table.addColumn(), min: Infinity, max: -Infinity, count: 0 };
      series.set(path, entry);
    }
    table.set(entry.column, row, value);
    entry.min = Math.min(entry.min, value);
    entry.max = Math.max(entry.max, value);
    entry.count += 1;
  };

  for await (const line of lines) {
    if (line.trim() === '') continue;
    const result = parseResult(line);
    if (!result) {
      unreadableLines += 1;
      continue;
    }
    absoluteTime ??= result.producerTimestampMs !== undefined;
    const timeMs = absoluteTime ? (result.producerTimestampMs ?? Number.NaN) : result.timestampMs;
    const row = table.addRow(result.index, timeMs);
    if (options.wantKey?.(result.index)) keys.set(result.index, result.key);
    if (result.error) {
      failureCount += 1;
      if (failures.length < DETAIL_LIMIT) {
        failures.push({ index: result.index, timeMs, key: result.key, error: { name: String(result.error.name), message: String(result.error.message).slice(0, MESSAGE_LIMIT) } });
      }
      continue;
    }
    visitNumericFields(result.output, (path, value) => record(path, row, value));
    const hash = phashOf(result.output);
    if (hash === undefined) continue;
    hashed = true;
    const distance = tracker.next(hash);
    if (distance !== undefined) record(PHASH_DISTANCE_SERIES, row, distance);
    if (isCut(distance) && lastHashed) {
      cutCount += 1;
      if (cuts.length < DETAIL_LIMIT) cuts.push({ index: result.index, timeMs, key: result.key, distance, before: lastHashed });
    }
    lastHashed = { index: result.index, key: result.key };
  }

  return {
    frames: table.rows,
    indices: table.indices(),
    timesMs: table.times(),
    absoluteTime: absoluteTime ?? false,
    series: [...series].map(([path, entry]) => ({ path, values: table.column(entry.column), min: entry.min, max: entry.max, count: entry.count })),
    uncollected: [...uncollected],
    hashed,
    cuts,
    cutCount,
    failures,
    failureCount,
    keys,
    unreadableLines,
  };
}

function parseResult(line: string): FrameResult | undefined {
  try {
    const value = JSON.parse(line) as FrameResult;
    return typeof value === 'object' && value !== null && Number.isInteger(value.index) && typeof value.key === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Per-frame columns in typed arrays, grown by doubling: a series first seen late in a run gets a
 * column filled with NaN for the frames before it.
 */
class ColumnTable {
  rows = 0;
  private capacity: number;
  private indexColumn: Uint32Array;
  private timeColumn: Float64Array;
  private readonly columns: Float64Array[] = [];

  constructor(capacity: number) {
    this.capacity = capacity;
    this.indexColumn = new Uint32Array(capacity);
    this.timeColumn = new Float64Array(capacity);
  }

  addRow(index: number, timeMs: number): number {
    if (this.rows === this.capacity) this.grow();
    this.indexColumn[this.rows] = index;
    this.timeColumn[this.rows] = timeMs;
    // Series columns start (and grow) filled with NaN: a frame without a value has none to write.
    return this.rows++;
  }

  addColumn(): number {
    this.columns.push(new Float64Array(this.capacity).fill(Number.NaN));
    return this.columns.length - 1;
  }

  set(column: number, row: number, value: number): void {
    this.columns[column]![row] = value;
  }

  indices = () => this.indexColumn.subarray(0, this.rows);
  times = () => this.timeColumn.subarray(0, this.rows);
  column = (column: number) => this.columns[column]!.subarray(0, this.rows);

  private grow(): void {
    this.capacity *= 2;
    const widen = <T extends Float64Array | Uint32Array>(old: T, make: (size: number) => T): T => {
      const wider = make(this.capacity);
      wider.set(old);
      return wider;
    };
    this.indexColumn = widen(this.indexColumn, (size) => new Uint32Array(size));
    this.timeColumn = widen(this.timeColumn, (size) => new Float64Array(size));
    for (let at = 0; at < this.columns.length; at += 1) this.columns[at] = widen(this.columns[at]!, (size) => new Float64Array(size).fill(Number.NaN));
  }
}
