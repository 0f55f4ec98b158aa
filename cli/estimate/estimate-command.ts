import { basename, resolve } from 'node:path';
import { probeMedia } from '../../local/ffmpeg';
import { formatFrameRate } from '../../pipeline/capture-settings';
import { loadProjectStackConfig } from '../../pipeline/stack-config';
import { CliError, EXIT } from '../exit-codes';
import { formatBytes } from '../progress-view';
import { type CaptureOptions, parseCaptureOptions } from '../capture-options';
import type { Io } from '../io';
import { fileSizeOf } from '../video-files';
import { ASSUMPTIONS, type Estimate, type RunSettings, type VideoFacts, estimateRun } from './cost-model';
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

  const video = await probeVideo(path);
  const frame = await measureSampleFrames({
    videoPath: path,
    durationMs: video.durationMs,
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
  };
  const estimate = estimateRun(video, settings, frame, prices);
  const context = {
    video: { file: basename(path), ...video },
    capture: { fps: formatFrameRate(fps), quality, maxCaptures },
    measured: { ...frame, processorMsGiven: msPerFrame !== undefined },
    region,
    prices: { file: pricesPath, asOf: table.asOf, currency: table.currency, rates: prices },
    settings,
    assumptions: ASSUMPTIONS,
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

async function probeVideo(path: string): Promise<VideoFacts> {
  const bytes = fileSizeOf(path);
  const probe = await probeMedia(path);
  if (!probe) throw new CliError(`${path} is not a video ffmpeg can read.`, EXIT.usage);
  if (!probe.video) throw new CliError(`${path} has no video stream (audio only?): there would be no frames.`, EXIT.usage);
  if (probe.durationMs <= 0) throw new CliError(`${path} does not say how long it is; ffmpeg found no duration.`, EXIT.usage);
  return {
    durationMs: probe.durationMs,
    width: probe.video.width,
    height: probe.video.height,
    frameRate: probe.video.frameRate ?? 30,
    bytes,
  };
}

const usd = (value: number) => (value >= 1 ? `$${value.toFixed(2)}` : `$${value.toFixed(4)}`);
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
    video: VideoFacts & { file: string };
    capture: { fps: string; quality: number; maxCaptures: number };
    measured: { jpegBytes: number; processorMs: number; processorMsGiven: boolean; sampled: number };
    region: string;
    prices: { file: string; asOf: string };
    settings: RunSettings;
  },
  estimate: Estimate,
): string {
  const { video, capture, measured } = context;
  const row = (label: string, detail: string, cost?: number) => `  ${label.padEnd(13)} ${detail.padEnd(66)} ${cost === undefined ? '' : usd(cost)}`.trimEnd();
  const time = estimate.wallTime;
  return [
    `${video.file}: ${video.width}x${video.height}, ${video.frameRate} fps, ${formatDuration(video.durationMs / 1000)}, ${formatBytes(video.bytes)}; ` +
      `captured at ${capture.fps} fps, quality ${capture.quality}`,
    `Estimated for ${context.region} with the prices of ${context.prices.asOf} (${context.prices.file})`,
    '',
    row('frames', `${count(estimate.frames)} JPEGs of ~${formatBytes(measured.jpegBytes)}, in ${plural(estimate.batches, 'batch', 'batches')}`),
    row(
      'MediaConvert',
      `${estimate.mediaConvert.outputMinutes.toFixed(2)} output min: ${estimate.mediaConvert.outputs.map((o) => `${o.output} ${o.rateClass}`).join(', ')}`,
      estimate.mediaConvert.usd,
    ),
    row('S3 requests', `${count(estimate.s3.writeRequests)} PUT/LIST, ${count(estimate.s3.readRequests)} GET/HEAD`, estimate.s3.requestsUsd),
    row('S3 storage', `${estimate.s3.storageGbMonths.toFixed(4)} GB-month (frames kept ${context.settings.framesRetentionDays} days, video and results a month)`, estimate.s3.storageUsd),
    row('Lambda', `${count(estimate.lambda.requests)} requests, ${estimate.lambda.gbSeconds.toFixed(1)} GB-s (processor ${measured.processorMs.toFixed(1)} ms/frame${measured.processorMsGiven ? ', given' : ', measured here'})`, estimate.lambda.usd),
    row('SQS', `${count(estimate.sqs.requests)} requests`, estimate.sqs.usd),
    row('DynamoDB', `${plural(estimate.dynamodb.writeUnits, 'write unit')}, ${plural(estimate.dynamodb.readUnits, 'read unit')}`, estimate.dynamodb.usd),
    row('total', '', estimate.totalUsd),
    '',
    `  wall time     ~${formatDuration(time.totalSeconds)}: extraction ${formatDuration(time.extractionSeconds)}, fan-out ${formatDuration(time.fanOutSeconds)}, ` +
      `processing ${formatDuration(time.processingSeconds)} on ${plural(time.workers, 'worker')}, fan-in ${formatDuration(time.fanInSeconds)}`,
    '',
    'Not included: CloudWatch Logs, data transfer out of AWS, free tiers and volume discounts. Every figure is explained in the README ("frames estimate").',
  ].join('\n');
}
