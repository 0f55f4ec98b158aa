import type { FrameRate } from '../../pipeline/capture-settings';
import { type SegmentPlan, planSegments } from '../../pipeline/segment-plan';
import type { RegionPrices } from './price-table';

/**
 * What one video costs to run through the deployed pipeline, and how long it takes: plain
 * arithmetic over what the pipeline does per video (counted from the code: see each figure) and a
 * price table. The README's "frames estimate" section explains every figure.
 */

/** The video, as ffmpeg probed it. */
export interface VideoFacts {
  readonly durationMs: number;
  readonly width: number;
  readonly height: number;
  /** The source's frame rate (the proxy output has it too). */
  readonly frameRate: number;
  readonly bytes: number;
  /** What decides the segments; absent, a constant frame rate of `frameRate` is assumed (and said). */
  readonly frameGrid?: FrameGrid;
}

/**
 * The video's frame grid, which the ingress plans segments on (pipeline/segment-plan.ts). `header`:
 * what its MP4/MOV header probe reads (functions/ingress/video-probe.ts): the frames and, when every
 * frame lasts the same, the rate. `none`: no header it plans from (not an MP4/MOV): one job.
 */
export type FrameGrid =
  | { readonly kind: 'header'; readonly sourceFrames: number; readonly constantFrameRate: boolean; readonly sourceRate?: FrameRate }
  | { readonly kind: 'none'; readonly reason: string };

/** The run's settings: the stack config and the overrides. */
export interface RunSettings {
  readonly fps: FrameRate;
  readonly maxCaptures: number;
  readonly framesPerMessage: number;
  readonly messagesPerInvocation: number;
  readonly maxConcurrency: number;
  readonly workerMemoryMb: number;
  readonly eventFunctionMemoryMb: number;
  readonly framesRetentionDays: number;
  /** The stack config's extraction settings: most jobs for one video, and a segment's shortest. */
  readonly maxSegments: number;
  readonly minSegmentSeconds: number;
}

/** What was measured on sample frames of this video (or given on the command line). */
export interface FrameFacts {
  readonly jpegBytes: number;
  readonly processorMs: number;
  /** One line of results.jsonl. */
  readonly resultLineBytes: number;
}

/**
 * The figures nobody publishes, chosen and documented here; `--json` prints them with the estimate.
 */
export const ASSUMPTIONS = {
  /** MediaConvert's speed on frame capture plus the small proxy, as a multiple of real time. */
  mediaConvertRealTimeFactor: 1,
  /** Queueing, input probing and the first event, before progress: every job pays it. */
  mediaConvertStartSeconds: 15,
  /**
   * Jobs MediaConvert runs at once: 20, its default for an on-demand queue (a quota AWS can raise,
   * shared with whatever else uses the queue). More segments than this run in waves.
   */
  mediaConvertQueueConcurrency: 20,
  /** MediaConvert reads the input in ranges: one GET per this many bytes (at least one). */
  mediaConvertReadBytesPerGet: 8 * 1024 * 1024,
  /** STATUS_UPDATE events: the job template asks for one every 10 s (StatusUpdateInterval SECONDS_10). */
  statusUpdateSeconds: 10,
  /** Lambda time of one event (ingress submit, or one MediaConvert state event). */
  eventFunctionSeconds: 0.5,
  /** Completion: time per 1,000-key listing page and per 10-message send. */
  listPageSeconds: 0.1,
  sendBatchSeconds: 0.03,
  /** Worker overhead per invocation beyond the frames: record read, batch results write, count. */
  workerInvocationSeconds: 0.3,
  /** Fan-in: read of one batch's results, and write speed of results.jsonl. */
  fanInBatchSeconds: 0.02,
  fanInBytesPerSecond: 50 * 1024 * 1024,
  /**
   * Size of the job record without its DoneBatches set (measured: a finished record of a short key
   * is about 1,030 bytes in 36 attributes), and per member of that set (a number of up to 4 digits).
   */
  jobRecordBytes: 1000,
  doneBatchMemberBytes: 3,
  /** lib-storage's default part size (results.jsonl) and the CLI's (uploads over it go multipart). */
  resultsPartBytes: 5 * 1024 * 1024,
  uploadPartBytes: 8 * 1024 * 1024,
  /** The proxy: 180 lines at up to 400 kb/s (job-templates/frame-capture.json). */
  proxyBitsPerSecond: 400_000,
  proxyHeight: 180,
  /** Days in a billing month, for storage kept a few days. */
  daysPerMonth: 30,
} as const;

