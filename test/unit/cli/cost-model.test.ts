import { ASSUMPTIONS, estimateRun, frameRateRatio, framesFor, pricingAssumptions, rateClass, wallTimeAssumptions } from '../../../cli/estimate/cost-model';
import { loadPrices, pricesFor } from '../../../cli/estimate/price-table';
import type { RegionPrices } from '../../../cli/estimate/price-table';
import { samplePoints } from '../../../cli/estimate/sample-frames';

/** Prices written out here, so the hand computation below does not move when the table is updated. */
const PRICES: RegionPrices = {
  mediaconvert: {
    minimumBilledSeconds: 10,
    perOutputMinute: {
      SD: { upTo30fps: 0.0075, upTo60fps: 0.015, above60fps: 0.03 },
      HD: { upTo30fps: 0.015, upTo60fps: 0.03, above60fps: 0.06 },
      UHD: { upTo30fps: 0.03, upTo60fps: 0.06, above60fps: 0.12 },
    },
    professionalPerOutputMinute: {
      SD: { upTo30fps: 0.012, upTo60fps: 0.024, above60fps: 0.048 },
      HD: { upTo30fps: 0.024, upTo60fps: 0.048, above60fps: 0.096 },
      UHD: { upTo30fps: 0.048, upTo60fps: 0.096, above60fps: 0.192 },
    },
  },
  s3: { storagePerGbMonth: 0.023, writeRequestsPerThousand: 0.005, readRequestsPerThousand: 0.0004 },
  lambda: { requestsPerMillion: 0.2, perGbSecond: 0.0000133334 },
  sqs: { requestsPerMillion: 0.4 },
  dynamodb: { writeRequestUnitsPerMillion: 0.625, readRequestUnitsPerMillion: 0.125 },
  eventbridge: { customEventsPerMillion: 1 },
};

const SETTINGS = {
  fps: { numerator: 1, denominator: 1 },
  maxCaptures: 1_000_000,
  framesPerMessage: 100,
  messagesPerInvocation: 1,
  maxConcurrency: 50,
  workerMemoryMb: 1536,
  eventFunctionMemoryMb: 512,
  framesRetentionDays: 7,
  // The stack config's extraction defaults (pipeline/stack-config.ts).
  maxSegments: 10,
  minSegmentSeconds: 30,
};

/** The same, with extraction.maxSegments 1: never split, one MediaConvert job a video. */
const ONE_JOB = { ...SETTINGS, maxSegments: 1 };

