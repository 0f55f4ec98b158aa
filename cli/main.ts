import { Command } from 'commander';
import { FaultPlanError } from '../local/faults/fault-plan';
import { DataDirectoryInUseError } from '../local/cloud/cloud-description';
import { clipCommand } from './commands/clip';
import { demoCommand } from './commands/demo';
import { estimateCommand } from './commands/estimate';
import { listCommand } from './commands/list';
import { addStreamCommand } from './commands/local-add-stream';
import { localUpCommand } from './commands/local-up';
import { redriveCommand } from './commands/redrive';
import { reportCommand } from './commands/report';
import { resultsCommand } from './commands/results';
import { runCommand } from './commands/run';
import { statusCommand } from './commands/status';
import { uploadCommand } from './commands/upload';
import { watchCommand } from './commands/watch';
import { CliError, EXIT } from './exit-codes';
import type { Io } from './io';
import { cloudAlreadyRunning } from './pipeline-connection';

/** `frames`: one file per command under cli/commands/; this file only assembles them and maps errors to exit codes. */

const EXIT_HELP = `
Exit codes:
  0  done (run: every video COMPLETE)
  1  a job FAILED; its error code and message are printed
  2  bad command line or input file; nothing was started
  3  job, stack, credentials or local cloud not found, or another problem (function logs: <data dir>/logs)`;

export function program(io: Io = { stdout: process.stdout, stderr: process.stderr }): Command {
  const frames = new Command('frames')
    .description('Video frame pipeline: every frame (or N a second) of a video, processed in parallel.')
    .addHelpText('after', EXIT_HELP)
    .showHelpAfterError()
    .exitOverride();
  // addCommand, unlike command(), does not pass the parent's settings on: copy them, so every
  // subcommand's usage errors reach main() (exitOverride) with the help shown.
  const add = (parent: Command, command: Command) => parent.addCommand(command.copyInheritedSettings(parent));
  for (const command of [runCommand, demoCommand, clipCommand, uploadCommand, statusCommand, watchCommand, listCommand, resultsCommand, reportCommand, redriveCommand, estimateCommand]) {
    add(frames, command(io));
  }
  const local = new Command('local').description('The local cloud: S3, DynamoDB, SQS, MediaConvert, Kinesis Video Streams and EventBridge on this machine');
  add(frames, local);
  add(local, localUpCommand(io));
  add(local, addStreamCommand(io));
  return frames;
}

/** Runs the command line and sets the exit code; errors a person can act on are one line, never a stack trace. */
export async function main(argv: readonly string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<void> {
  try {
    await program(io).parseAsync(argv as string[]);
  } catch (error) {
    const commander = error as { code?: string; exitCode?: number };
    if (commander.code?.startsWith('commander.')) {
      // Help and version exit 0; a bad command line has already been explained by commander.
      process.exitCode = commander.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    const plain = asCliError(error);
    if (plain) {
      io.stderr.write(`frames: ${plain.message}\n`);
      process.exitCode = plain.exitCode;
      return;
    }
    io.stderr.write(`frames: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = EXIT.environment;
  }
}

/** The errors from local/ that are a person's to fix, as the CLI's own (local/ cannot throw those). */
function asCliError(error: unknown): CliError | undefined {
  if (error instanceof CliError) return error;
  if (error instanceof FaultPlanError) return new CliError(error.message, EXIT.usage);
  // Another cloud started on the same data directory between our check and our start.
  if (error instanceof DataDirectoryInUseError) return cloudAlreadyRunning(error.dataDirectory, error.running);
  return undefined;
}
