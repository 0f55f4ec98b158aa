/**
 * The processor contract. A processor is a module that exports `processFrame`; the stack
 * configuration's `processing.processor` names the file, and the frame worker is built with it
 * (esbuild resolves `@frames/processor` to that file), so a user drops in their own: an ML
 * model call, a detector, anything that looks at one JPEG.
 *
 *     // my-processor.ts
 *     import type { ProcessFrame } from './functions/frame-worker/frame-processor';
 *     export const processFrame: ProcessFrame = async (frame, image) => {
 *       return { objects: await myModel.detect(image), at: frame.timestampMs };
 *     };
 *
 * Rules: return something JSON can represent (it becomes the `output` of the frame's line in
 * results.jsonl); throw to say the frame failed (it is tried three times in all, then recorded
 * with the error's name and message and counted in FailedFrames). Keep state (a loaded model) at
 * module level: the worker calls processFrame for many frames per container.
 */
import type { JsonValue } from '../../pipeline/results-format';

export interface FrameToProcess {
  readonly videoId: string;
  readonly runId: string;
  /** Frames bucket and key of the JPEG. */
  readonly bucket: string;
  readonly key: string;
  /** 0-based capture index. */
  readonly index: number;
  /** Milliseconds from the start of the video. */
  readonly timestampMs: number;
  /** KVS clips only: the stream's producer timestamp of the frame, in ms since the epoch. */
  readonly producerTimestampMs?: number;
}

export type ProcessFrame = (frame: FrameToProcess, image: Buffer) => Promise<JsonValue>;