export type Assumptions = typeof ASSUMPTIONS;

/** A cost that depends on what nobody has verified: its cheapest and its dearest reading. */
export interface Range {
  readonly low: number;
  readonly high: number;
}

/** How one end of the MediaConvert range reads the two unverified assumptions. */
export interface MediaConvertReading {
  readonly frameCaptureBilled: boolean;
  readonly tier: 'Basic' | 'Professional';
}

/**
 * The two ends of the MediaConvert range. Low: the frame-capture output is not billed and the job
 * is billed at the Basic tier. High: the frame capture is billed like a video output of its
 * resolution at its capture rate, and every output at the Professional tier. A price table settles
 * either question for those who know (frameCaptureBilled; a table with one tier, see price-table.ts).
 */
export function mediaConvertReadings(prices: RegionPrices): { readonly low: MediaConvertReading; readonly high: MediaConvertReading } {
  const { frameCaptureBilled, professionalPerOutputMinute } = prices.mediaconvert;
  return {
    low: { frameCaptureBilled: frameCaptureBilled ?? false, tier: 'Basic' },
    high: { frameCaptureBilled: frameCaptureBilled ?? true, tier: professionalPerOutputMinute ? 'Professional' : 'Basic' },
  };
}

/** An assumption the MediaConvert price rests on, by name, with what each end of the range takes. */
export interface PricingAssumption {
  readonly name: 'frameCaptureBilled' | 'mediaConvertTier' | 'normalizedMinutes' | 'monthlyVolumeTiers';
  /** unverified: the range spans it; priceTable: the table settles it; notModelled: left out at both ends. */
  readonly status: 'unverified' | 'priceTable' | 'notModelled';
  readonly low?: boolean | string;
  readonly high?: boolean | string;
  readonly statement: string;
}

/** The assumptions behind the MediaConvert figure, for the text output and `--json`. */
export function pricingAssumptions(prices: RegionPrices): PricingAssumption[] {
  const { low, high } = mediaConvertReadings(prices);
  const captureSettled = prices.mediaconvert.frameCaptureBilled !== undefined;
  const oneTier = prices.mediaconvert.professionalPerOutputMinute === undefined;
  return [
    {
      name: 'frameCaptureBilled',
      status: captureSettled ? 'priceTable' : 'unverified',
      low: low.frameCaptureBilled,
      high: high.frameCaptureBilled,
      statement: captureSettled
        ? `frame capture: ${low.frameCaptureBilled ? 'billed like a video output of its size at its capture rate' : 'not billed'}, as the price table says`
        : "frame capture: AWS's pages do not price it; low end unbilled, high end billed like a video output of its size at its capture rate",
    },
    {
      name: 'mediaConvertTier',
      status: oneTier ? 'priceTable' : 'unverified',
      low: low.tier,
      high: high.tier,
      statement: oneTier
        ? 'tier: the price table gives one (perOutputMinute), used at both ends'
        : "tier: AWS's Basic tier names AVC, VP8/VP9 and MP3 outputs, not JPEG frame capture; low end Basic, high end Professional for every output",
    },
    {
      name: 'normalizedMinutes',
      status: 'notModelled',
      statement: 'not modelled: AWS bills normalized minutes (output minutes times a multiplier for codec, resolution, frame rate, passes); priced here per output minute by resolution and frame-rate class',
    },
    {
      name: 'monthlyVolumeTiers',
      status: 'notModelled',
      statement: 'not modelled: monthly volume tiers (the rate falls past monthly thresholds, per region and account); list rates are used',
    },
  ];
}

