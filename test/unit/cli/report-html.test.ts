import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import sharp from 'sharp';
import { loadChartLibrary } from '../../../cli/report/chart-library';
import { THUMBNAIL_BYTES_BUDGET, chooseSheetFrames, fitToBudget, sampleIndices } from '../../../cli/report/contact-sheet';
import { CHART_POINT_LIMIT } from '../../../cli/report/downsample';
import { FRAMES_BUCKET_ENV, framesBucketOf } from '../../../cli/report/frames-bucket';
import { renderReportHtml } from '../../../cli/report/report-html';
import { framesCommandLine } from '../../../cli/shell-quote';
import { type ModelInput, type ReportModel, formatFrameTime, reportModel } from '../../../cli/report/report-model';
import { type ResultsDigest, digestResults } from '../../../cli/report/results-digest';
import { THUMBNAIL_WIDTH, type Thumbnail, explainMissing, makeThumbnails } from '../../../cli/report/thumbnails';
import type { JobRecord } from '../../../pipeline/job-record';
import type { FrameResult, RunSummary } from '../../../pipeline/results-format';
import { FakeBuckets } from '../../support/fake-buckets';

/**
 * The HTML report built from synthetic results, without a pipeline: what the page holds (charts'
 * data, thumbnails as data URIs, cuts and failed frames marked and listed), that it is
 * self-contained, and that it stays small however long the run.
 */
const library = loadChartLibrary();
const FRAMES_BUCKET = 'frames-frames';
const PREFIX = 'scenes.mp4-abc/run-1/frames/';
const keyOf = (index: number) => `${PREFIX}frame.${String(index).padStart(7, '0')}.jpg`;
const hashWithBits = (bits: number) => (bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(64 - bits)).toString(16).padStart(16, '0');

/** 60 frames in three shots (cuts at 20 and 40), every seventh frame from 3 failed: as the integration test's run. */
function sceneResults(frames = 60): FrameResult[] {
  return Array.from({ length: frames }, (_, index) => {
    const base = { index, timestampMs: index * 100, key: keyOf(index) };
    if (index % 7 === 3) return { ...base, error: { name: 'RangeError', message: `no detector output for frame ${index} </script><b>` } };
    const shot = Math.floor((index * 3) / frames);
    const phash = hashWithBits([0, 30, 4][shot]! + (index % 2));
    return { ...base, output: { width: 320, height: 180, meanLuminance: [160, 108, 60][shot]! + (index % 3), sharpness: [1000, 8, 270][shot]! + index, phash } };
  });
}

const digestOf = (results: readonly FrameResult[]) => digestResults(Readable.from(results.map((result) => JSON.stringify(result))), { expectedFrames: results.length });

const record = (overrides: Partial<JobRecord> = {}): JobRecord => ({
  VideoId: 'scenes.mp4',
  RunId: 'run-1',
  Status: 'COMPLETE',
  SourceBucket: 'frames-ingress',
  SourceKey: 'scenes.mp4',
  SourceSequencer: '0',
  RunPrefix: 'scenes.mp4-abc/run-1',
  FramesPrefix: PREFIX,
  FpsNumerator: 10,
  FpsDenominator: 1,
  TotalFrames: 60,
  ProcessedFrames: 51,
  FailedFrames: 9,
  ResultsBucket: 'frames-egress',
  ResultsKey: 'scenes.mp4-abc/run-1/results.jsonl',
  CreatedAt: '2026-11-01T10:00:00.000Z',
  UpdatedAt: '2026-11-01T10:00:09.000Z',
  ExtractedAt: '2026-11-01T10:00:03.000Z',
  CompletedAt: '2026-11-01T10:00:09.000Z',
  ...overrides,
});

const summary: RunSummary = {
  videoId: 'scenes.mp4',
  runId: 'run-1',
  source: { bucket: 'frames-ingress', key: 'scenes.mp4' },
  settings: { fps: '10/1', fpsNumerator: 10, fpsDenominator: 1, quality: 80, maxCaptures: 1_000_000, framesPerBatch: 100 },
  frames: { total: 60, processed: 51, failed: 9, width: 320, height: 180 },
  durationMs: 6000,
  results: { bucket: 'frames-egress', key: 'scenes.mp4-abc/run-1/results.jsonl' },
  timings: { createdAt: '', completedAt: '', stagesMs: { submit: 70, extract: 2900, process: 5100, fanIn: 30, total: 9000 } },
  failedFrames: [],
};