describe('the estimate, against a case computed by hand (one job)', () => {
  // A 10-minute 1080p30 dash-cam file of 100 MiB at 1 fps; 200 kB JPEGs, a 50 ms processor, 200-byte result lines.
  const video = { durationMs: 600_000, width: 1920, height: 1080, frameRate: 30, bytes: 100 * 1024 * 1024 };
  const frame = { jpegBytes: 200_000, processorMs: 50, resultLineBytes: 200 };
  const estimate = estimateRun(video, ONE_JOB, frame, PRICES);

  it('is one job, as the settings ask', () => {
    expect(estimate.segments).toEqual(expect.objectContaining({ plan: 'single', grid: 'assumed', waves: 1 }));
    expect(estimate.segments.reason).toBe('extraction.maxSegments is 1');
    expect(estimate.wallTime.totalSeconds).toBe(estimate.wallTime.oneJob.totalSeconds);
  });

  it('frames, batches and invocations', () => {
    expect(estimate.frames).toBe(600); // ceil(600 s × 1 fps)
    expect(estimate.batches).toBe(6); // 600 / 100
    expect(estimate.workerInvocations).toBe(6); // one message an invocation
  });

  it('MediaConvert: 10 minutes each of an HD ≤30 fps frame capture and an SD ≤30 fps proxy, from the cheapest reading to the dearest', () => {
    expect(estimate.mediaConvert.readings).toEqual({
      low: { frameCaptureBilled: false, tier: 'Basic' },
      high: { frameCaptureBilled: true, tier: 'Professional' },
    });
    // Low: the frame capture unbilled, the proxy at Basic. High: both billed, at Professional.
    expect(estimate.mediaConvert.outputs).toEqual([
      { output: 'frame capture', rateClass: 'HD ≤30 fps', billedMinutes: 10, usd: { low: 0, high: 10 * 0.024 } },
      { output: 'proxy', rateClass: 'SD ≤30 fps', billedMinutes: 10, usd: { low: 10 * 0.0075, high: 10 * 0.012 } },
    ]);
    expect(estimate.mediaConvert.outputMinutes).toEqual({ low: 10, high: 20 });
    expect(estimate.mediaConvert.usd.low).toBeCloseTo(0.075, 10);
    expect(estimate.mediaConvert.usd.high).toBeCloseTo(0.24 + 0.12, 10);
  });

  it('S3 requests and storage', () => {
    // Writes: upload in 13 parts of 8 MiB + create + complete = 15; 600 frames; proxy 1; listing 1;
    // batch results 6; results.jsonl (120,000 bytes, one PUT) 1; summary 1.
    expect(estimate.s3.writeRequests).toBe(15 + 600 + 1 + 1 + 6 + 1 + 1);
    // Reads: ingress HEAD 1; input reads 13 (one per 8 MiB); 600 frames; 6 batch results; 2 downloads.
    expect(estimate.s3.readRequests).toBe(1 + 13 + 600 + 6 + 2);
    expect(estimate.s3.requestsUsd).toBeCloseTo((625 / 1000) * 0.005 + (622 / 1000) * 0.0004, 12);
    // Frames 600 × 200 kB + proxy 50,000 B/s × 600 s + batch results 120,000 B for 7 of 30 days;
    // the 100 MiB video and 120,000 B of results for the month.
    const gbMonths = ((600 * 200_000 + 30_000_000 + 120_000) * (7 / 30) + (104_857_600 + 120_000)) / 2 ** 30;
    expect(estimate.s3.storageGbMonths).toBeCloseTo(gbMonths, 12);
    expect(estimate.s3.storageUsd).toBeCloseTo(gbMonths * 0.023, 12);
  });

  it('wall time: 615 s of extraction, then one wave of 6 workers', () => {
    expect(estimate.wallTime.extractionSeconds).toBe(615); // 15 s start + 600 s at real time
    expect(estimate.wallTime.fanOutSeconds).toBeCloseTo(0.1 + 0.03, 12); // 1 listing page, 1 send
    expect(estimate.wallTime.workers).toBe(6);
    expect(estimate.wallTime.processingSeconds).toBeCloseTo(100 * 0.05 + 0.3, 12); // one batch each
    expect(estimate.wallTime.fanInSeconds).toBeCloseTo(6 * 0.02 + 120_000 / (50 * 1024 * 1024), 12);
    expect(estimate.wallTime.totalSeconds).toBeCloseTo(615 + 0.13 + 5.3 + 0.12 + 120_000 / (50 * 1024 * 1024), 9);
  });

  it('Lambda: 65 event invocations (ingress, 3 state events, 61 status updates) and 6 workers', () => {
    expect(estimate.lambda.requests).toBe(1 + 3 + 61 + 6); // floor(615 s / 10 s) = 61 status updates
    const fanIn = 6 * 0.02 + 120_000 / (50 * 1024 * 1024);
    const gbSeconds = 0.5 * (65 * 0.5 + 0.13) + 1.5 * (600 * 0.05 + 6 * 0.3 + fanIn);
    expect(estimate.lambda.gbSeconds).toBeCloseTo(gbSeconds, 9);
    expect(estimate.lambda.usd).toBeCloseTo((71 / 1e6) * 0.2 + gbSeconds * 0.0000133334, 12);
  });

  it('SQS and DynamoDB', () => {
    expect(estimate.sqs.requests).toBe(1 + 2 * 6); // one SendMessageBatch; a receive and a delete per invocation
    // The record stays under 1 KB (1,000 + 3 × 6 bytes): 1 unit a write. Claim, submission, 61 status
    // updates, start of processing, fanned-out mark: 65; 6 batch counts; fan-in lease and completion 2;
    // the status index 1 + 2 × 3.
    expect(estimate.dynamodb.writeUnits).toBe(65 + 6 + 2 + 7);
    expect(estimate.dynamodb.readUnits).toBe(6);
    expect(estimate.dynamodb.usd).toBeCloseTo((80 / 1e6) * 0.625 + (6 / 1e6) * 0.125, 15);
  });

  it('the total is the sum of the parts, a range as MediaConvert is', () => {
    const others = [estimate.s3.requestsUsd, estimate.s3.storageUsd, estimate.lambda.usd, estimate.sqs.usd, estimate.dynamodb.usd].reduce((a, b) => a + b, 0);
    expect(estimate.totalUsd.low).toBeCloseTo(estimate.mediaConvert.usd.low + others, 15);
    expect(estimate.totalUsd.high).toBeCloseTo(estimate.mediaConvert.usd.high + others, 15);
    // 0.0033738 + 0.0029990 + 0.0008702 + 0.0000052 + 0.0000508 = 0.0072990 besides MediaConvert's 0.075 to 0.36
    expect(estimate.totalUsd.low).toBeCloseTo(0.082299, 6);
    expect(estimate.totalUsd.high).toBeCloseTo(0.367299, 6);
  });

  it('names its pricing assumptions, and what each end of the range takes', () => {
    expect(pricingAssumptions(PRICES).map(({ name, status, low, high }) => ({ name, status, low, high }))).toEqual([
      { name: 'frameCaptureBilled', status: 'unverified', low: false, high: true },
      { name: 'mediaConvertTier', status: 'unverified', low: 'Basic', high: 'Professional' },
      { name: 'normalizedMinutes', status: 'notModelled', low: undefined, high: undefined },
      { name: 'monthlyVolumeTiers', status: 'notModelled', low: undefined, high: undefined },
    ]);
  });
});

