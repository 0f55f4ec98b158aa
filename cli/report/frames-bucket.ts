import { readFileSync } from 'node:fs';
import { runningCloud } from '../../local/cloud/cloud-description';
import type { StackTarget } from '../stack-target';

/** Names the frames bucket of a stack given by environment variables (the outputs file has `frames_bucket`). */
export const FRAMES_BUCKET_ENV = 'FRAMES_FRAMES_BUCKET';

/**
 * The frames bucket, where the report's thumbnails come from. The other commands never read it, so
 * the stack target does not carry it: locally it is the running cloud's (the command has opened
 * one by now); for a deployed stack, the outputs file's `frames_bucket` (the file was already
 * checked when the target was found), or $FRAMES_FRAMES_BUCKET. Undefined when nothing names it:
 * the report then says so in place of the thumbnails.
 */
export function framesBucketOf(target: StackTarget, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (target.kind === 'local') return runningCloud(target.dataDirectory)?.resources.framesBucket;
  if (env[FRAMES_BUCKET_ENV]) return env[FRAMES_BUCKET_ENV];
  // A stack named by environment variables has no file to read (`source` says so): nothing is found.
  try {
    const stacks = Object.values(JSON.parse(readFileSync(target.source, 'utf8')) as Record<string, Record<string, unknown>>);
    const bucket = stacks.find((stack) => stack?.pipeline_name === target.pipelineName)?.frames_bucket;
    return typeof bucket === 'string' && bucket !== '' ? bucket : undefined;
  } catch {
    return undefined;
  }
}