export interface MediaConvertOutputCost {
  readonly output: 'frame capture' | 'proxy';
  readonly rateClass: string;
  readonly billedMinutes: number;
  /** Low and high reading (mediaConvertReadings): the frame capture's low end is 0 when it is unbilled there. */
  readonly usd: Range;
}

/** One way through the timeline: when frames are extracted, fanned out, processed and fanned in. */
export interface WallTime {
  /** Until the last job completes (one job: start-up plus the video at the real-time factor). */
  readonly extractionSeconds: number;
  /** The fan-out after it: listing that job's frames and sending their batches. */
  readonly fanOutSeconds: number;
  /** Processing of the frames still queued after that fan-out (earlier segments' went on during extraction). */
  readonly processingSeconds: number;
  readonly fanInSeconds: number;
  readonly workers: number;
  readonly totalSeconds: number;
}

/** One MediaConvert job of the plan, on the timeline. */
export interface PlannedJob {
  readonly captures: number;
  /** The video it captures, in seconds, and when it completes (its wave's start + start-up + that at the real-time factor). */
  readonly seconds: number;
  readonly completesAtSeconds: number;
}

export interface Estimate {
  /** The plan pipeline/segment-plan.ts makes for this video, and where its frame grid came from. */
  readonly segments: {
    readonly grid: 'header' | 'assumed' | 'none';
    readonly sourceRate: FrameRate;
    readonly plan: SegmentPlan['kind'];
    /** Why one job (the plan's reason). */
    readonly reason?: string;
    readonly captureStride?: number;
    readonly jobs: readonly PlannedJob[];
    /** Rounds of at most `mediaConvertQueueConcurrency` jobs. */
    readonly waves: number;
  };
  readonly frames: number;
  readonly batches: number;
  readonly workerInvocations: number;
  readonly mediaConvert: {
    readonly readings: ReturnType<typeof mediaConvertReadings>;
    /** Billed output minutes at each end (the low end may leave the frame capture out). */
    readonly outputMinutes: Range;
    readonly outputs: readonly MediaConvertOutputCost[];
    readonly usd: Range;
    /**
     * The same video as one job. Segments capture the same duration, so they bill the same minutes
     * but for each job's rounding up to a whole second (10 s at least; a segment is longer).
     */
    readonly oneJob: { readonly billedMinutes: number; readonly outputMinutes: Range; readonly usd: Range };
  };
  readonly s3: {
    readonly writeRequests: number;
    readonly readRequests: number;
    readonly storageGbMonths: number;
    readonly requestsUsd: number;
    readonly storageUsd: number;
  };
  readonly lambda: { readonly requests: number; readonly gbSeconds: number; readonly usd: number };
  readonly sqs: { readonly requests: number; readonly usd: number };
  readonly dynamodb: { readonly writeUnits: number; readonly readUnits: number; readonly usd: number };
  /** The sum; a range because MediaConvert's is. */
  readonly totalUsd: Range;
  /** The run as planned (segmented, or one job), and the same video as one job, to compare. */
  readonly wallTime: WallTime & { readonly jobs: number; readonly oneJob: WallTime };
}

const GB = 1024 ** 3;

/** Below this, a capture count over a whole number is floating-point noise, not a further capture. */
const CAPTURE_ROUNDING_SLACK = 1e-9;

/**
 * Frames MediaConvert captures: the first, then one every D/N s while inside the video: ceil(duration
 * × N/D), the duration being the video stream's own (local/ffmpeg.ts measureVideoStream). A stream
 * duration in ticks of its time base is rarely a whole number of ms (one frame at 30 fps is 33.33…
 * ms), so a product that should be whole can come out a hair above it: that is not a capture more.
 */
export function framesFor(durationMs: number, fps: FrameRate, maxCaptures: number): number {
  const captures = Math.ceil((durationMs * fps.numerator) / (1000 * fps.denominator) - CAPTURE_ROUNDING_SLACK);
  return Math.max(0, Math.min(maxCaptures, captures));
}