describe('a price table of your own settles what it knows', () => {
  const video = { durationMs: 600_000, width: 1920, height: 1080, frameRate: 30, bytes: 100 * 1024 * 1024 };
  const frame = { jpegBytes: 200_000, processorMs: 50, resultLineBytes: 200 };
  /** PRICES with one MediaConvert tier (Basic), plus what the test adds. */
  const withMediaConvert = (mediaconvert: Partial<RegionPrices['mediaconvert']>): RegionPrices => ({
    ...PRICES,
    mediaconvert: { minimumBilledSeconds: 10, perOutputMinute: PRICES.mediaconvert.perOutputMinute, ...mediaconvert },
  });

  it('one tier: its rates at both ends, so only the frame capture is open (10 min × 0.0075, then + 10 min × 0.015)', () => {
    const oneTier = withMediaConvert({});
    const estimate = estimateRun(video, ONE_JOB, frame, oneTier);
    expect(estimate.mediaConvert.readings.high).toEqual({ frameCaptureBilled: true, tier: 'Basic' });
    expect(estimate.mediaConvert.usd.low).toBeCloseTo(0.075, 10);
    expect(estimate.mediaConvert.usd.high).toBeCloseTo(0.225, 10);
    expect(pricingAssumptions(oneTier)[1]).toEqual(expect.objectContaining({ name: 'mediaConvertTier', status: 'priceTable', low: 'Basic', high: 'Basic' }));
  });

  it('frameCaptureBilled: billed at both ends, so only the tier is open; one tier and not billed: no range at all', () => {
    const billed = estimateRun(video, ONE_JOB, frame, withMediaConvert({ frameCaptureBilled: true, professionalPerOutputMinute: PRICES.mediaconvert.professionalPerOutputMinute }));
    expect(billed.mediaConvert.usd.low).toBeCloseTo(0.225, 10); // 10 × 0.015 + 10 × 0.0075
    expect(billed.mediaConvert.usd.high).toBeCloseTo(0.36, 10); // 10 × 0.024 + 10 × 0.012
    expect(billed.mediaConvert.outputMinutes).toEqual({ low: 20, high: 20 });

    const settled = withMediaConvert({ frameCaptureBilled: false });
    const unbilled = estimateRun(video, ONE_JOB, frame, settled);
    expect(unbilled.mediaConvert.usd).toEqual({ low: 10 * 0.0075, high: 10 * 0.0075 });
    expect(unbilled.totalUsd.low).toBe(unbilled.totalUsd.high);
    expect(pricingAssumptions(settled)[0]).toEqual(expect.objectContaining({ name: 'frameCaptureBilled', status: 'priceTable', low: false, high: false }));
  });
});

