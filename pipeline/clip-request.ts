/**
 * The clip request contract: "split this time range of a Kinesis video stream into frames". A
 * public contract (people send it from their own code), so fields are only ever added.
 *
 * Delivered to the ingress function either directly (Lambda Invoke with the request as payload) or
 * as an EventBridge custom event on the default bus:
 *
 *   { "source": "video-frame-pipeline", "detail-type": "Clip Requested",
 *     "detail": { "pipeline": "<namePrefix>", ...ClipRequest } }
 *
 * `detail.pipeline` names the stack that should take it, so two stacks in one account never both
 * act on one request. Functions import this file: its one dependency is zod/mini.
 */
import * as z from 'zod/mini';

export const CLIP_REQUEST_EVENT = { source: 'video-frame-pipeline', detailType: 'Clip Requested' } as const;

export const TIMESTAMP_TYPES = ['PRODUCER_TIMESTAMP', 'SERVER_TIMESTAMP'] as const;
export type TimestampType = (typeof TIMESTAMP_TYPES)[number];

/** KVS's own ceiling for one GetClip/ListFragments range (ClipTimestampRange: "within 24 hours"). */
export const MAX_CLIP_RANGE_MS = 24 * 60 * 60 * 1000;

/** Stream names as KVS allows them; ARNs as KVS issues them. */
const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,256}$/;
const STREAM_ARN = /^arn:aws[a-z-]*:kinesisvideo:[a-z0-9-]+:\d{12}:stream\/([a-zA-Z0-9_.-]{1,256})\/\d+$/;

const captureValue = z.union([z.string(), z.number()]);

/** The request's shape. Meaning (dates, order, range) is checked by `checkClipRequest`. */
export const clipRequestSchema = z.object({
  /** The stream's name or ARN. */
  stream: z.string().check(z.minLength(1)),
  /** ISO 8601 with a zone, e.g. 2026-11-21T08:00:30Z. */
  start: z.string(),
  end: z.string(),
  timestampType: z.optional(z.enum(TIMESTAMP_TYPES)),
  /** Capture overrides, as the upload path's object metadata takes them. */
  capture: z.optional(
    z.object({
      fps: z.optional(captureValue),
      quality: z.optional(captureValue),
      maxCaptures: z.optional(captureValue),
    }),
  ),
  /** Default: `kvs/<stream name>/<start>--<end>` in normalised ISO form. */
  videoId: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
  /**
   * Makes a direct invocation idempotent: the same request id is the same run. EventBridge
   * deliveries use the event's id; direct invocations without one use Lambda's request id, which
   * Lambda's own retries keep.
   */
  requestId: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
});

export type ClipRequest = z.infer<typeof clipRequestSchema>;

export const clipRequestEventSchema = z.object({
  id: z.string().check(z.minLength(1)),
  source: z.literal(CLIP_REQUEST_EVENT.source),
  'detail-type': z.literal(CLIP_REQUEST_EVENT.detailType),
  detail: z.object({ pipeline: z.string() }),
});

/** A clip request whose meaning has been checked. */
export interface CheckedClipRequest {
  /** As given: a name or an ARN (the KVS APIs take either). */
  readonly stream: { readonly name: string; readonly arn?: string };
  readonly startMs: number;
  readonly endMs: number;
  readonly timestampType: TimestampType;
  readonly videoId: string;
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Milliseconds since the epoch of an ISO 8601 time with a zone, or undefined. */
export function parseIsoTime(text: string): number | undefined {
  if (!ISO_WITH_ZONE.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

export function streamOf(stream: string): { name: string; arn?: string } | undefined {
  const arn = STREAM_ARN.exec(stream);
  if (arn) return { name: arn[1], arn: stream };
  return STREAM_NAME.test(stream) ? { name: stream } : undefined;
}

/** The video id a clip gets when the request names none: readable, and the same for the same range. */
export function defaultClipVideoId(streamName: string, startMs: number, endMs: number): string {
  return `kvs/${streamName}/${new Date(startMs).toISOString()}--${new Date(endMs).toISOString()}`;
}

/**
 * Checks what the schema cannot: a usable stream, real times with zones, end after start, and a
 * range KVS accepts. Returns every problem at once, each saying what to change.
 */
export function checkClipRequest(request: ClipRequest): { request?: CheckedClipRequest; problems: string[] } {
  const problems: string[] = [];
  const stream = streamOf(request.stream);
  if (!stream) {
    problems.push(
      `stream ${JSON.stringify(request.stream)} is neither a stream name (letters, digits, "_", "." and "-", at most 256) nor a Kinesis video stream ARN.`,
    );
  }
  const startMs = parseIsoTime(request.start);
  const endMs = parseIsoTime(request.end);
  if (startMs === undefined) problems.push(`start ${JSON.stringify(request.start)} is not an ISO 8601 time with a zone, e.g. 2026-11-21T08:00:30Z.`);
  if (endMs === undefined) problems.push(`end ${JSON.stringify(request.end)} is not an ISO 8601 time with a zone, e.g. 2026-11-21T08:01:15Z.`);
  if (startMs !== undefined && endMs !== undefined) {
    if (endMs <= startMs) problems.push(`end (${request.end}) must be later than start (${request.start}).`);
    else if (endMs - startMs > MAX_CLIP_RANGE_MS) {
      problems.push(`the range is ${((endMs - startMs) / 3_600_000).toFixed(2)} hours; Kinesis Video Streams clips at most 24 hours at a time, so request it in parts.`);
    }
  }
  if (problems.length > 0 || !stream || startMs === undefined || endMs === undefined) return { problems };
  return {
    problems,
    request: {
      stream,
      startMs,
      endMs,
      timestampType: request.timestampType ?? 'PRODUCER_TIMESTAMP',
      videoId: request.videoId ?? defaultClipVideoId(stream.name, startMs, endMs),
    },
  };
}
