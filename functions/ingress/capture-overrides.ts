import { RejectedInputError } from '../shared/errors';
import {
  type CaptureSettings,
  InvalidCaptureSettingError,
  parseFrameRate,
  parseMaxCaptures,
  parseQuality,
} from '../../pipeline/capture-settings';
import { OVERRIDE_METADATA } from '../../pipeline/definition';
import { ERROR_CODE } from '../../pipeline/job-record';

/**
 * The capture settings for one upload: the stack's defaults, overridden by the object's user
 * metadata (`fps`, `quality`, `max-captures`). Every bad override is reported at once, so a person
 * fixes them in one go; other metadata is the uploader's own business and is ignored.
 */
export function resolveCaptureSettings(
  metadata: Readonly<Record<string, string>>,
  defaults: CaptureSettings,
): CaptureSettings {
  const problems: string[] = [];
  const read = <T>(name: string, parse: (text: string) => T, fallback: T): T => {
    const text = metadata[name];
    if (text === undefined) return fallback;
    try {
      return parse(text);
    } catch (error) {
      if (!(error instanceof InvalidCaptureSettingError)) throw error;
      problems.push(error.message);
      return fallback;
    }
  };

  const settings: CaptureSettings = {
    fps: read(OVERRIDE_METADATA.fps, parseFrameRate, defaults.fps),
    quality: read(OVERRIDE_METADATA.quality, parseQuality, defaults.quality),
    maxCaptures: read(OVERRIDE_METADATA.maxCaptures, parseMaxCaptures, defaults.maxCaptures),
  };
  if (problems.length > 0) {
    throw new RejectedInputError(
      ERROR_CODE.invalidOverride,
      `${problems.join(' ')} Fix the object metadata and upload the video again.`,
    );
  }
  return settings;
}