describe("the MediaConvert range of the README's examples", () => {
  const frame = { jpegBytes: 100_000, processorMs: 10, resultLineBytes: 180 };
  const at30 = { ...SETTINGS, fps: { numerator: 30, denominator: 1 } };

  it('60 s of 1280x720 at 30 fps, captured at 30 fps: $0.0075 (the SD proxy at Basic) to $0.036 (HD and SD at Professional)', () => {
    const estimate = estimateRun({ durationMs: 60_000, width: 1280, height: 720, frameRate: 30, bytes: 30 * 2 ** 20 }, at30, frame, PRICES);
    expect(estimate.frames).toBe(1800);
    expect(estimate.mediaConvert.usd.low).toBeCloseTo(0.0075, 12);
    expect(estimate.mediaConvert.usd.high).toBeCloseTo(0.024 + 0.012, 12);
  });

  it('the 65,010-frame GoPro case, 36 min 7 s of 1080p30 at 30 fps: 2,167/60 min × 0.0075 to × (0.024 + 0.012) as one job', () => {
    const estimate = estimateRun({ durationMs: 2_167_000, width: 1920, height: 1080, frameRate: 30, bytes: 4 * 2 ** 30 }, at30, frame, PRICES);
    expect(estimate.frames).toBe(65_010);
    expect(estimate.mediaConvert.oneJob.usd.low).toBeCloseTo(0.270875, 9);
    expect(estimate.mediaConvert.oneJob.usd.high).toBeCloseTo(1.3002, 9);
    // In 10 jobs of 216.7 s, each output is billed 217 s a job: 2,170 s, 3 s more than one job's 2,167.
    expect(estimate.segments.jobs).toHaveLength(10);
    expect(estimate.mediaConvert.oneJob.billedMinutes).toBeCloseTo(2167 / 60, 12);
    expect(estimate.mediaConvert.outputs.map((o) => o.billedMinutes * 60)).toEqual([expect.closeTo(2170, 9), expect.closeTo(2170, 9)]);
    expect(estimate.mediaConvert.usd.low).toBeCloseTo((2170 / 60) * 0.0075, 9);
    expect(estimate.mediaConvert.usd.high).toBeCloseTo((2170 / 60) * 0.036, 9);
  });
});