/** A real JPEG frame in a fake frames bucket, for every index asked for. */
async function framesBucket(indices: Iterable<number>): Promise<{ s3: S3Client; buckets: FakeBuckets }> {
  const stub = mockClient(S3Client);
  const buckets = new FakeBuckets(stub);
  const jpeg = await sharp({ create: { width: 640, height: 360, channels: 3, background: { r: 40, g: 120, b: 200 } } }).jpeg().toBuffer();
  for (const index of indices) buckets.put(FRAMES_BUCKET, keyOf(index), jpeg);
  return { s3: new S3Client({ region: 'us-east-1' }), buckets };
}

async function buildReport(input: { results?: FrameResult[]; record?: JobRecord; inBucket?: Iterable<number>; limit?: number; extra?: Partial<ModelInput> } = {}) {
  const results = input.results ?? sceneResults();
  const digest: ResultsDigest = await digestOf(results);
  const limit = input.limit ?? 120;
  const chosen = chooseSheetFrames({ total: results.length, limit, keys: new Map(results.map((result) => [result.index, result.key])), cuts: digest.cuts, failures: digest.failures });
  const { s3 } = await framesBucket(input.inBucket ?? results.map((result) => result.index));
  const { made, missing } = await makeThumbnails(s3, FRAMES_BUCKET, chosen);
  const fitted = fitToBudget(made);
  const jobRecord = input.record ?? record();
  const explanation = explainMissing(missing, { wanted: chosen.length, bucket: FRAMES_BUCKET, framesPrefix: PREFIX, retentionDays: 7, extractedAt: jobRecord.ExtractedAt, now: new Date('2026-11-12T12:00:00Z') });
  const model = reportModel({ record: jobRecord, summary, digest, thumbnails: fitted.kept, missing, droppedThumbnails: fitted.dropped, notes: explanation ? [explanation] : [], ...input.extra });
  return { model, html: renderReportHtml(model, library), digest, made, missing, explanation };
}

const embeddedData = (html: string) => JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!) as { chart: ReportModel['chart'] | null };

