import { JOB_STATUS, type JobRecord } from '../../pipeline/job-record';
import { type RunSummary, SUMMARY_FAILED_FRAMES_LIMIT } from '../../pipeline/results-format';
import { formatBytes } from '../progress-view';
import { type SheetReason, THUMBNAIL_BYTES_BUDGET } from './contact-sheet';
import { CHART_POINT_LIMIT, chartPositions, evenlyPick } from './downsample';
import { PHASH_DISTANCE_SERIES, type ResultsDigest, type SeriesColumn } from './results-digest';
import { CUT_THRESHOLD_BITS, PHASH_FIELD } from './scene-cuts';
import type { MissingThumbnail, Thumbnail } from './thumbnails';

/**
 * Everything the report page shows, as plain data: the HTML builder (report-html.ts) only lays it
 * out, and the page's script draws `chart` with the inlined library.
 */
export interface ReportModel {
  readonly videoId: string;
  readonly runId: string;
  readonly status: string;
  readonly generatedAt: string;
  /** The summary table: label and value, in order. */
  readonly facts: readonly (readonly [string, string])[];
  readonly error?: { readonly code: string; readonly message: string };
  /** What a reader must know to read the report right: missing thumbnails, no cuts, downsampling. */
  readonly notes: readonly string[];
  /** Absent when the run has no results (a FAILED run). */
  readonly chart?: ChartData;
  readonly cuts: readonly ListedFrame[];
  readonly cutCount: number;
  readonly failures: readonly ListedFrame[];
  readonly failureCount: number;
  readonly sheet: readonly SheetEntry[];
}

export interface ChartData {
  readonly absoluteTime: boolean;
  /** Per drawn point: the frame index, and its time in seconds (since the epoch when absolute). */
  readonly frames: readonly number[];
  readonly t: readonly number[];
  readonly series: readonly ChartSeries[];
  /** Markers: every kept cut (with its distance) and failed frame. */
  readonly cuts: readonly { readonly i: number; readonly t: number; readonly d: number }[];
  readonly failed: readonly { readonly i: number; readonly t: number }[];
  /** Frames drawn out of all, for the note under the charts. */
  readonly drawn: number;
  readonly total: number;
}

export interface ChartSeries {
  readonly key: string;
  readonly label: string;
  readonly values: readonly (number | null)[];
  /** A horizontal line to draw (the cut threshold on the phash distance chart). */
  readonly threshold?: number;
}

export interface ListedFrame {
  readonly index: number;
  readonly time: string;
  /** Cuts: the phash distance; failures: the error. */
  readonly detail: string;
}

export interface SheetEntry {
  readonly index: number;
  readonly time: string;
  readonly reasons: readonly SheetReason[];
  readonly src?: string;
  /** Why there is no image (when `src` is absent). */
  readonly missing?: string;
  readonly cutDistance?: number;
  readonly error?: string;
}

/** Tables list this many cuts or failed frames; results.jsonl (and the charts' markers) have them all. */
export const LIST_LIMIT = SUMMARY_FAILED_FRAMES_LIMIT;

/**
 * Names for the default processor's outputs (functions/frame-worker/default-processor.ts). Which
 * series exist is found from the results; this only says what a known one means.
 */
const SERIES_LABELS: Record<string, string> = {
  meanLuminance: 'Mean luminance (0 black .. 255 white)',
  sharpness: 'Sharpness (variance of the Laplacian; low = blur or flat)',
  [PHASH_DISTANCE_SERIES]: `Perceptual-hash distance to the previous frame (bits of 64; a cut at ≥ ${CUT_THRESHOLD_BITS})`,
};

export interface ModelInput {
  readonly record: JobRecord;
  readonly summary?: RunSummary;
  readonly digest?: ResultsDigest;
  /** Why the run has no digest (no results), said in the charts' place. */
  readonly noResults?: string;
  readonly thumbnails: readonly Thumbnail[];
  readonly missing: readonly MissingThumbnail[];
  /** Thumbnails left out to keep the file small. */
  readonly droppedThumbnails: number;
  readonly notes: readonly string[];
  readonly chartPointLimit?: number;
  readonly now?: Date;
}