describe('the estimate at scale: 65,010 frames (36 min 7 s at 30 fps)', () => {
  const estimate = estimateRun(
    { durationMs: 2_167_000, width: 1920, height: 1080, frameRate: 30, bytes: 4 * 2 ** 30 },
    { ...SETTINGS, fps: { numerator: 30, denominator: 1 } },
    { jpegBytes: 150_000, processorMs: 40, resultLineBytes: 180 },
    PRICES,
  );

  it('grows the job record a few bytes a batch, so later batch counts cost 2, then 3 write units', () => {
    expect(estimate.frames).toBe(65_010);
    expect(estimate.batches).toBe(651);
    // The record is 1,000 + 3b bytes after batch b: batches 1..8 stay within 1 KB (1 unit),
    // 9..349 within 2 KB (2 units), 350..651 take 3; the lease and the completion write the full
    // record (2,953 bytes): 3 each. Before the batches: 2 + the 10 jobs' status updates, floor((15 +
    // 216.7 s) / 10) = 23 each, + 2 (one job: floor(2,182 s / 10) = 218).
    expect(estimate.segments.jobs).toHaveLength(10);
    expect(estimate.dynamodb.writeUnits).toBe(2 + 230 + 2 + (8 * 1 + 341 * 2 + 302 * 3) + 2 * 3 + 7);
  });

  it('runs the 651 invocations in 14 waves of the 50 workers', () => {
    expect(estimate.wallTime.workers).toBe(50);
    expect(estimate.wallTime.processingSeconds).toBeCloseTo(14 * (100 * 0.04 + 0.3), 9);
  });

  it('is a 60 fps UHD proxy and frame capture class where the source is', () => {
    expect(rateClass(2160, 60)).toEqual({ resolution: 'UHD', frameRate: 'upTo60fps' });
    expect(rateClass(719, 30)).toEqual({ resolution: 'SD', frameRate: 'upTo30fps' });
    expect(rateClass(720, 120)).toEqual({ resolution: 'HD', frameRate: 'above60fps' });
  });
});

