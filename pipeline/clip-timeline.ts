/**
 * A KVS clip's timeline: where each stretch of the stream lands in the clip. MediaConvert stitches
 * the clip's pieces end to end, so the clip has no gaps even where the stream had some (a camera
 * that stopped sending). Each segment is a stretch without gaps: the clip time it starts at and
 * the producer time of its first frame. A frame at clip time t is in the last segment that starts
 * at or before t, so its producer time is that segment's plus (t - segment's offset).
 *
 * The ingress function writes it to the job record (`ClipTimeline`); the completion function puts
 * each frame's producer time in the queue messages, and so in results.jsonl. Functions import this.
 */

export interface ClipSegment {
  /** Milliseconds into the clip where this stretch starts. */
  readonly OffsetMs: number;
  /** The stream's producer timestamp of the stretch's first frame, in ms since the epoch. */
  readonly ProducerTimestampMs: number;
}

/** The producer timestamp (ms since the epoch) of the frame at `timestampMs` into the clip. */
export function producerTimestampAt(timeline: readonly ClipSegment[], timestampMs: number): number {
  let segment = timeline[0];
  // Segments are few (one per gap in the stream), so a linear walk is cheap.
  for (const candidate of timeline) {
    if (candidate.OffsetMs > timestampMs) break;
    segment = candidate;
  }
  return segment.ProducerTimestampMs + (timestampMs - segment.OffsetMs);
}
