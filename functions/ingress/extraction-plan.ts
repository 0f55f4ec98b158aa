import type { CaptureSettings, FrameRate } from '../../pipeline/capture-settings';
import type { RunSegment } from '../../pipeline/job-record';
import { type SegmentPlan, planSegments } from '../../pipeline/segment-plan';
import type { ObjectStore } from '../shared/object-store';
import { probeVideo } from './video-probe';

export interface ExtractionSettings {
  readonly maxSegments: number;
  readonly minSegmentSeconds: number;
  /** Frames per queue message: each segment's batches are numbered from its own first. */
  readonly framesPerMessage: number;
}

/** How a run's frames are captured: by one job, or by one job per segment. */
export type ExtractionPlan =
  | { readonly kind: 'single'; readonly description: string }
  | {
      readonly kind: 'segmented';
      readonly description: string;
      /** The video's frame rate: the input clippings' timecodes count frames at it. */
      readonly sourceRate: FrameRate;
      readonly segments: readonly RunSegment[];
      /** The video track's length, from its header: the run's DurationMs (each job only knows its own). */
      readonly durationMs: number;
    };

/**
 * Plans the run's extraction from the video's own header: reads it with ranged GETs (never the
 * media; see video-probe.ts) and cuts segments where the capture grid meets the frame grid
 * (pipeline/segment-plan.ts). Anything the header does not settle is one job, as before.
 */
export async function planExtraction(
  objects: ObjectStore,
  object: { readonly bucket: string; readonly key: string; readonly etag: string; readonly size: number },
  capture: CaptureSettings,
  settings: ExtractionSettings,
): Promise<ExtractionPlan> {
  if (settings.maxSegments < 2) return { kind: 'single', description: 'one job: extraction.maxSegments is 1' };
  const probe = await probeVideo((start, end) => objects.readRange(object.bucket, object.key, object.etag, start, end), object.size);
  if (probe.kind !== 'mp4') return { kind: 'single', description: `one job: ${probe.reason}` };
  const { video } = probe;
  if (video.movieOutlastsVideo) {
    return { kind: 'single', description: 'one job: the movie lasts longer than its video track (audio outlasts the video)' };
  }
  const plan: SegmentPlan = planSegments({
    sourceRate: video.frameRate ?? { numerator: 1, denominator: 1 },
    sourceFrames: video.frames,
    constantFrameRate: video.constantFrameRate && video.frameRate !== undefined,
    captureRate: capture.fps,
    maxCaptures: capture.maxCaptures,
    minSegmentSeconds: settings.minSegmentSeconds,
    maxSegments: settings.maxSegments,
  });
  if (plan.kind === 'single') return { kind: 'single', description: `one job: ${plan.reason}` };

  let firstBatch = 0;
  const segments = plan.segments.map((segment): RunSegment => {
    const batchCount = Math.ceil(segment.captures / settings.framesPerMessage);
    const planned = {
      FirstCapture: segment.firstCapture,
      Captures: segment.captures,
      FirstSourceFrame: segment.firstSourceFrame,
      EndSourceFrame: segment.endSourceFrame,
      FirstBatch: firstBatch,
      BatchCount: batchCount,
    };
    firstBatch += batchCount;
    return planned;
  });
  const rate = video.frameRate!;
  return {
    kind: 'segmented',
    description:
      `${segments.length} segments, one MediaConvert job each, cut every ${plan.captureStride === 1 ? 'capture' : `${plan.captureStride} captures`} ` +
      `where the capture grid meets the ${rate.numerator}/${rate.denominator} fps frame grid (${plan.captures} captures in all)`,
    sourceRate: rate,
    segments,
    durationMs: Math.round((video.durationTicks * 1000) / video.timescale),
  };
}