describe('the report of a run with scene cuts and failed frames', () => {
  let report: Awaited<ReturnType<typeof buildReport>>;
  beforeAll(async () => {
    report = await buildReport();
  }, 60_000);

  it('is one self-contained file: the chart library inlined, nothing fetched', () => {
    const { html } = report;
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(library.script.slice(0, 200));
    expect(html).toContain(`uPlot ${library.version}`);
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:;/);
    expect(html).not.toMatch(/\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b/i);
    // Only the three script elements' own end tags: the error messages' `</script>` is escaped.
    expect(html.match(/<\/script>/g)).toHaveLength(3);
  });

  it('has a thumbnail of every frame as a data URI, downscaled', async () => {
    const images = [...report.html.matchAll(/<img src="data:image\/jpeg;base64,([^"]+)"/g)];
    expect(images).toHaveLength(60);
    const { width, height } = await sharp(Buffer.from(images[0]![1]!, 'base64')).metadata();
    expect([width, height]).toEqual([THUMBNAIL_WIDTH, 90]);
  });

  it('marks each failed frame in the contact sheet with its error, and lists it', () => {
    const { html, digest } = report;
    expect(digest.failureCount).toBe(9);
    for (const failure of digest.failures) {
      expect(html).toMatch(new RegExp(`<figure class="thumb[^"]*\\bfailed\\b[^"]*" id="frame-${failure.index}"`));
      expect(html).toContain(`<tr data-index="${failure.index}">`);
    }
    expect(html).toContain('RangeError: no detector output for frame 3 &#60;/script&#62;&#60;b&#62;');
    expect(html).toContain('<h2>Failed frames (9)</h2>');
  });

  it('finds the two cuts, marks them and the frames before them, and lists them', () => {
    const { html, digest } = report;
    expect(digest.cuts.map((cut) => cut.index)).toEqual([20, 40]);
    expect(html).toMatch(/<figure class="thumb cut" id="frame-20"/);
    expect(html).toMatch(/<figure class="thumb before-cut" id="frame-19"/);
    expect(html).toContain('cut · 29 bits');
    expect(html).toContain('<h2>Scene cuts (2)</h2>');
    expect(html).toContain('<td>27 bits from frame 39</td>');
  });

  it("charts the processor's varying outputs with cut and failure markers; constant ones are facts", () => {
    const chart = embeddedData(report.html).chart!;
    expect(chart.series.map((series) => series.key)).toEqual(['meanLuminance', 'sharpness', 'phash.distance']);
    expect(chart.series[2]!.threshold).toBe(20);
    expect(chart.frames).toHaveLength(60);
    expect(chart.t.slice(0, 3)).toEqual([0, 0.1, 0.2]);
    expect(chart.cuts.map((cut) => cut.i)).toEqual([20, 40]);
    expect(chart.failed.map((frame) => frame.i)).toEqual([3, 10, 17, 24, 31, 38, 45, 52, 59]);
    // A failed frame has no values: a gap in each line.
    expect(chart.series[0]!.values[3]).toBeNull();
    const facts = Object.fromEntries(report.model.facts);
    expect(facts['Processor outputs']).toBe('charted: meanLuminance, sharpness, phash.distance; the same for every frame: width 320, height 180');
    expect(facts['Stage timings']).toBe('submit 70 ms · extract 2.90 s · process 5.10 s · fan-in 30 ms · total 9.00 s');
    expect(facts['Scene cuts']).toMatch(/^2 \(where the phash/);
    expect(report.model.notes).toEqual([]);
  });

  it('escapes what it shows', async () => {
    const { html } = await buildReport({ record: record({ VideoId: '<img src=x onerror=alert(1)>.mp4' }), inBucket: [] });
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;.mp4');
    expect(html).not.toContain('<img src=x');
  });
});

describe('when thumbnails cannot be made', () => {
  it('says the frames expired, with the retention and the run\u2019s age, and still draws the charts', async () => {
    const { html, model, missing, explanation } = await buildReport({ inBucket: [] });
    expect(missing.every((frame) => frame.reason === 'expired')).toBe(true);
    expect(explanation).toBe(
      `All 60 thumbnails are missing: the frames are no longer in s3://${FRAMES_BUCKET}/${PREFIX}. The frames bucket deletes frames 7 days after they are written ` +
        "(framesRetentionDays); this run's frames were written 11 days ago. The charts, cuts and failed frames come from results.jsonl and are complete; " +
        'make the report within 7 days of a run to keep its thumbnails (frames run --report does it at once).',
    );
    expect(model.notes).toContain(explanation);
    expect(html).toContain('No thumbnails: see the notes in the summary.');
    expect(html).not.toContain('data:image/jpeg');
    expect(embeddedData(html).chart!.series).toHaveLength(3);
    expect(html).toContain('<h2>Scene cuts (2)</h2>');
  });

  it('shows the frames that are left, and a placeholder for the others', async () => {
    const { html } = await buildReport({ inBucket: [0, 1, 2] });
    expect([...html.matchAll(/src="data:image\/jpeg/g)]).toHaveLength(3);
    expect(html).toContain('<div class="no-image" title="NoSuchKey">no image</div>');
    expect(html).toContain('57 of 60 thumbnails are missing');
  });

  it('explains a refused read and an unknown frames bucket', async () => {
    const stub = mockClient(S3Client);
    stub.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'AccessDenied', message: 'not allowed', $fault: 'client', $metadata: { httpStatusCode: 403 } }));
    const frames = [{ index: 0, key: keyOf(0), reasons: ['sample' as const] }];
    const denied = await makeThumbnails(new S3Client({ region: 'us-east-1' }), FRAMES_BUCKET, frames);
    expect(denied.missing.map((frame) => frame.reason)).toEqual(['denied']);
    expect(explainMissing(denied.missing, { wanted: 1, bucket: FRAMES_BUCKET, retentionDays: 7 })).toMatch(/refused \(not allowed\)\. The identity running frames needs s3:GetObject/);
    const unknown = await makeThumbnails(new S3Client({ region: 'us-east-1' }), undefined, frames);
    expect(explainMissing(unknown.missing, { wanted: 1, retentionDays: 7 })).toMatch(/does not name the frames bucket.*FRAMES_FRAMES_BUCKET/);
    stub.restore();
  });
});

