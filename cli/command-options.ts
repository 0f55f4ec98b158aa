import { type Command, Option } from 'commander';
import { CliError, EXIT } from './exit-codes';
import { dataDirectoryOf } from './pipeline-connection';
import type { TargetOptions } from './stack-target';

/** The options several commands share, defined once so their wording and defaults cannot drift. */

export const dataDirOption = () =>
  new Option('--data-dir <dir>', 'local cloud data: objects, job table, logs, results').env('FRAMES_DATA_DIR').default('.frames');

const TARGET_HELP = `
Which pipeline (first match wins):
  --local                      the local cloud on --data-dir
  --stack-outputs <file>       the deployed stack in a \`cdktf deploy --outputs-file\` file
  $FRAMES_STACK_OUTPUTS        the same, from the environment
  $FRAMES_INGRESS_BUCKET, $FRAMES_EGRESS_BUCKET, $FRAMES_JOB_TABLE (+ $FRAMES_PIPELINE_NAME)
                               a deployed stack named by its resources, in $AWS_REGION
  ./stack-outputs.json         the outputs file the README's deploy command writes
  otherwise                    the local cloud on --data-dir
A deployed stack is reached with the standard AWS credential chain (AWS_PROFILE, SSO, keys, roles).`;

/** The options that choose the pipeline a command talks to (cli/stack-target.ts). */
export function targetOptions(command: Command): Command {
  return command
    .option('--stack-outputs <file>', 'the deployed stack this `cdktf deploy --outputs-file` file describes')
    .option('--local', 'the local cloud, even if a deployed stack is configured')
    .addOption(dataDirOption())
    .addHelpText('after', TARGET_HELP);
}

/** The flags `targetOptions` adds, as commander hands them over. */
export interface TargetFlags {
  readonly stackOutputs?: string;
  readonly local?: boolean;
  readonly dataDir?: string;
  readonly json?: boolean;
}

export const targetOf = (flags: TargetFlags): TargetOptions & { readonly json?: boolean } => ({
  stackOutputs: flags.stackOutputs,
  local: flags.local,
  json: flags.json,
  dataDirectory: dataDirectoryOf(flags.dataDir),
});

/** `--fps`, `--quality`, `--max-captures`: parsed later by capture-options.ts with the pipeline's rules. */
export function captureOptions(command: Command): Command {
  return command
    .option('--fps <rate>', 'frames captured per second: N, N/D (30000/1001) or a decimal (0.5); default: the stack config')
    .option('--quality <q>', 'JPEG quality 1..100 (MediaConvert scale); default: the stack config')
    .option('--max-captures <n>', 'capture at most this many frames');
}

/** A commander parser for a whole-number option within bounds: a usage error (exit 2) otherwise. */
export function wholeNumber(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < min || number > max) {
      throw new CliError(`${flag} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}.`, EXIT.usage);
    }
    return number;
  };
}
