import { ConfigurationError } from './errors';

/** Reads a variable the stack must set; a missing one fails the cold start, naming it. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigurationError(`Environment variable ${name} is not set; the stack must set it.`);
  }
  return value;
}

/**
 * A positive number the stack must set: a whole one (counts, seconds), or, with `fractional`,
 * any (a segment's minimum seconds). A bad one fails the cold start, naming it and its value.
 */
export function requirePositiveEnv(name: string, env: NodeJS.ProcessEnv = process.env, options: { fractional?: boolean } = {}): number {
  const value = Number(requireEnv(name, env));
  const valid = options.fractional ? Number.isFinite(value) && value > 0 : Number.isInteger(value) && value >= 1;
  if (!valid) {
    throw new ConfigurationError(
      `Environment variable ${name} must be a positive ${options.fractional ? 'number' : 'whole number'}, got ${JSON.stringify(env[name])}`,
    );
  }
  return value;
}