export function reportModel(input: ModelInput): ReportModel {
  const { record, digest } = input;
  const absolute = digest?.absoluteTime ?? false;
  const time = (ms: number) => formatFrameTime(ms, absolute);
  const notes = [...input.notes];
  const charted = digest ? chartedSeries(digest) : { varying: [], constant: [] };
  if (digest && !digest.hashed) {
    notes.push(`No scene cuts: the processor's outputs have no \`${PHASH_FIELD}\` (the default processor's perceptual hash), and cuts are found from it.`);
  }
  if (digest && digest.unreadableLines > 0) notes.push(`${digest.unreadableLines} lines of results.jsonl were not frame results and were skipped.`);
  if (input.droppedThumbnails > 0) {
    notes.push(`${input.droppedThumbnails} thumbnails were left out to keep the images under ${formatBytes(THUMBNAIL_BYTES_BUDGET)}.`);
  }
  const chart = digest ? chartData(digest, charted.varying, input.chartPointLimit) : undefined;
  if (chart && chart.drawn < chart.total) {
    notes.push(
      `The charts draw ${chart.drawn.toLocaleString('en-US')} of ${chart.total.toLocaleString('en-US')} frames: in each stretch of the run, ` +
        'the frames with each series\u2019 lowest and highest value, and every cut and failed frame. results.jsonl has every frame.',
    );
  }
  if (digest && digest.cutCount > digest.cuts.length) notes.push(`${digest.cutCount - digest.cuts.length} further cuts are counted but not marked.`);
  if (digest && digest.failureCount > digest.failures.length) notes.push(`${digest.failureCount - digest.failures.length} further failed frames are counted but not marked.`);

  const cutsByIndex = new Map((digest?.cuts ?? []).map((cut) => [cut.index, cut]));
  const failuresByIndex = new Map((digest?.failures ?? []).map((failure) => [failure.index, failure]));
  const timeOf = timeLookup(digest);
  const sheet: SheetEntry[] = [
    ...input.thumbnails.map((thumbnail) => ({ ...sheetFields(thumbnail.index), reasons: thumbnail.reasons, src: thumbnail.dataUri })),
    ...input.missing.map((frame) => ({ ...sheetFields(frame.index), reasons: frame.reasons, missing: frame.detail })),
  ].sort((a, b) => a.index - b.index);
  function sheetFields(index: number) {
    const cut = cutsByIndex.get(index);
    const failure = failuresByIndex.get(index);
    return {
      index,
      time: time(timeOf(index)),
      ...(cut ? { cutDistance: cut.distance } : {}),
      ...(failure ? { error: `${failure.error.name}: ${failure.error.message}` } : {}),
    };
  }

  return {
    videoId: record.VideoId,
    runId: record.RunId,
    status: record.Status,
    generatedAt: (input.now ?? new Date()).toISOString(),
    facts: facts(input, charted, chart),
    error: record.Error ? { code: record.Error.Code, message: record.Error.Message } : undefined,
    notes: input.noResults ? [input.noResults, ...notes] : notes,
    chart,
    cuts: (digest?.cuts ?? []).slice(0, LIST_LIMIT).map((cut) => ({ index: cut.index, time: time(cut.timeMs), detail: `${cut.distance} bits from frame ${cut.before.index}` })),
    cutCount: digest?.cutCount ?? 0,
    failures: (digest?.failures ?? [])
      .slice(0, LIST_LIMIT)
      .map((failure) => ({ index: failure.index, time: time(failure.timeMs), detail: `${failure.error.name}: ${failure.error.message}` })),
    failureCount: digest?.failureCount ?? record.FailedFrames ?? 0,
    sheet,
  };
}

/** Series worth a chart vary over the run; one value throughout (a frame's width) is a fact instead. */
function chartedSeries(digest: ResultsDigest): { varying: SeriesColumn[]; constant: SeriesColumn[] } {
  const withValues = digest.series.filter((series) => series.count > 0);
  const varying = withValues.filter((series) => series.max > series.min);
  // The distance chart goes last, beside the cuts it explains.
  varying.sort((a, b) => Number(a.path === PHASH_DISTANCE_SERIES) - Number(b.path === PHASH_DISTANCE_SERIES));
  return { varying, constant: withValues.filter((series) => series.max === series.min) };
}

