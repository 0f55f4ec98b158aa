/**
 * What a run leaves in the egress bucket (ARCHITECTURE.md, "Fan-in"): `results.jsonl`, one
 * `FrameResult` a line ordered by index, and `summary.json`, a `RunSummary`. Public contracts:
 * users' scripts read them, so fields are only ever added.
 *
 * Functions import this file: it has no dependencies.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface FrameError {
  /** The error's class name, e.g. `Error`, `FrameMissing`, `DeadLettered`. */
  readonly name: string;
  readonly message: string;
}

/** One line of results.jsonl: the processor's output for the frame, or why there is none. */
export interface FrameResult {
  readonly index: number;
  readonly timestampMs: number;
  /** KVS clips: the stream's producer time of this frame, in ms since the epoch. */
  readonly producerTimestampMs?: number;
  readonly key: string;
  readonly output?: JsonValue;
  readonly error?: FrameError;
}

/** summary.json lists at most this many failed frames; results.jsonl names every one. */
export const SUMMARY_FAILED_FRAMES_LIMIT = 1000;

export interface RunSummary {
  readonly videoId: string;
  readonly runId: string;
  /** The upload; for a KVS clip, where its pieces are, plus `stream`. */
  readonly source: {
    readonly bucket: string;
    readonly key: string;
    readonly etag?: string;
    readonly stream?: {
      readonly stream: string;
      readonly start: string;
      readonly end: string;
      readonly timestampType: string;
      /** Producer time (ISO) of the first frame; each result line has its own `producerTimestampMs`. */
      readonly firstProducerTimestamp?: string;
      readonly fragments?: number;
      readonly pieces?: number;
    };
  };
  readonly settings: {
    readonly fps: string;
    readonly fpsNumerator: number;
    readonly fpsDenominator: number;
    readonly quality: number;
    readonly maxCaptures: number;
    readonly framesPerBatch: number;
  };
  readonly frames: {
    readonly total: number;
    readonly processed: number;
    readonly failed: number;
    readonly width?: number;
    readonly height?: number;
  };
  readonly durationMs?: number;
  readonly results: { readonly bucket: string; readonly key: string };
  /** ISO times of each step, and milliseconds spent in each stage between them. */
  readonly timings: {
    readonly createdAt: string;
    readonly submittedAt?: string;
    readonly extractedAt?: string;
    readonly fanInStartedAt?: string;
    readonly completedAt: string;
    readonly stagesMs: {
      /** Upload event to MediaConvert job created. */
      readonly submit?: number;
      /** MediaConvert job created to frames counted. */
      readonly extract?: number;
      /** Frames counted to the last batch counted (the fan-in's start). */
      readonly process?: number;
      readonly fanIn?: number;
      readonly total: number;
    };
  };
  /** The first SUMMARY_FAILED_FRAMES_LIMIT failed frames, by index. */
  readonly failedFrames: readonly (Pick<FrameResult, 'index' | 'key'> & { readonly error: FrameError })[];
}

/** Results as JSON Lines: one object a line, each line ending in a newline. */
export function toJsonLines(results: readonly FrameResult[]): string {
  return results.map((result) => `${JSON.stringify(result)}\n`).join('');
}
