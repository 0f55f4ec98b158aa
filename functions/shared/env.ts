import { ConfigurationError } from './errors';

/** Reads a variable the stack must set; a missing one fails the cold start, naming it. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigurationError(`Environment variable ${name} is not set; the stack must set it.`);
  }
  return value;
}
