import { shellQuote } from '../pipeline/shell-quote';
import { dataDirectoryOf } from './pipeline-connection';
import type { TargetOptions } from './stack-target';

// One quoting for the CLI's printed commands and the functions' messages (pipeline/shell-quote.ts).
export { shellQuote };

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