describe('other runs', () => {
  it("a custom processor without phash: its numbers charted, and the report says why there are no cuts", async () => {
    const results: FrameResult[] = Array.from({ length: 30 }, (_, index) => ({
      index,
      timestampMs: index * 200,
      key: keyOf(index),
      output: { lanes: Array.from({ length: index % 3 }, () => ({})), confidence: index / 30, model: 'v2' },
    }));
    const { html, model } = await buildReport({ results, record: record({ TotalFrames: 30 }) });
    expect(embeddedData(html).chart!.series.map((series) => series.key)).toEqual(['lanes.length', 'confidence']);
    expect(model.notes).toContain("No scene cuts: the processor's outputs have no `phash` (the default processor's perceptual hash), and cuts are found from it.");
    expect(Object.fromEntries(model.facts)['Scene cuts']).toBe('not found: the outputs have no phash');
  });

  it('a FAILED run without results: its summary and error, no charts', () => {
    const failed = record({ Status: 'FAILED', ResultsKey: undefined, ResultsBucket: undefined, CompletedAt: undefined, TotalFrames: undefined, Error: { Code: 'MEDIACONVERT_ERROR', Message: 'Unable to open input file' } });
    const model = reportModel({ record: failed, noResults: 'This run FAILED before it had results (MEDIACONVERT_ERROR), so the report has its summary and error only.', thumbnails: [], missing: [], droppedThumbnails: 0, notes: [] });
    const html = renderReportHtml(model, library);
    expect(html).toContain('<span class="status status-failed">FAILED</span>');
    expect(html).toContain('<strong>MEDIACONVERT_ERROR</strong>: Unable to open input file');
    expect(html).toContain('This run FAILED before it had results');
    expect(html).toContain('No charts: this run has no results.');
    expect(embeddedData(html).chart).toBeNull();
    expect(Object.fromEntries(model.facts)['Stage timings']).toBe('until it failed 9.00 s');
  });

  it("a KVS clip: the axis is the producer time, in UTC", async () => {
    const start = Date.parse('2026-11-21T08:00:30Z');
    const results = sceneResults(10).map((result) => ({ ...result, producerTimestampMs: start + result.timestampMs }));
    const { html, model } = await buildReport({ results, record: record({ TotalFrames: 10, SourceStream: 'front-camera', ClipStart: '2026-11-21T08:00:30Z', ClipEnd: '2026-11-21T08:01:15Z' }) });
    const chart = embeddedData(html).chart!;
    expect(chart.absoluteTime).toBe(true);
    expect(chart.t[1]).toBeCloseTo(start / 1000 + 0.1, 3);
    expect(model.failures[0]!.time).toBe('2026-11-21 08:00:30.300 UTC');
    expect(formatFrameTime(3_723_004, false)).toBe('1:02:03.004');
  });
});