/** MediaConvert's rate classes: SD below 720 lines, HD to 1080, UHD above; frame rate to 30, 60, above. */
export function rateClass(height: number, frameRate: number): { resolution: 'SD' | 'HD' | 'UHD'; frameRate: 'upTo30fps' | 'upTo60fps' | 'above60fps' } {
  return {
    resolution: height < 720 ? 'SD' : height <= 1080 ? 'HD' : 'UHD',
    frameRate: frameRate <= 30 ? 'upTo30fps' : frameRate <= 60 ? 'upTo60fps' : 'above60fps',
  };
}

/** A frame rate as ffmpeg prints it (30, 29.97, 23.98) as the ratio it stands for (30/1, 30000/1001, 24000/1001). */
export function frameRateRatio(fps: number): FrameRate {
  if (!Number.isFinite(fps) || fps <= 0) return { numerator: 30, denominator: 1 };
  if (Math.abs(fps - Math.round(fps)) < 0.005) return { numerator: Math.round(fps), denominator: 1 };
  const ntsc = Math.round(fps * 1.001);
  if (Math.abs(fps - (ntsc * 1000) / 1001) < 0.005) return { numerator: ntsc * 1000, denominator: 1001 };
  return { numerator: Math.round(fps * 1000), denominator: 1000 };
}

/**
 * The jobs the ingress would submit for this video: planSegments itself (pipeline/segment-plan.ts)
 * over its frame grid, with each job's captures and seconds of video. A segment's seconds are its
 * source frames at the source rate; the last runs to the end of the video, as its job does.
 */
export function plannedSegments(
  video: VideoFacts,
  settings: RunSettings,
  frames: number,
): Pick<Estimate['segments'], 'grid' | 'sourceRate' | 'plan' | 'reason' | 'captureStride'> & { readonly jobs: readonly { captures: number; seconds: number }[] } {
  const durationSeconds = video.durationMs / 1000;
  const grid = video.frameGrid;
  const sourceRate = (grid?.kind === 'header' ? grid.sourceRate : undefined) ?? frameRateRatio(video.frameRate);
  if (grid?.kind === 'none') return { grid: 'none', sourceRate, plan: 'single', reason: grid.reason, jobs: [{ captures: frames, seconds: durationSeconds }] };
  const from = grid ? 'header' : 'assumed';
  // As the ingress decides (functions/ingress/extraction-plan.ts): 1 never splits.
  if (settings.maxSegments < 2) return { grid: from, sourceRate, plan: 'single', reason: 'extraction.maxSegments is 1', jobs: [{ captures: frames, seconds: durationSeconds }] };
  const plan = planSegments({
    sourceRate,
    sourceFrames: grid?.kind === 'header' ? grid.sourceFrames : Math.round((durationSeconds * sourceRate.numerator) / sourceRate.denominator),
    constantFrameRate: grid?.kind === 'header' ? grid.constantFrameRate : true,
    captureRate: settings.fps,
    maxCaptures: settings.maxCaptures,
    maxSegments: settings.maxSegments,
    minSegmentSeconds: settings.minSegmentSeconds,
  });
  if (plan.kind === 'single') return { grid: from, sourceRate, plan: 'single', reason: plan.reason, jobs: [{ captures: frames, seconds: durationSeconds }] };
  const secondsAt = (sourceFrame: number) => (sourceFrame * sourceRate.denominator) / sourceRate.numerator;
  const last = plan.segments.length - 1;
  return {
    grid: from,
    sourceRate,
    plan: 'segmented',
    captureStride: plan.captureStride,
    jobs: plan.segments.map((segment) => ({
      captures: segment.captures,
      seconds: Math.max(0, (segment.index === last ? durationSeconds : secondsAt(segment.endSourceFrame)) - secondsAt(segment.firstSourceFrame)),
    })),
  };
}

/** MediaConvert bills each output of a job in whole seconds, at least the table's minimum. */
const billedSecondsOf = (seconds: number, minimum: number) => Math.max(Math.ceil(seconds - CAPTURE_ROUNDING_SLACK), minimum);

