import { type Capture, captureOfPath } from '../../pipeline/run-layout';
import type { CompletedOutput } from './job-state-events';

/**
 * The frame-capture output of a finished job, found by its path alone: MediaConvert lists only the
 * last capture (`<base name><name modifier>.NNNNNNN.jpg`), and the proxy MP4 may be in the same
 * output group, before or after it, even in the same folder (the seed design's template wrote
 * `video.mp4` beside `video.NNNNNNN.jpg`).
 *
 * - captured: the last capture, so the naming (name prefix) and the count (index + 1);
 * - nothing-captured: no output names a capture and one output lists no file (a frame capture that
 *   captured nothing), or the job lists no outputs at all;
 * - unrecognised: the outputs list files, but none is a capture this run can read (why, for a person).
 */
export type FrameOutput =
  | { readonly kind: 'captured'; readonly last: Capture; readonly lastPath: string; readonly output: CompletedOutput }
  | { readonly kind: 'nothing-captured' }
  | { readonly kind: 'unrecognised'; readonly reason: string };

/** At most this many paths are quoted in a message. */
const QUOTED_PATHS = 5;
const LOOKS_LIKE_AN_IMAGE = /\.jpe?g$/i;

export function frameOutputOf(
  outputs: readonly CompletedOutput[],
  frames: { readonly bucket: string; readonly prefix: string },
): FrameOutput {
  const framesLocation = `s3://${frames.bucket}/${frames.prefix}`;
  const captures = outputs.flatMap((output) =>
    output.paths.flatMap((path) => {
      const capture = captureOfPath(path);
      return capture ? [{ capture, path, output }] : [];
    }),
  );

  if (captures.length > 0) {
    const namings = new Set(captures.map(({ capture }) => `s3://${capture.bucket}/${capture.namePrefix}`));
    if (namings.size > 1) {
      return {
        kind: 'unrecognised',
        reason:
          `it lists captures of ${namings.size} frame-capture outputs (${quoted(captures.map(({ path }) => path))}); ` +
          'the pipeline processes the frames of one frame-capture output per job',
      };
    }
    const last = captures.reduce((latest, next) => (next.capture.index > latest.capture.index ? next : latest));
    if (last.capture.bucket !== frames.bucket || !last.capture.namePrefix.startsWith(frames.prefix)) {
      return {
        kind: 'unrecognised',
        reason: `it wrote the frames to ${last.path}, outside this run's frames location ${framesLocation}, where the frame workers read them`,
      };
    }
    return { kind: 'captured', last: last.capture, lastPath: last.path, output: last.output };
  }

  const paths = outputs.flatMap((output) => output.paths);
  const images = paths.filter((path) => LOOKS_LIKE_AN_IMAGE.test(path));
  if (images.length > 0) {
    return {
      kind: 'unrecognised',
      reason: `its JPEG output path${images.length > 1 ? 's' : ''} (${quoted(images)}) ${images.length > 1 ? 'are' : 'is'} not named <base name><name modifier>.NNNNNNN.jpg (a 7-digit counter from 0)`,
    };
  }
  if (outputs.length === 0 || outputs.some((output) => output.paths.length === 0)) return { kind: 'nothing-captured' };
  return {
    kind: 'unrecognised',
    reason: `none of its output paths (${quoted(paths)}) is a frame capture named <base name><name modifier>.NNNNNNN.jpg (a 7-digit counter from 0)`,
  };
}

function quoted(paths: readonly string[]): string {
  const shown = paths.slice(0, QUOTED_PATHS).join(', ');
  return paths.length > QUOTED_PATHS ? `${shown} and ${paths.length - QUOTED_PATHS} more` : shown;
}
