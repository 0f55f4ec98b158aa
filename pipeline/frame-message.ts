/**
 * The frame queue's message: a public, versioned contract (ARCHITECTURE.md, "Queue message").
 * Users may attach their own consumers to the queue, so a change of shape is a new version, never
 * an edit of this one.
 *
 * Functions import this file: it has no dependencies.
 */

export const FRAME_MESSAGE_VERSION = 1;

export interface FrameReference {
  /** Key of the JPEG in `bucket`. */
  readonly key: string;
  /** 0-based capture index: MediaConvert's `.NNNNNNN` suffix. */
  readonly index: number;
  /** Milliseconds from the start of the video. */
  readonly timestampMs: number;
  /**
   * KVS clips only: the stream's producer timestamp of this frame, in ms since the epoch, so
   * results line up with telemetry recorded by the camera. Added within version 1: optional.
   */
  readonly producerTimestampMs?: number;
}

export interface FrameBatchMessage {
  readonly version: typeof FRAME_MESSAGE_VERSION;
  readonly videoId: string;
  readonly runId: string;
  /** The frames bucket. */
  readonly bucket: string;
  /** 0-based batch number; batch b holds frames [b * FramesPerBatch, (b + 1) * FramesPerBatch). */
  readonly batch: number;
  readonly frames: readonly FrameReference[];
}

/**
 * SQS takes up to 1 MiB a message since 2025 and 256 KiB before. Messages stay under the older
 * limit so consumers and tools written against it keep working.
 */
export const MAX_FRAME_MESSAGE_BYTES = 256 * 1024;