export function estimateRun(video: VideoFacts, settings: RunSettings, frame: FrameFacts, prices: RegionPrices, assume: Assumptions = ASSUMPTIONS): Estimate {
  const durationSeconds = video.durationMs / 1000;
  const frames = framesFor(video.durationMs, settings.fps, settings.maxCaptures);
  const batches = Math.ceil(frames / settings.framesPerMessage);
  const workerInvocations = Math.ceil(batches / settings.messagesPerInvocation);
  const captureRate = settings.fps.numerator / settings.fps.denominator;

  // The jobs, started in order as the queue has room (waves of mediaConvertQueueConcurrency), each
  // paying the start-up, then its video at the real-time factor.
  const { jobs: segments, ...plan } = plannedSegments(video, settings, frames);
  const jobSeconds = (seconds: number) => assume.mediaConvertStartSeconds + seconds / assume.mediaConvertRealTimeFactor;
  const schedule = (list: readonly { captures: number; seconds: number }[]): PlannedJob[] => {
    const slots = new Array<number>(Math.min(assume.mediaConvertQueueConcurrency, list.length)).fill(0);
    return list.map(({ captures, seconds }) => {
      const slot = slots.indexOf(Math.min(...slots));
      slots[slot] += jobSeconds(seconds);
      return { captures, seconds, completesAtSeconds: slots[slot] };
    });
  };
  const jobs = schedule(segments);
  const oneJob = schedule([{ captures: frames, seconds: durationSeconds }]);

  // MediaConvert: two outputs a job, each billed for the job's video in whole seconds, 10 s at least;
  // the frame capture only where the reading bills it, each at the reading's tier. Segments capture
  // the same duration: only each job's rounding up differs from one job.
  const billedMinutesOf = (list: readonly PlannedJob[]) =>
    list.reduce((total, job) => total + billedSecondsOf(job.seconds, prices.mediaconvert.minimumBilledSeconds), 0) / 60;
  const readings = mediaConvertReadings(prices);
  const billed = (name: MediaConvertOutputCost['output'], reading: MediaConvertReading) => name !== 'frame capture' || reading.frameCaptureBilled;
  const output = (name: MediaConvertOutputCost['output'], height: number, rate: number, billedMinutes: number): MediaConvertOutputCost => {
    const rateOf = rateClass(height, rate);
    const usdAt = (reading: MediaConvertReading) => {
      if (!billed(name, reading)) return 0;
      // A Professional reading exists only when the table has that tier (mediaConvertReadings).
      const professional = reading.tier === 'Professional' ? prices.mediaconvert.professionalPerOutputMinute : undefined;
      return billedMinutes * (professional ?? prices.mediaconvert.perOutputMinute)[rateOf.resolution][rateOf.frameRate];
    };
    return {
      output: name,
      rateClass: `${rateOf.resolution} ${rateOf.frameRate.replace('upTo', '≤').replace('above', '>').replace('fps', ' fps')}`,
      billedMinutes,
      usd: { low: usdAt(readings.low), high: usdAt(readings.high) },
    };
  };
  const priced = (list: readonly PlannedJob[]) => {
    const minutes = billedMinutesOf(list);
    const outputs = [output('frame capture', video.height, captureRate, minutes), output('proxy', assume.proxyHeight, video.frameRate, minutes)];
    const sum = (value: (o: MediaConvertOutputCost) => number) => outputs.reduce((total, o) => total + value(o), 0);
    const minutesAt = (reading: MediaConvertReading) => sum((o) => (billed(o.output, reading) ? o.billedMinutes : 0));
    return {
      billedMinutes: minutes,
      outputs,
      usd: { low: sum((o) => o.usd.low), high: sum((o) => o.usd.high) },
      outputMinutes: { low: minutesAt(readings.low), high: minutesAt(readings.high) },
    };
  };
  const { outputs, usd: mediaConvertUsd, outputMinutes } = priced(jobs);
  const oneJobMediaConvert = priced(oneJob);

  // S3 requests. Writes (PUT, POST, LIST): the upload (one PUT, or create + parts + complete), one
  // PUT per frame and one for the proxy (MediaConvert), the completion's listing of the frames
  // (1,000 keys a page), one batch-results PUT per batch, results.jsonl (create + parts +
  // complete) and summary.json. Reads (GET, HEAD): ingress's HEAD, MediaConvert's ranged reads of
  // the input, a GET per frame (workers), one per batch's results (fan-in), and the CLI's two downloads.
  const uploadWrites = video.bytes > assume.uploadPartBytes ? 2 + Math.ceil(video.bytes / assume.uploadPartBytes) : 1;
  const resultsBytes = frames * frame.resultLineBytes;
  const resultsWrites = resultsBytes > assume.resultsPartBytes ? 2 + Math.ceil(resultsBytes / assume.resultsPartBytes) : 1;
  const listPages = Math.max(1, Math.ceil(frames / 1000));
  const writeRequests = uploadWrites + frames + 1 + listPages + batches + resultsWrites + 1;
  const inputReads = Math.max(1, Math.ceil(video.bytes / assume.mediaConvertReadBytesPerGet));
  const readRequests = 1 + inputReads + frames + batches + 2;
  const requestsUsd = (writeRequests / 1000) * prices.s3.writeRequestsPerThousand + (readRequests / 1000) * prices.s3.readRequestsPerThousand;

  // S3 storage for the first month: frames, proxy and batch results for the retention days (the
  // frames bucket expires them), the source video and the results for the whole month.
  const proxyBytes = (assume.proxyBitsPerSecond / 8) * durationSeconds;
  const expiringBytes = frames * frame.jpegBytes + proxyBytes + resultsBytes;
  const keptBytes = video.bytes + resultsBytes;
  const retainedMonths = Math.min(settings.framesRetentionDays, assume.daysPerMonth) / assume.daysPerMonth;
  const storageGbMonths = (expiringBytes * retainedMonths + keptBytes) / GB;
  const storageUsd = storageGbMonths * prices.s3.storagePerGbMonth;

  // Timeline, which also gives the Lambda time of the event functions. Each job reports a
  // STATUS_UPDATE every 10 s while it runs. As a job completes, its frames are listed and their
  // batches sent (the fan-out), and the workers take them: the queue they drain holds each
  // segment's share of the invocations from its fan-out on. The run ends when the queue left after
  // the last fan-out has been worked through, in rounds of a batch on every worker, and fanned in.
  const statusUpdates = jobs.reduce((total, job) => total + Math.floor(jobSeconds(job.seconds) / assume.statusUpdateSeconds), 0);
  const fanOutOf = (captures: number) =>
    Math.max(1, Math.ceil(captures / 1000)) * assume.listPageSeconds + Math.ceil(Math.ceil(captures / settings.framesPerMessage) / 10) * assume.sendBatchSeconds;
  // The completion's listing and sending, all segments together (Lambda time).
  const fanOutWorkSeconds = fanOutOf(frames);
  const invocationSeconds =
    settings.framesPerMessage * settings.messagesPerInvocation * (frame.processorMs / 1000) + assume.workerInvocationSeconds;
  const workers = Math.max(1, Math.min(settings.maxConcurrency, workerInvocations));
  const fanInSeconds = batches * assume.fanInBatchSeconds + resultsBytes / assume.fanInBytesPerSecond;
  const timeline = (list: readonly PlannedJob[]): WallTime => {
    const captured = list.reduce((total, job) => total + job.captures, 0);
    const released = list
      .map((job) => ({ at: job.completesAtSeconds + fanOutOf(job.captures), invocations: captured === 0 ? 0 : (workerInvocations * job.captures) / captured }))
      .sort((a, b) => a.at - b.at);
    let queued = 0;
    let at = 0;
    for (const release of released) {
      queued = Math.max(0, queued - ((release.at - at) * workers) / invocationSeconds) + release.invocations;
      at = release.at;
    }
    const extractionSeconds = Math.max(...list.map((job) => job.completesAtSeconds));
    const processingSeconds = workerInvocations === 0 ? 0 : Math.ceil(queued / workers - CAPTURE_ROUNDING_SLACK) * invocationSeconds;
    return { extractionSeconds, fanOutSeconds: at - extractionSeconds, processingSeconds, fanInSeconds, workers, totalSeconds: at + processingSeconds + fanInSeconds };
  };

  // Lambda. Requests: ingress 1; completion per MediaConvert event of each job (PROGRESSING,
  // INPUT_INFORMATION, a STATUS_UPDATE every 10 s, COMPLETE); workers one per invocation (the last
  // one also fans in).
  const eventInvocations = 1 + 3 * jobs.length + statusUpdates;
  const lambdaRequests = eventInvocations + workerInvocations;
  const eventGb = settings.eventFunctionMemoryMb / 1024;
  const workerGb = settings.workerMemoryMb / 1024;
  const workerSeconds = frames * (frame.processorMs / 1000) + workerInvocations * assume.workerInvocationSeconds + fanInSeconds;
  const gbSeconds = eventGb * (eventInvocations * assume.eventFunctionSeconds + fanOutWorkSeconds) + workerGb * workerSeconds;
  const lambdaUsd = (lambdaRequests / 1e6) * prices.lambda.requestsPerMillion + gbSeconds * prices.lambda.perGbSecond;

  // SQS: SendMessageBatch (10 a call), and per worker invocation the event source mapping's
  // ReceiveMessage and DeleteMessageBatch. An idle queue's long polls are a fixed cost, not per video.
  const sqsRequests = Math.ceil(batches / 10) + 2 * workerInvocations;
  const sqsUsd = (sqsRequests / 1e6) * prices.sqs.requestsPerMillion;

  // DynamoDB write units: 1 per KB of the larger of the item before and after each write.
  // Before any batch: the claim, the submission, each STATUS_UPDATE (of every job), the start of
  // processing and the fanned-out mark. Batch b's count adds b to DoneBatches, so the item grows a few bytes a
  // batch; the fan-in lease and the completion write the full-size item. The keys-only status
  // index: 1 write when the run is created, 2 at each of its 3 status changes.
  const itemUnits = (doneBatches: number) => Math.ceil((assume.jobRecordBytes + doneBatches * assume.doneBatchMemberBytes) / 1024);
  let batchUnits = 0;
  for (let b = 1; b <= batches; b += 1) batchUnits += itemUnits(b);
  const indexUnits = 1 + 2 * 3;
  const writeUnits = (2 + statusUpdates + 2) * itemUnits(0) + batchUnits + 2 * itemUnits(batches) + indexUnits;
  // Read units: consistent reads, 1 per 4 KB: each worker invocation reads the record.
  const readUnits = workerInvocations * Math.ceil((assume.jobRecordBytes + batches * assume.doneBatchMemberBytes) / 4096);
  const dynamodbUsd =
    (writeUnits / 1e6) * prices.dynamodb.writeRequestUnitsPerMillion + (readUnits / 1e6) * prices.dynamodb.readRequestUnitsPerMillion;

  const otherUsd = requestsUsd + storageUsd + lambdaUsd + sqsUsd + dynamodbUsd;
  return {
    segments: { ...plan, jobs, waves: Math.ceil(jobs.length / assume.mediaConvertQueueConcurrency) },
    frames,
    batches,
    workerInvocations,
    mediaConvert: {
      readings,
      outputMinutes,
      outputs,
      usd: mediaConvertUsd,
      oneJob: { billedMinutes: oneJobMediaConvert.billedMinutes, outputMinutes: oneJobMediaConvert.outputMinutes, usd: oneJobMediaConvert.usd },
    },
    s3: { writeRequests, readRequests, storageGbMonths, requestsUsd, storageUsd },
    lambda: { requests: lambdaRequests, gbSeconds, usd: lambdaUsd },
    sqs: { requests: sqsRequests, usd: sqsUsd },
    dynamodb: { writeUnits, readUnits, usd: dynamodbUsd },
    totalUsd: { low: mediaConvertUsd.low + otherUsd, high: mediaConvertUsd.high + otherUsd },
    wallTime: { ...timeline(jobs), jobs: jobs.length, oneJob: timeline(oneJob) },
  };
}

