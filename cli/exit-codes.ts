/** Exit codes of every `frames` command, documented in `frames --help` and the README. */
export const EXIT = {
  /** The command did what was asked (for run: every video COMPLETE). */
  ok: 0,
  /** A job FAILED (its error is printed). */
  jobFailed: 1,
  /** The command line or an input file is wrong; nothing was started. */
  usage: 2,
  /** The job or the local cloud could not be found or reached, or something else went wrong. */
  environment: 3,
} as const;

/** An error the CLI reports as one plain line with its exit code, without a stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
