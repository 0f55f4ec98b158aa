import {
  type CaptureSettings,
  InvalidCaptureSettingError,
  formatFrameRate,
  parseFrameRate,
  parseMaxCaptures,
  parseQuality,
} from '../pipeline/capture-settings';
import { OVERRIDE_METADATA } from '../pipeline/definition';
import { CliError, EXIT } from './exit-codes';

/** `--fps`, `--quality` and `--max-captures` as typed (run, demo, upload, clip, estimate). */
export interface CaptureOptions {
  readonly fps?: string;
  readonly quality?: string;
  readonly maxCaptures?: string;
}

/**
 * The capture options given on the command line, parsed with the pipeline's own parsers so a typo
 * fails at once (exit 2) with the same message the job would record.
 */
export function parseCaptureOptions(options: CaptureOptions): Partial<CaptureSettings> {
  try {
    return {
      ...(options.fps !== undefined ? { fps: parseFrameRate(options.fps) } : {}),
      ...(options.quality !== undefined ? { quality: parseQuality(options.quality) } : {}),
      ...(options.maxCaptures !== undefined ? { maxCaptures: parseMaxCaptures(options.maxCaptures) } : {}),
    };
  } catch (error) {
    if (error instanceof InvalidCaptureSettingError) throw new CliError(error.message, EXIT.usage);
    throw error;
  }
}

/** The capture overrides as the S3 object metadata the ingress function reads. */
export function overrideMetadata(options: CaptureOptions): Record<string, string> {
  const { fps, quality, maxCaptures } = parseCaptureOptions(options);
  const metadata: Record<string, string> = {};
  if (fps !== undefined) metadata[OVERRIDE_METADATA.fps] = formatFrameRate(fps);
  if (quality !== undefined) metadata[OVERRIDE_METADATA.quality] = String(quality);
  if (maxCaptures !== undefined) metadata[OVERRIDE_METADATA.maxCaptures] = String(maxCaptures);
  return metadata;
}
