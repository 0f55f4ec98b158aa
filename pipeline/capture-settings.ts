/**
 * Frame capture settings: the one place that says what a valid setting is.
 *
 * Used by the stack configuration (defaults, checked at synth time) and by the ingress function
 * (per-upload overrides from object metadata, checked at run time), so both accept exactly the same
 * values and explain a bad one with the same words.
 */

/** A capture rate as MediaConvert takes it: numerator/denominator frames per second. */
export interface FrameRate {
  readonly numerator: number;
  readonly denominator: number;
}

export interface CaptureSettings {
  readonly fps: FrameRate;
  /** JPEG quality, 1..100 as MediaConvert's FrameCaptureSettings.Quality. */
  readonly quality: number;
  /** Upper bound on the number of captures for one video. */
  readonly maxCaptures: number;
}

export const CAPTURE_LIMITS = {
  /** MediaConvert's range for FramerateNumerator and FramerateDenominator. */
  maxRateTerm: 2 ** 31 - 1,
  /**
   * The product's ceiling on the rate. High-speed action cameras record up to 240 fps; above that
   * frame capture only duplicates frames, so a higher value is almost certainly a typo.
   */
  maxFramesPerSecond: 240,
  minQuality: 1,
  maxQuality: 100,
  /**
   * MediaConvert allows 10,000,000 captures; the progress and fan-in contracts are sized and tested
   * for 1,000,000 frames per video (ARCHITECTURE.md), so that is the product's ceiling.
   */
  maxCaptures: 1_000_000,
} as const;

/** A capture setting a person supplied that cannot be used; `field` names what to fix. */
export class InvalidCaptureSettingError extends Error {
  override readonly name = 'InvalidCaptureSettingError';

  constructor(
    readonly field: 'fps' | 'quality' | 'maxCaptures',
    message: string,
  ) {
    super(message);
  }
}

const INTEGER = /^\d+$/;
const DECIMAL = /^(\d+)\.(\d{1,6})$/;
const RATIO = /^(\d+)\s*\/\s*(\d+)$/;

function greatestCommonDivisor(a: number, b: number): number {
  return b === 0 ? a : greatestCommonDivisor(b, a % b);
}

/**
 * Parses a capture rate: an integer (`5`), a ratio (`30000/1001`) or a decimal (`0.5`, `29.97`).
 * A decimal becomes an exact ratio in lowest terms (`0.5` → 1/2); a ratio is kept as written so
 * `30000/1001` stays the NTSC rate rather than a rounded one.
 */
export function parseFrameRate(text: string): FrameRate {
  const value = text.trim();
  const fail = (why: string): never => {
    throw new InvalidCaptureSettingError(
      'fps',
      `fps "${text}" ${why}. Use a whole number such as 5, a ratio such as 30000/1001, or a decimal such as 0.5.`,
    );
  };

  let numerator: number;
  let denominator: number;
  const ratio = RATIO.exec(value);
  const decimal = DECIMAL.exec(value);
  if (INTEGER.test(value)) {
    numerator = Number(value);
    denominator = 1;
  } else if (ratio) {
    numerator = Number(ratio[1]);
    denominator = Number(ratio[2]);
  } else if (decimal) {
    const scale = 10 ** decimal[2].length;
    numerator = Number(decimal[1]) * scale + Number(decimal[2]);
    denominator = scale;
    const divisor = greatestCommonDivisor(numerator, denominator) || 1;
    numerator /= divisor;
    denominator /= divisor;
  } else {
    return fail('is not a number');
  }

  if (denominator === 0) fail('has a zero denominator');
  if (numerator === 0) fail('must be greater than zero');
  if (numerator > CAPTURE_LIMITS.maxRateTerm || denominator > CAPTURE_LIMITS.maxRateTerm) {
    fail(`has a term above MediaConvert's limit of ${CAPTURE_LIMITS.maxRateTerm}`);
  }
  if (numerator / denominator > CAPTURE_LIMITS.maxFramesPerSecond) {
    fail(`is above ${CAPTURE_LIMITS.maxFramesPerSecond} frames per second`);
  }
  return { numerator, denominator };
}

function parseWholeNumber(
  text: string,
  field: 'quality' | 'maxCaptures',
  label: string,
  min: number,
  max: number,
): number {
  const value = text.trim();
  const number = Number(value);
  if (!INTEGER.test(value) || !Number.isSafeInteger(number) || number < min || number > max) {
    throw new InvalidCaptureSettingError(
      field,
      `${label} "${text}" must be a whole number from ${min} to ${max}.`,
    );
  }
  return number;
}

export function parseQuality(text: string): number {
  return parseWholeNumber(
    text,
    'quality',
    'quality',
    CAPTURE_LIMITS.minQuality,
    CAPTURE_LIMITS.maxQuality,
  );
}

export function parseMaxCaptures(text: string): number {
  return parseWholeNumber(text, 'maxCaptures', 'max-captures', 1, CAPTURE_LIMITS.maxCaptures);
}

export function formatFrameRate(fps: FrameRate): string {
  return fps.denominator === 1 ? `${fps.numerator}` : `${fps.numerator}/${fps.denominator}`;
}
