import { ASSUMPTIONS, estimateRun, framesFor, pricingAssumptions, rateClass } from '../../../cli/estimate/cost-model';
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
};

describe('the estimate, against a case computed by hand', () => {
  // A 10-minute 1080p30 dash-cam file of 100 MiB at 1 fps; 200 kB JPEGs, a 50 ms processor, 200-byte result lines.
  const video = { durationMs: 600_000, width: 1920, height: 1080, frameRate: 30, bytes: 100 * 1024 * 1024 };
  const frame = { jpegBytes: 200_000, processorMs: 50, resultLineBytes: 200 };
  const estimate = estimateRun(video, SETTINGS, frame, PRICES);

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
    const estimate = estimateRun(video, SETTINGS, frame, oneTier);
    expect(estimate.mediaConvert.readings.high).toEqual({ frameCaptureBilled: true, tier: 'Basic' });
    expect(estimate.mediaConvert.usd.low).toBeCloseTo(0.075, 10);
    expect(estimate.mediaConvert.usd.high).toBeCloseTo(0.225, 10);
    expect(pricingAssumptions(oneTier)[1]).toEqual(expect.objectContaining({ name: 'mediaConvertTier', status: 'priceTable', low: 'Basic', high: 'Basic' }));
  });

  it('frameCaptureBilled: billed at both ends, so only the tier is open; one tier and not billed: no range at all', () => {
    const billed = estimateRun(video, SETTINGS, frame, withMediaConvert({ frameCaptureBilled: true, professionalPerOutputMinute: PRICES.mediaconvert.professionalPerOutputMinute }));
    expect(billed.mediaConvert.usd.low).toBeCloseTo(0.225, 10); // 10 × 0.015 + 10 × 0.0075
    expect(billed.mediaConvert.usd.high).toBeCloseTo(0.36, 10); // 10 × 0.024 + 10 × 0.012
    expect(billed.mediaConvert.outputMinutes).toEqual({ low: 20, high: 20 });

    const settled = withMediaConvert({ frameCaptureBilled: false });
    const unbilled = estimateRun(video, SETTINGS, frame, settled);
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

  it('the 65,010-frame GoPro case, 36 min 7 s of 1080p30 at 30 fps: 2,167/60 min × 0.0075 to × (0.024 + 0.012)', () => {
    const estimate = estimateRun({ durationMs: 2_167_000, width: 1920, height: 1080, frameRate: 30, bytes: 4 * 2 ** 30 }, at30, frame, PRICES);
    expect(estimate.frames).toBe(65_010);
    expect(estimate.mediaConvert.usd.low).toBeCloseTo(0.270875, 9);
    expect(estimate.mediaConvert.usd.high).toBeCloseTo(1.3002, 9);
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
    // record (2,953 bytes): 3 each. Before the batches: 2 + floor(2,182 s / 10) = 218 status updates + 2.
    expect(estimate.dynamodb.writeUnits).toBe(2 + 218 + 2 + (8 * 1 + 341 * 2 + 302 * 3) + 2 * 3 + 7);
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
