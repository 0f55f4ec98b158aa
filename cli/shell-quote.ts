import { dataDirectoryOf } from './pipeline-connection';
import type { TargetOptions } from './stack-target';

/** Quotes a word for a POSIX shell when it needs it, so a command the CLI prints can be pasted. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A `npx frames <command> <video id>` line to paste, with the flags that reach the same pipeline
 * as the command that prints it (what `upload` prints to follow a video, what `watch` prints for
 * its report).
 */
export function framesCommandLine(command: string, videoId: string, options: TargetOptions): string {
  const target = options.stackOutputs
    ? ` --stack-outputs ${shellQuote(options.stackOutputs)}`
    : `${options.local ? ' --local' : ''}${options.dataDirectory === dataDirectoryOf(undefined) ? '' : ` --data-dir ${shellQuote(options.dataDirectory)}`}`;
  return `npx frames ${command} ${shellQuote(videoId)}${target}`;
}