describe('staying small', () => {
  it('chooses at most the limit of thumbnails: samples over the run, both sides of cuts, failed frames', () => {
    const total = 100_000;
    const samples = sampleIndices(total, 120);
    expect(samples.size).toBe(60);
    const cut = (index: number) => ({ index, timeMs: index, key: keyOf(index), distance: 30, before: { index: index - 1, key: keyOf(index - 1) } });
    const cuts = Array.from({ length: 500 }, (_, n) => cut(n * 200 + 7));
    const failures = Array.from({ length: 300 }, (_, n) => ({ index: n * 333 + 5, timeMs: 0, key: keyOf(n * 333 + 5), error: { name: 'E', message: 'm' } }));
    const chosen = chooseSheetFrames({ total, limit: 120, keys: new Map([...samples].map((index) => [index, keyOf(index)])), cuts, failures });
    expect(chosen.length).toBeLessThanOrEqual(120);
    const count = (reason: string) => chosen.filter((frame) => frame.reasons.includes(reason as never)).length;
    expect(count('sample')).toBe(60);
    expect(count('cut')).toBe(15);
    expect(count('before-cut')).toBe(15);
    expect(count('failed')).toBeGreaterThanOrEqual(29);
    // Cuts come from the whole run, not its first minutes.
    expect(chosen.filter((frame) => frame.reasons.includes('cut')).at(-1)!.index).toBe(cuts.at(-1)!.index);
  });

  it('keeps the thumbnails under the byte budget: cuts and failed frames first, samples thinned evenly', () => {
    const thumbnail = (index: number, reason: 'sample' | 'cut' | 'failed', bytes: number) => ({ index, key: keyOf(index), reasons: [reason], dataUri: '', bytes }) as Thumbnail;
    const thumbnails = [thumbnail(5, 'cut', 1000), thumbnail(6, 'failed', 1000), ...Array.from({ length: 100 }, (_, n) => thumbnail(n * 10, 'sample', 1000))];
    const { kept, dropped } = fitToBudget(thumbnails, 50_500);
    expect(kept.reduce((sum, entry) => sum + entry.bytes, 0)).toBeLessThanOrEqual(50_500);
    expect(dropped).toBe(thumbnails.length - kept.length);
    expect(kept.map((entry) => entry.index)).toEqual(expect.arrayContaining([5, 6, 0, 990]));
    expect(kept.map((entry) => entry.index)).toEqual([...kept.map((entry) => entry.index)].sort((a, b) => a - b));
    expect(THUMBNAIL_BYTES_BUDGET).toBeLessThanOrEqual(4 * 1024 * 1024);
  });

  it(`draws at most ${CHART_POINT_LIMIT.toLocaleString('en-US')} points of a 100,000-frame run, and the file stays small`, async () => {
    const results = sceneResults(100_000);
    const { html, model } = await buildReport({ results, record: record({ TotalFrames: 100_000 }), inBucket: [] });
    const chart = embeddedData(html).chart!;
    expect(chart.frames.length).toBeLessThanOrEqual(CHART_POINT_LIMIT);
    expect(chart.total).toBe(100_000);
    expect(model.notes.some((note) => note.startsWith(`The charts draw ${chart.frames.length.toLocaleString('en-US')} of 100,000 frames`))).toBe(true);
    // Cuts are kept first; failed frames (100,000 / 7 of them) up to the rest of half the points.
    const drawn = new Set(chart.frames);
    expect(chart.cuts.every((cut) => drawn.has(cut.i))).toBe(true);
    expect(chart.failed.filter((frame) => drawn.has(frame.i)).length).toBeGreaterThan(CHART_POINT_LIMIT / 2 - 10);
    expect(Buffer.byteLength(html)).toBeLessThan(3 * 1024 * 1024);
  }, 120_000);
});

describe('finding the frames bucket and printing the command', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'report-target-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it("reads a deployed stack's frames_bucket output, or $FRAMES_FRAMES_BUCKET", () => {
    const outputs = join(directory, 'out.json');
    writeFileSync(outputs, JSON.stringify({ 'frames-pipeline': { pipeline_name: 'dashcam', frames_bucket: 'dashcam-frames-1' } }));
    const deployed = { kind: 'deployed' as const, source: outputs, pipelineName: 'dashcam', ingressBucket: 'i', egressBucket: 'e', jobTable: 't' };
    expect(framesBucketOf(deployed, {})).toBe('dashcam-frames-1');
    expect(framesBucketOf({ ...deployed, source: 'environment variables' }, { [FRAMES_BUCKET_ENV]: 'named' })).toBe('named');
    expect(framesBucketOf({ ...deployed, source: 'environment variables' }, {})).toBeUndefined();
  });

  it('prints a frames report command a person can paste', () => {
    expect(framesCommandLine('report', "trips/it's.mp4", { stackOutputs: 'out.json', dataDirectory: '/d' })).toBe("npx frames report 'trips/it'\\''s.mp4' --stack-outputs out.json");
    expect(framesCommandLine('report', 'clip.mp4', { dataDirectory: '/data' })).toBe('npx frames report clip.mp4 --data-dir /data');
  });
});
