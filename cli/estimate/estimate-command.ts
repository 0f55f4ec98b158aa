import { closeSync, openSync, readSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { probeVideo as probeVideoHeader } from '../../functions/ingress/video-probe';
import { type VideoStreamExtent, measureVideoStream, notAMediaConvertInput, probeMedia } from '../../local/ffmpeg';
import { formatFrameRate } from '../../pipeline/capture-settings';
import { loadProjectStackConfig } from '../../pipeline/stack-config';
import { CliError, EXIT } from '../exit-codes';
import { formatBytes } from '../progress-view';
import { type CaptureOptions, parseCaptureOptions } from '../capture-options';
import type { Io } from '../io';
import { fileSizeOf } from '../video-files';
import {
  ASSUMPTIONS,
  type Estimate,
  type FrameGrid,
  type PricingAssumption,
  type Range,
  type RunSettings,
  type VideoFacts,
  type WallTime,
  type WallTimeAssumption,
  estimateRun,
  pricingAssumptions,
  wallTimeAssumptions,
} from './cost-model';
import { DEFAULT_PRICES, loadPrices, pricesFor } from './price-table';
import { measureSampleFrames } from './sample-frames';

export interface EstimateOptions extends CaptureOptions {
  readonly region?: string;
  readonly prices?: string;
  readonly msPerFrame?: string;
  readonly json?: boolean;
}

/** Lambda's memory for the event functions (ingress, completion): pipeline/topology.ts. */
const EVENT_FUNCTION_MEMORY_MB = 512;

/**
 * `frames estimate <video>`: probes the video, measures sample frames, and prints what a run on the
 * deployed stack would produce, cost and take. Needs no stack and no AWS account.
 */
export async function estimateVideo(path: string, options: EstimateOptions, io: Io): Promise<number> {
  const config = loadProjectStackConfig();
  const { fps, quality, maxCaptures } = { ...config.capture, ...parseCaptureOptions(options) };
  const msPerFrame = options.msPerFrame === undefined ? undefined : parseMs(options.msPerFrame);
  const region = options.region ?? process.env.AWS_REGION ?? config.region ?? 'us-east-1';
  const pricesPath = resolve(options.prices ?? DEFAULT_PRICES);
  const table = loadPrices(pricesPath);
  const prices = pricesFor(table, region, pricesPath);

  const { video, stream, containerDurationMs } = await probeVideo(path);
  const frame = await measureSampleFrames({
    videoPath: path,
    video: stream,
    quality,
    processor: config.processing.processor,
    processorMs: msPerFrame,
  });
  const settings: RunSettings = {
    fps,
    maxCaptures,
    framesPerMessage: config.processing.framesPerMessage,
    messagesPerInvocation: config.processing.messagesPerInvocation,
    maxConcurrency: config.processing.maxConcurrency,
    workerMemoryMb: config.processing.workerMemoryMb,
    eventFunctionMemoryMb: EVENT_FUNCTION_MEMORY_MB,
    framesRetentionDays: config.framesRetentionDays,
    maxSegments: config.extraction.maxSegments,
    minSegmentSeconds: config.extraction.minSegmentSeconds,
  };
  const estimate = estimateRun(video, settings, frame, prices);
  const context = {
    video: { file: basename(path), ...video, sourceFrames: stream.frames, containerDurationMs },
    capture: { fps: formatFrameRate(fps), quality, maxCaptures },
    measured: { ...frame, processorMsGiven: msPerFrame !== undefined },
    region,
    prices: { file: pricesPath, asOf: table.asOf, currency: table.currency, rates: prices },
    settings,
    assumptions: ASSUMPTIONS,
    pricingAssumptions: pricingAssumptions(prices),
    wallTimeAssumptions: wallTimeAssumptions(estimate, settings, prices),
  };
  io.stdout.write(options.json ? `${JSON.stringify({ ...context, estimate })}\n` : `${describeEstimate(context, estimate)}\n`);
  return EXIT.ok;
}

function parseMs(text: string): number {
  const ms = Number(text);
  if (text.trim() === '' || !Number.isFinite(ms) || ms < 0 || ms > 900_000) {
    throw new CliError(`--ms-per-frame must be the processor's milliseconds per frame, 0 to 900000; got ${JSON.stringify(text)}.`, EXIT.usage);
  }
  return ms;
}

/**
 * The probe (resolution, rate, whether it is a video at all) and the video stream's own extent: the
 * frame capture runs over the video stream, and the container's duration is its longest stream's
 * (5 s of video with 15 s of audio says 15 s).
 */
async function probeVideo(path: string): Promise<{ video: VideoFacts; stream: VideoStreamExtent; containerDurationMs: number }> {
  const bytes = fileSizeOf(path);
  const probe = await probeMedia(path);
  if (!probe) throw new CliError(`${path} is not a video ffmpeg can read.`, EXIT.usage);
  // What MediaConvert would refuse (a still image, no video, several video streams) has no estimate.
  const notVideo = notAMediaConvertInput(probe);
  if (notVideo || !probe.video) throw new CliError(`${path}: ${notVideo ?? 'the input has no video track'}.`, EXIT.usage);
  const stream = await measureVideoStream(path);
  if (!stream || stream.durationMs <= 0) throw new CliError(`${path}: ffmpeg finds no frames in its video stream; there would be nothing to capture.`, EXIT.usage);
  return {
    video: {
      durationMs: stream.durationMs,
      width: probe.video.width,
      height: probe.video.height,
      frameRate: probe.video.frameRate ?? 30,
      bytes,
      frameGrid: await frameGridOf(path, bytes),
    },
    stream,
    containerDurationMs: probe.durationMs,
  };
}

/**
 * The frame grid the ingress would plan segments on: its own MP4/MOV header probe, over the local
 * file instead of ranged GETs (a few reads of the header, never the media), with the ingress's
 * rules for a header it does not plan from (functions/ingress/extraction-plan.ts).
 */
async function frameGridOf(path: string, bytes: number): Promise<FrameGrid> {
  const file = openSync(path, 'r');
  try {
    const result = await probeVideoHeader(async (start, end) => {
      const buffer = Buffer.alloc(end - start);
      const read = readSync(file, buffer, 0, end - start, start);
      return new Uint8Array(buffer.buffer, buffer.byteOffset, read);
    }, bytes);
    if (result.kind !== 'mp4') return { kind: 'none', reason: result.reason };
    const { frames, constantFrameRate, frameRate, movieOutlastsVideo } = result.video;
    if (movieOutlastsVideo) return { kind: 'none', reason: 'the movie lasts longer than its video track (audio outlasts the video)' };
    return { kind: 'header', sourceFrames: frames, constantFrameRate: constantFrameRate && frameRate !== undefined, ...(frameRate ? { sourceRate: frameRate } : {}) };
  } catch (error) {
    return { kind: 'none', reason: `the MP4/MOV header could not be read (${error instanceof Error ? error.message : String(error)})` };
  } finally {
    closeSync(file);
  }
}

const usd = (value: number) => (value >= 1 ? `$${value.toFixed(2)}` : `$${value.toFixed(4)}`);
/** A figure that rests on the MediaConvert assumptions: cheapest reading to dearest (one figure when they agree). */
const usdRange = (range: Range) => (usd(range.low) === usd(range.high) ? usd(range.low) : `${usd(range.low)} to ${usd(range.high)}`);
const minutesRange = (range: Range) => (range.low === range.high ? range.low.toFixed(2) : `${range.low.toFixed(2)}–${range.high.toFixed(2)}`);
const count = (value: number) => value.toLocaleString('en-US');
const plural = (value: number, noun: string, nouns = `${noun}s`) => `${count(value)} ${value === 1 ? noun : nouns}`;

export function formatDuration(seconds: number): string {
  const whole = Math.round(seconds);
  if (whole < 60) return `${Math.max(seconds, 0).toFixed(seconds < 10 ? 1 : 0)} s`;
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s} s`;
}

function describeEstimate(
  context: {
    video: VideoFacts & { file: string; sourceFrames: number; containerDurationMs: number };
    capture: { fps: string; quality: number; maxCaptures: number };
    measured: { jpegBytes: number; processorMs: number; processorMsGiven: boolean; sampled: number };
    region: string;
    prices: { file: string; asOf: string };
    settings: RunSettings;
    pricingAssumptions: readonly PricingAssumption[];
    wallTimeAssumptions: readonly WallTimeAssumption[];
  },
  estimate: Estimate,
): string {
  const { video, capture, measured } = context;
  const cost = (value: number | Range | undefined) => (value === undefined ? '' : typeof value === 'number' ? usd(value) : usdRange(value));
  const row = (label: string, detail: string, value?: number | Range) => `  ${label.padEnd(13)} ${detail.padEnd(66)} ${cost(value)}`.trimEnd();
  // The container's duration is its longest stream's; say so when the video is shorter than the file.
  const fileLonger = video.containerDurationMs - video.durationMs >= 500 ? ` of video (the file runs ${formatDuration(video.containerDurationMs / 1000)})` : '';
  const time = estimate.wallTime;
  const timeline = (t: WallTime, jobs: number) =>
    `${jobs > 1 ? 'last job done at' : 'extraction'} ${formatDuration(t.extractionSeconds)}, fan-out ${formatDuration(t.fanOutSeconds)}, ` +
    `processing ${jobs > 1 ? 'of what is left ' : ''}${formatDuration(t.processingSeconds)} on ${plural(t.workers, 'worker')}, fan-in ${formatDuration(t.fanInSeconds)}`;
  // One job against the segmented run, so the gain shows; a video planned as one job has one line.
  const wallTime =
    time.jobs > 1
      ? [
          row('wall time', `one job: ~${formatDuration(time.oneJob.totalSeconds)} (${timeline(time.oneJob, 1)})`),
          row('', `segmented into ${time.jobs} jobs: ~${formatDuration(time.totalSeconds)} (${timeline(time, time.jobs)})`),
        ]
      : [row('wall time', `~${formatDuration(time.totalSeconds)} as one job (${timeline(time, 1)})`)];
  return [
    `${video.file}: ${video.width}x${video.height}, ${video.frameRate} fps, ${formatDuration(video.durationMs / 1000)}${fileLonger}, ` +
      `${plural(video.sourceFrames, 'frame')}, ${formatBytes(video.bytes)}; ` +
      `captured at ${capture.fps} fps, quality ${capture.quality}`,
    `Estimated for ${context.region} with the prices of ${context.prices.asOf} (${context.prices.file})`,
    '',
    row('frames', `${plural(estimate.frames, 'JPEG')} of ~${formatBytes(measured.jpegBytes)} (${plural(measured.sampled, 'sample')}), in ${plural(estimate.batches, 'batch', 'batches')}`),
    row(
      'MediaConvert',
      `${minutesRange(estimate.mediaConvert.outputMinutes)} output min: ${estimate.mediaConvert.outputs.map((o) => `${o.output} ${o.rateClass}`).join(', ')}`,
      estimate.mediaConvert.usd,
    ),
    row('S3 requests', `${count(estimate.s3.writeRequests)} PUT/LIST, ${count(estimate.s3.readRequests)} GET/HEAD`, estimate.s3.requestsUsd),
    row('S3 storage', `${estimate.s3.storageGbMonths.toFixed(4)} GB-month (frames kept ${context.settings.framesRetentionDays} days, video and results a month)`, estimate.s3.storageUsd),
    row('Lambda', `${count(estimate.lambda.requests)} requests, ${estimate.lambda.gbSeconds.toFixed(1)} GB-s (processor ${measured.processorMs.toFixed(1)} ms/frame${measured.processorMsGiven ? ', given' : ', measured here'})`, estimate.lambda.usd),
    row('SQS', `${count(estimate.sqs.requests)} requests`, estimate.sqs.usd),
    row('DynamoDB', `${plural(estimate.dynamodb.writeUnits, 'write unit')}, ${plural(estimate.dynamodb.readUnits, 'read unit')}`, estimate.dynamodb.usd),
    row('total', '', estimate.totalUsd),
    '',
    ...wallTime,
    '',
    'Assumptions (MediaConvert, and so the total, runs from the cheapest reading to the dearest; --prices with your own rates settles them):',
    ...context.pricingAssumptions.map((assumption) => `  - ${assumption.statement}`),
    '',
    'Segments and wall time (AWS publishes no MediaConvert speed; the wall time is a model, not a measurement):',
    ...context.wallTimeAssumptions.map((assumption) => `  - ${assumption.statement}`),
    '',
    'Not included: CloudWatch Logs, data transfer out of AWS, free tiers and volume discounts. Every figure is explained in the README ("frames estimate").',
  ].join('\n');
}