function chartData(digest: ResultsDigest, series: readonly SeriesColumn[], limit = CHART_POINT_LIMIT): ChartData {
  // Up to half the points go to cuts, then failed frames: a run failing every frame still gets its cuts drawn.
  const positions = (frames: readonly { readonly index: number }[]) => frames.map((frame) => positionOf(digest, frame.index)).filter((position) => position >= 0);
  const cuts = evenlyPick(positions(digest.cuts), Math.floor(limit / 2));
  const mustKeep = [...cuts, ...evenlyPick(positions(digest.failures), Math.floor(limit / 2) - cuts.length)].sort((a, b) => a - b);
  const drawn = chartPositions(digest.frames, series.map((column) => column.values), mustKeep, limit);
  const seconds = (ms: number) => Math.round(ms) / 1000;
  return {
    absoluteTime: digest.absoluteTime,
    frames: Array.from(drawn, (position) => digest.indices[position]!),
    t: Array.from(drawn, (position) => seconds(digest.timesMs[position]!)),
    series: series.map((column) => ({
      key: column.path,
      label: SERIES_LABELS[column.path] ?? column.path,
      values: Array.from(drawn, (position) => (Number.isNaN(column.values[position]!) ? null : column.values[position]!)),
      ...(column.path === PHASH_DISTANCE_SERIES ? { threshold: CUT_THRESHOLD_BITS } : {}),
    })),
    cuts: digest.cuts.map((cut) => ({ i: cut.index, t: seconds(cut.timeMs), d: cut.distance })),
    failed: digest.failures.map((failure) => ({ i: failure.index, t: seconds(failure.timeMs) })),
    drawn: drawn.length,
    total: digest.frames,
  };
}

/** A frame's time by its index, from the digest's columns. */
function timeLookup(digest: ResultsDigest | undefined): (index: number) => number {
  return (index) => {
    const position = digest ? positionOf(digest, index) : -1;
    return position < 0 ? Number.NaN : digest!.timesMs[position]!;
  };
}

/** A frame's position in results.jsonl (binary search: lines are in index order), or -1. */
function positionOf(digest: ResultsDigest, index: number): number {
  let low = 0;
  let high = digest.frames - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (digest.indices[middle]! < index) low = middle + 1;
    else high = middle;
  }
  return digest.frames > 0 && digest.indices[low] === index ? low : -1;
}

function facts(
  input: ModelInput,
  charted: { varying: readonly SeriesColumn[]; constant: readonly SeriesColumn[] },
  chart: ChartData | undefined,
): [string, string][] {
  const { record, summary, digest } = input;
  const rows: [string, string][] = [['Status', record.Status]];
  if (record.SourceStream) {
    const gaps = Math.max(0, (record.ClipTimeline?.length ?? 1) - 1);
    rows.push([
      'Source',
      `Kinesis video stream ${record.SourceStream}, ${record.ClipStart} to ${record.ClipEnd} by ${record.ClipTimestampType ?? 'PRODUCER_TIMESTAMP'}` +
        (record.ClipFragments !== undefined ? `: ${record.ClipFragments} fragments in ${record.ClipPieces} GetClip pieces` : '') +
        (gaps > 0 ? `, ${gaps} gap${gaps === 1 ? '' : 's'} in the stream (the time axis jumps there)` : ''),
    ]);
    if (record.ClipFirstProducerTimestamp) rows.push(['First frame', `${record.ClipFirstProducerTimestamp} (producer time; the charts' axis is producer time, UTC)`]);
  } else {
    rows.push(['Source', `s3://${record.SourceBucket}/${record.SourceKey}${record.SourceSize !== undefined ? ` (${formatBytes(record.SourceSize)})` : ''}`]);
  }
  rows.push(['Run', `${record.RunId}${record.RunPrefix ? ` (under ${record.RunPrefix}/)` : ''}`]);
  const fps = summary?.settings.fps ?? (record.FpsNumerator ? `${record.FpsNumerator}/${record.FpsDenominator ?? 1}` : undefined);
  if (fps) {
    const settings = [`${fps} fps`];
    const quality = summary?.settings.quality ?? record.Quality;
    const maxCaptures = summary?.settings.maxCaptures ?? record.MaxCaptures;
    const perBatch = summary?.settings.framesPerBatch ?? record.FramesPerBatch;
    if (quality !== undefined) settings.push(`JPEG quality ${quality}`);
    if (maxCaptures !== undefined) settings.push(`at most ${maxCaptures.toLocaleString('en-US')} captures`);
    if (perBatch !== undefined) settings.push(`${perBatch} frames per batch`);
    rows.push(['Capture', settings.join(', ')]);
  }
  const total = summary?.frames.total ?? record.TotalFrames;
  if (total !== undefined) {
    const width = summary?.frames.width ?? record.FrameWidth;
    const height = summary?.frames.height ?? record.FrameHeight;
    rows.push([
      'Frames',
      `${total.toLocaleString('en-US')} in all: ${(summary?.frames.processed ?? record.ProcessedFrames ?? 0).toLocaleString('en-US')} processed, ` +
        `${(summary?.frames.failed ?? record.FailedFrames ?? 0).toLocaleString('en-US')} failed${width ? `; ${width}x${height}` : ''}`,
    ]);
  }
  const durationMs = summary?.durationMs ?? record.DurationMs;
  if (durationMs !== undefined) rows.push(['Duration', formatDuration(durationMs)]);
  rows.push(['Stage timings', stageTimings(record, summary)]);
  rows.push(['Created', record.CreatedAt]);
  if (record.CompletedAt) rows.push(['Completed', record.CompletedAt]);
  else if (record.Status === JOB_STATUS.failed) rows.push(['Failed', record.UpdatedAt]);
  if (record.ResultsKey) rows.push(['Results', `s3://${record.ResultsBucket}/${record.ResultsKey}`]);
  if (digest) {
    const outputs = [`charted: ${charted.varying.map((series) => series.path).join(', ') || 'none (no numeric output varies)'}`];
    if (charted.constant.length > 0) outputs.push(`the same for every frame: ${charted.constant.map((series) => `${series.path} ${series.min}`).join(', ')}`);
    if (digest.uncollected.length > 0) outputs.push(`not charted (over ${digest.series.length} series): ${digest.uncollected.join(', ')}`);
    rows.push(['Processor outputs', outputs.join('; ')]);
    rows.push([
      'Scene cuts',
      digest.hashed
        ? `${digest.cutCount.toLocaleString('en-US')} (where the ${PHASH_FIELD} of a frame is ${CUT_THRESHOLD_BITS} or more bits of 64 from the previous frame's)`
        : `not found: the outputs have no ${PHASH_FIELD}`,
    ]);
  }
  if (chart) rows.push(['Charts', chart.drawn === chart.total ? `every frame (${chart.total.toLocaleString('en-US')})` : `${chart.drawn.toLocaleString('en-US')} of ${chart.total.toLocaleString('en-US')} frames`]);
  const wanted = input.thumbnails.length + input.missing.length + input.droppedThumbnails;
  if (wanted > 0) {
    rows.push([
      'Thumbnails',
      `${input.thumbnails.length} of the ${wanted} frames chosen (${formatBytes(thumbnailBytes(input.thumbnails))})` +
        (input.missing.length > 0 ? `; ${input.missing.length} missing` : ''),
    ]);
  }
  return rows;
}