/** An assumption the segments and the wall time rest on, by name, for the text output and `--json`. */
export interface WallTimeAssumption {
  readonly name: 'frameGrid' | 'segments' | 'mediaConvertQueueConcurrency' | 'mediaConvertSpeed' | 'overlap' | 'perJobBilling';
  readonly statement: string;
}

const rateText = (rate: FrameRate) => (rate.denominator === 1 ? `${rate.numerator}` : `${rate.numerator}/${rate.denominator}`);
const secondsText = (seconds: number) => (seconds < 120 ? `${seconds.toFixed(1)} s` : `${(seconds / 60).toFixed(1)} min`);

/**
 * What the segmented wall time assumes, said as the pricing assumptions are. The model in two lines:
 * the plan's jobs run in parallel (waves beyond the queue's concurrency), each paying the start-up
 * and its video at the real-time factor; a segment's frames are fanned out and processed as its job
 * completes, so the run ends at the last job's completion + its fan-out + processing of the frames
 * still queued then + the fan-in.
 */
export function wallTimeAssumptions(estimate: Estimate, settings: RunSettings, prices: RegionPrices, assume: Assumptions = ASSUMPTIONS): WallTimeAssumption[] {
  const { segments, mediaConvert } = estimate;
  const jobs = segments.jobs.length;
  const rate = rateText(segments.sourceRate);
  const grid =
    segments.grid === 'header'
      ? `frame grid: from the file's MP4/MOV header, as the ingress reads it (functions/ingress/video-probe.ts)`
      : segments.grid === 'assumed'
        ? `frame grid: a constant ${rate} fps is assumed (not read from the file's header); a variable frame rate would be one job`
        : 'frame grid: none the ingress plans segments from (it reads MP4/MOV headers): one job';
  const longest = Math.max(...segments.jobs.map((job) => job.seconds));
  const plan =
    segments.plan === 'segmented'
      ? `segments: ${jobs} jobs of up to ${secondsText(longest)} of video (pipeline/segment-plan.ts with extraction.maxSegments ${settings.maxSegments}, ` +
        `minSegmentSeconds ${settings.minSegmentSeconds}; cut where the capture grid meets the ${rate} fps frame grid)`
      : `segments: one job (${segments.reason})`;
  const extraSeconds = Math.round((mediaConvert.outputs[0].billedMinutes - mediaConvert.oneJob.billedMinutes) * 60);
  const extraUsd = { low: mediaConvert.usd.low - mediaConvert.oneJob.usd.low, high: mediaConvert.usd.high - mediaConvert.oneJob.usd.high };
  return [
    { name: 'frameGrid', statement: grid },
    { name: 'segments', statement: plan },
    {
      name: 'mediaConvertQueueConcurrency',
      statement:
        `queue: MediaConvert runs at most ${assume.mediaConvertQueueConcurrency} jobs at once (its default for an on-demand queue; a quota AWS can raise, ` +
        `shared with other videos)${jobs > 1 ? `: ${jobs} jobs run in ${segments.waves} ${segments.waves === 1 ? 'wave' : 'waves'}` : ''}`,
    },
    {
      name: 'mediaConvertSpeed',
      statement: `speed: every job takes ${assume.mediaConvertStartSeconds} s to start, then its video at ${assume.mediaConvertRealTimeFactor}x real time (AWS publishes no speed; yours may be faster)`,
    },
    {
      name: 'overlap',
      statement:
        'wall time: each segment is fanned out and processed as its job completes; the run ends at the last completion + its fan-out + ' +
        'processing of the frames still queued then (rounds of a batch on every worker) + the fan-in',
    },
    {
      name: 'perJobBilling',
      statement:
        `cost: segments capture the same duration, so MediaConvert bills the same minutes but for each job's rounding up to a whole second ` +
        `(${prices.mediaconvert.minimumBilledSeconds} s at least, less than a segment)` +
        (jobs > 1 ? `: here ${extraSeconds} s more an output than one job, ${extraUsd.low === extraUsd.high ? `$${extraUsd.low.toFixed(4)}` : `$${extraUsd.low.toFixed(4)} to $${extraUsd.high.toFixed(4)}`}` : ''),
    },
  ];
}