describe("segmented extraction: the seed's 65,000-frame GoPro case, 36 min 7 s of 1080p at 30 fps", () => {
  const durationMs = (65_000 / 30) * 1000;
  const header = { kind: 'header' as const, sourceFrames: 65_000, constantFrameRate: true, sourceRate: { numerator: 30, denominator: 1 } };
  const gopro = { durationMs, width: 1920, height: 1080, frameRate: 30, bytes: 4 * 2 ** 30, frameGrid: header };
  const frame = { jpegBytes: 150_000, processorMs: 16, resultLineBytes: 180 };
  const at = (fps: number, settings = SETTINGS, video: Parameters<typeof estimateRun>[0] = gopro) =>
    estimateRun(video, { ...settings, fps: { numerator: fps, denominator: 1 } }, frame, PRICES);
  /** A worker invocation: 100 frames × 16 ms + 0.3 s. */
  const round = 100 * 0.016 + 0.3;

  it.each([
    [30, 65_000],
    [5, 10_834],
  ])('at %i fps: planSegments cuts 10 segments (maxSegments 10), in one wave of the queue, capturing the %i frames of one job', (fps, frames) => {
    const estimate = at(fps);
    expect(estimate.frames).toBe(frames);
    expect(estimate.segments).toEqual(expect.objectContaining({ grid: 'header', plan: 'segmented', captureStride: 1, waves: 1 }));
    expect(estimate.segments.jobs).toHaveLength(10);
    expect(estimate.segments.jobs.reduce((sum, job) => sum + job.captures, 0)).toBe(frames);
    expect(estimate.segments.jobs.reduce((sum, job) => sum + job.seconds, 0)).toBeCloseTo(durationMs / 1000, 9);
    // Every job starts at once and takes 15 s + about a tenth of the video (216.7 s).
    for (const job of estimate.segments.jobs) expect(job.completesAtSeconds).toBeCloseTo(15 + 216.7, 0);
    expect(estimate.wallTime.jobs).toBe(10);
    expect(estimate.wallTime.oneJob.extractionSeconds).toBeCloseTo(15 + durationMs / 1000, 9);
    // Well below one job: the extraction is split ten ways, the rest of the run is the same.
    expect(estimate.wallTime.totalSeconds).toBeLessThan(estimate.wallTime.oneJob.totalSeconds / 5);
    expect(estimate.wallTime.oneJob.totalSeconds - estimate.wallTime.totalSeconds).toBeGreaterThan(1900);
    const { extractionSeconds, fanOutSeconds, processingSeconds, fanInSeconds, totalSeconds } = estimate.wallTime;
    expect(totalSeconds).toBeCloseTo(extractionSeconds + fanOutSeconds + processingSeconds + fanInSeconds, 9);
  });

  it('at 30 fps, by hand: one job ~36 min 22 s of extraction, then the rest; 10 jobs are done at 3 min 52 s, then the same processing', () => {
    const estimate = at(30);
    const fanIn = 650 * 0.02 + (65_000 * 180) / (50 * 2 ** 20);
    // One job: 15 s + 2,166.7 s, listing 65 pages and 65 sends, 13 rounds of the 50 workers, the fan-in.
    expect(estimate.wallTime.oneJob).toEqual({
      extractionSeconds: expect.closeTo(15 + 65_000 / 30, 9),
      fanOutSeconds: expect.closeTo(65 * 0.1 + 65 * 0.03, 9),
      processingSeconds: expect.closeTo(13 * round, 9),
      fanInSeconds: expect.closeTo(fanIn, 9),
      workers: 50,
      totalSeconds: expect.closeTo(15 + 65_000 / 30 + 8.45 + 13 * round + fanIn, 9),
    });
    // Ten segments of 6,500 captures (216.7 s) complete together, so all 650 invocations are still
    // queued after the last fan-out (7 pages and 7 sends): the same 13 rounds.
    expect(estimate.segments.jobs.map((job) => job.captures)).toEqual(new Array(10).fill(6500));
    expect(estimate.wallTime.extractionSeconds).toBeCloseTo(15 + 6500 / 30, 9);
    expect(estimate.wallTime.fanOutSeconds).toBeCloseTo(7 * 0.1 + 7 * 0.03, 9);
    expect(estimate.wallTime.processingSeconds).toBeCloseTo(13 * round, 9);
    expect(estimate.wallTime.totalSeconds).toBeCloseTo(15 + 6500 / 30 + 0.91 + 13 * round + fanIn, 9);
  });

  it('at 5 fps: the last job is done at 15 s + 1,084 captures of 0.2 s, then 3 rounds for the 109 invocations', () => {
    const estimate = at(5);
    expect(Math.max(...estimate.segments.jobs.map((job) => job.captures))).toBe(1084);
    expect(estimate.wallTime.extractionSeconds).toBeCloseTo(15 + 1084 / 5, 9);
    expect(estimate.wallTime.processingSeconds).toBeCloseTo(3 * round, 9);
    expect(estimate.wallTime.oneJob.processingSeconds).toBeCloseTo(3 * round, 9);
  });

  it('more segments than the queue runs at once: waves of 20; the first wave is processed while the second extracts', () => {
    const estimate = at(30, { ...SETTINGS, maxSegments: 30 });
    expect(estimate.segments.jobs).toHaveLength(30);
    expect(estimate.segments.waves).toBe(2);
    // 30 segments of ~72.2 s: the second wave starts as the first completes.
    expect(estimate.wallTime.extractionSeconds).toBeCloseTo(2 * (15 + 65_000 / 30 / 30), 0);
    // The first wave's 433 invocations are done before the second completes; its 217 are left: 5 rounds.
    expect(estimate.wallTime.processingSeconds).toBeCloseTo(5 * round, 9);
  });

  it('costs: the same output minutes but for each job rounding up to a whole second, and says so', () => {
    const estimate = at(30);
    // Ten jobs of 216.67 s bill 217 s each: 2,170 s an output, against 2,167 s for one job.
    expect(estimate.mediaConvert.oneJob.billedMinutes * 60).toBeCloseTo(2167, 9);
    expect(estimate.mediaConvert.outputs[0].billedMinutes * 60).toBeCloseTo(2170, 9);
    const statements = wallTimeAssumptions(estimate, { ...SETTINGS, fps: { numerator: 30, denominator: 1 } }, PRICES);
    expect(statements.map((assumption) => assumption.name)).toEqual([
      'frameGrid',
      'segments',
      'mediaConvertQueueConcurrency',
      'mediaConvertSpeed',
      'overlap',
      'perJobBilling',
    ]);
    expect(statements[2].statement).toMatch(/at most 20 jobs at once \(its default for an on-demand queue.*: 10 jobs run in 1 wave$/);
    expect(statements[5].statement).toMatch(/here 3 s more an output than one job, \$0\.0004 to \$0\.0018$/);
  });

  it('without the header, a constant frame rate is assumed, said, and gives the same plan', () => {
    const { frameGrid: _, ...probed } = gopro;
    const estimate = at(30, SETTINGS, probed);
    expect(estimate.segments.grid).toBe('assumed');
    expect(estimate.segments.jobs.map((job) => job.captures)).toEqual(at(30).segments.jobs.map((job) => job.captures));
    expect(wallTimeAssumptions(estimate, SETTINGS, PRICES)[0].statement).toMatch(/a constant 30 fps is assumed/);
  });

  it.each([
    ['a short video (50 s, under 2 × minSegmentSeconds)', { ...gopro, durationMs: 50_000, frameGrid: { ...header, sourceFrames: 1500 } }, /the video is short/],
    ['a variable frame rate (the header probe says so)', { ...gopro, frameGrid: { kind: 'header' as const, sourceFrames: 65_000, constantFrameRate: false } }, /frame rate varies/],
    ['a file with no MP4/MOV header (MPEG-TS, Matroska)', { ...gopro, frameGrid: { kind: 'none' as const, reason: 'not an MP4/MOV file' } }, /not an MP4\/MOV file/],
  ])('%s is one job, and both figures are the same', (_, video, reason) => {
    const estimate = at(30, SETTINGS, video);
    expect(estimate.segments.plan).toBe('single');
    expect(estimate.segments.reason).toMatch(reason);
    expect(estimate.segments.jobs).toHaveLength(1);
    expect(estimate.wallTime.jobs).toBe(1);
    expect(estimate.wallTime).toEqual({ ...estimate.wallTime.oneJob, jobs: 1, oneJob: estimate.wallTime.oneJob });
    expect(estimate.mediaConvert.usd).toEqual(estimate.mediaConvert.oneJob.usd);
  });

  it("reads ffmpeg's rates as the ratios they stand for", () => {
    expect(frameRateRatio(30)).toEqual({ numerator: 30, denominator: 1 });
    expect(frameRateRatio(29.97)).toEqual({ numerator: 30_000, denominator: 1001 });
    expect(frameRateRatio(23.98)).toEqual({ numerator: 24_000, denominator: 1001 });
    expect(frameRateRatio(59.94)).toEqual({ numerator: 60_000, denominator: 1001 });
    expect(frameRateRatio(12.5)).toEqual({ numerator: 12_500, denominator: 1000 });
  });
});

describe('frames MediaConvert captures', () => {
  it('is ceil(duration × rate), capped by maxCaptures', () => {
    expect(framesFor(4_000, { numerator: 2, denominator: 1 }, 1_000)).toBe(8);
    expect(framesFor(45_200, { numerator: 2, denominator: 1 }, 1_000)).toBe(91); // the KVS clip case
    expect(framesFor(10_000, { numerator: 30_000, denominator: 1001 }, 1_000)).toBe(300); // 299.7
    expect(framesFor(600_000, { numerator: 1, denominator: 1 }, 50)).toBe(50);
    expect(framesFor(500, { numerator: 1, denominator: 3 }, 1_000)).toBe(1); // the first frame always
  });

  it('over a duration in time-base ticks: one frame of a 30 fps stream (512/15360 s) is 1 capture at 30 fps, 2 at 60, 1 at 29.97', () => {
    const oneFrameMs = (512 * 1000) / 15360; // 33.333…, and × 60 / 1000 comes out a hair over 2
    expect(framesFor(oneFrameMs, { numerator: 30, denominator: 1 }, 1_000)).toBe(1);
    expect(framesFor(oneFrameMs, { numerator: 60, denominator: 1 }, 1_000)).toBe(2);
    expect(framesFor(oneFrameMs, { numerator: 30_000, denominator: 1001 }, 1_000)).toBe(1);
    expect(framesFor(5_000, { numerator: 7, denominator: 3 }, 1_000)).toBe(12); // 11.67
  });

  it('a 10-second minimum per output: a 4 s video bills 10 s twice', () => {
    const short = estimateRun({ durationMs: 4_000, width: 320, height: 180, frameRate: 30, bytes: 10_000 }, SETTINGS, { jpegBytes: 5_000, processorMs: 5, resultLineBytes: 150 }, PRICES);
    expect(short.mediaConvert.outputs.map((o) => o.billedMinutes)).toEqual([10 / 60, 10 / 60]);
  });
});

describe('the price table in the repository', () => {
  it('is dated, valid, and has the regions it names; an unknown region says which it has', () => {
    const table = loadPrices();
    expect(table.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(pricesFor(table, 'us-east-1', 'the table')).toEqual(expect.objectContaining({ s3: expect.any(Object) }));
    expect(() => pricesFor(table, 'mars-north-1', 'the table')).toThrow(/no prices for mars-north-1 \(it has us-east-1, us-west-2\)/);
  });

  it('prices both MediaConvert tiers in every region, Professional above Basic in every class', () => {
    for (const prices of Object.values(loadPrices().regions)) {
      const { perOutputMinute: basic, professionalPerOutputMinute: professional } = prices.mediaconvert;
      for (const resolution of ['SD', 'HD', 'UHD'] as const) {
        for (const rate of ['upTo30fps', 'upTo60fps', 'above60fps'] as const) {
          expect(professional?.[resolution][rate]).toBeGreaterThan(basic[resolution][rate]);
        }
      }
    }
  });

  it('names every problem in a table a person wrote', () => {
    const { writeFileSync, mkdtempSync } = jest.requireActual('node:fs') as typeof import('node:fs');
    const path = `${mkdtempSync(`${require('node:os').tmpdir()}/prices-`)}/p.json`;
    writeFileSync(path, JSON.stringify({ asOf: 'yesterday', currency: 'USD', regions: { 'us-east-1': { s3: {} } } }));
    expect(() => loadPrices(path)).toThrow(/asOf: must be a date, YYYY-MM-DD.*regions\.us-east-1\.mediaconvert/);
  });
});

test('the assumptions are the ones the README lists', () => {
  expect(ASSUMPTIONS.mediaConvertRealTimeFactor).toBe(1);
  expect(ASSUMPTIONS.mediaConvertStartSeconds).toBe(15);
  // MediaConvert's default for an on-demand queue: jobs at once.
  expect(ASSUMPTIONS.mediaConvertQueueConcurrency).toBe(20);
  // The job template asks MediaConvert for a STATUS_UPDATE every 10 s (StatusUpdateInterval SECONDS_10).
  expect(ASSUMPTIONS.statusUpdateSeconds).toBe(10);
});

describe('sample frames', () => {
  it('are at most 5 source frames spread over the video stream, each at its start rounded down to the ms', () => {
    expect(samplePoints({ durationMs: 5_000, frames: 150 })).toEqual([500, 1500, 2500, 3500, 4500]);
    expect(samplePoints({ durationMs: 2_167_000, frames: 65_010 }).every((at) => at < 2_167_000 - 1000 / 30)).toBe(true);
  });

  it('are fewer when the video has fewer frames: each one of three, the one of a one-frame video', () => {
    expect(samplePoints({ durationMs: 100, frames: 3 })).toEqual([0, 33, 66]);
    expect(samplePoints({ durationMs: (512 * 1000) / 15360, frames: 1 })).toEqual([0]);
  });
});