function stageTimings(record: JobRecord, summary: RunSummary | undefined): string {
  if (summary) {
    const stages = summary.timings.stagesMs;
    const parts: [string, number | undefined][] = [
      ['submit', stages.submit],
      ['extract', stages.extract],
      ['process', stages.process],
      ['fan-in', stages.fanIn],
      ['total', stages.total],
    ];
    return parts.filter(([, ms]) => ms !== undefined).map(([name, ms]) => `${name} ${formatDuration(ms!)}`).join(' \u00b7 ');
  }
  // A FAILED run has no summary.json: what the record's times say, up to the failure.
  const between = (from?: string, to?: string) => (from && to ? Date.parse(to) - Date.parse(from) : undefined);
  const parts: [string, number | undefined][] = [
    ['submit', between(record.CreatedAt, record.SubmittedAt)],
    ['extract', between(record.SubmittedAt, record.ExtractedAt)],
    [record.Status === JOB_STATUS.failed ? 'until it failed' : 'total', between(record.CreatedAt, record.CompletedAt ?? record.UpdatedAt)],
  ];
  return parts.filter(([, ms]) => ms !== undefined).map(([name, ms]) => `${name} ${formatDuration(ms!)}`).join(' \u00b7 ');
}

const thumbnailBytes = (thumbnails: readonly Thumbnail[]) => thumbnails.reduce((sum, thumbnail) => sum + thumbnail.bytes, 0);

/** A stage's or the video's length: milliseconds below a second (a local submit takes 50 ms). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms - minutes * 60_000) / 1000)} s`;
}

/** A frame's time as the tables show it: h:mm:ss.mmm from the start, or the producer time in UTC. */
export function formatFrameTime(ms: number, absolute: boolean): string {
  if (!Number.isFinite(ms)) return '';
  if (absolute) return new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
  const whole = Math.round(ms);
  const hours = Math.floor(whole / 3_600_000);
  const minutes = Math.floor((whole % 3_600_000) / 60_000);
  const seconds = ((whole % 60_000) / 1000).toFixed(3).padStart(6, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}
