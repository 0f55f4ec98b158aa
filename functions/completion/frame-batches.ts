import type { FrameRate } from '../../pipeline/capture-settings';
import { type ClipSegment, producerTimestampAt } from '../../pipeline/clip-timeline';
import { type FrameBatchMessage, FRAME_MESSAGE_VERSION, MAX_FRAME_MESSAGE_BYTES } from '../../pipeline/frame-message';
import { captureKey, frameTimestampMs } from '../../pipeline/run-layout';
import type { JobRecord } from '../../pipeline/job-record';

export interface FanOutPlan {
  readonly videoId: string;
  readonly runId: string;
  readonly bucket: string;
  /**
   * The captures' keys up to `.NNNNNNN.jpg` (directory, base name and name modifier), as the
   * COMPLETE event's last capture path shows them: capture n is `<captureNamePrefix>.NNNNNNN.jpg`.
   */
  readonly captureNamePrefix: string;
  readonly totalFrames: number;
  readonly framesPerBatch: number;
  readonly fps: FrameRate;
  /** KVS clips: where the clip's stretches of stream start, so each frame gets its producer time. */
  readonly clipTimeline?: readonly ClipSegment[];
  /**
   * A segment of a segmented run: the run-wide index of this output's capture 0, and the number
   * of its first batch. Keys keep the job's own numbering; indices, timestamps and batch numbers
   * are the run's.
   */
  readonly firstIndex?: number;
  readonly firstBatch?: number;
}

/**
 * What every fan-out of a run shares, from its record: the run, where and how its captures are
 * named, the batch size and the capture rate (and a clip's timeline). The caller adds how many
 * captures this output holds and, for a segment, where they start in the run.
 */
export function runFanOutOf(
  record: JobRecord,
  bucket: string,
  captureNamePrefix: string,
  framesPerBatch: number,
): Omit<FanOutPlan, 'totalFrames' | 'firstIndex' | 'firstBatch'> {
  return {
    videoId: record.VideoId,
    runId: record.RunId,
    bucket,
    captureNamePrefix,
    framesPerBatch,
    fps: { numerator: record.FpsNumerator ?? 1, denominator: record.FpsDenominator ?? 1 },
    ...(record.ClipTimeline ? { clipTimeline: record.ClipTimeline } : {}),
  };
}

export function batchCountOf(totalFrames: number, framesPerBatch: number): number {
  return Math.ceil(totalFrames / framesPerBatch);
}

/**
 * The frame queue's messages for a run, made one at a time as they are sent: batch b holds frames
 * [b * framesPerBatch, (b + 1) * framesPerBatch). Keys are MediaConvert's names, derived from
 * the name prefix, so nothing from the listing has to be kept.
 */
export function* frameBatchMessages(plan: FanOutPlan): Generator<FrameBatchMessage> {
  const batches = batchCountOf(plan.totalFrames, plan.framesPerBatch);
  const firstIndex = plan.firstIndex ?? 0;
  for (let batch = 0; batch < batches; batch += 1) {
    const first = batch * plan.framesPerBatch;
    const last = Math.min(first + plan.framesPerBatch, plan.totalFrames);
    const frames = [];
    for (let capture = first; capture < last; capture += 1) {
      const index = firstIndex + capture;
      const timestampMs = frameTimestampMs(index, plan.fps);
      frames.push({
        key: captureKey(plan.captureNamePrefix, capture),
        index,
        timestampMs,
        ...(plan.clipTimeline?.length ? { producerTimestampMs: producerTimestampAt(plan.clipTimeline, timestampMs) } : {}),
      });
    }
    const message: FrameBatchMessage = {
      version: FRAME_MESSAGE_VERSION,
      videoId: plan.videoId,
      runId: plan.runId,
      bucket: plan.bucket,
      batch: (plan.firstBatch ?? 0) + batch,
      frames,
    };
    assertFits(message);
    yield message;
  }
}

/**
 * Keys are bounded (a storage prefix of at most 93 characters), so 1,000 frames fit in 256 KiB;
 * this check makes a future change that breaks that fail loudly instead of being refused by SQS.
 */
function assertFits(message: FrameBatchMessage): void {
  const bytes = Buffer.byteLength(JSON.stringify(message));
  if (bytes > MAX_FRAME_MESSAGE_BYTES) {
    throw new RangeError(
      `Frame batch ${message.batch} of ${message.videoId} is ${bytes} bytes, over the ${MAX_FRAME_MESSAGE_BYTES}-byte message limit; lower processing.framesPerMessage.`,
    );
  }
}
