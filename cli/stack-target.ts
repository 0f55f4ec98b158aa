import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, EXIT } from './exit-codes';

/**
 * Which pipeline a command talks to: the local cloud on a data directory, or a deployed stack
 * found from its Terraform outputs or from environment variables. Deployed stacks are reached
 * with the standard AWS credential chain (environment, profile, SSO, instance or task role).
 */
export type StackTarget = LocalTarget | DeployedTarget;

export interface LocalTarget {
  readonly kind: 'local';
  readonly dataDirectory: string;
}

export interface DeployedTarget {
  readonly kind: 'deployed';
  /** Where the stack was found, for messages: the outputs file, or "environment variables". */
  readonly source: string;
  /** Undefined when it comes from the environment variables: the SDK's own region chain decides. */
  readonly region?: string;
  readonly pipelineName: string;
  readonly ingressBucket: string;
  readonly egressBucket: string;
  readonly jobTable: string;
}

/** The file the README's deploy command writes (`cdktf deploy --outputs-file stack-outputs.json`). */
export const DEFAULT_OUTPUTS_FILE = 'stack-outputs.json';

/** The environment variables that name a deployed stack without an outputs file. */
export const STACK_ENV = {
  outputsFile: 'FRAMES_STACK_OUTPUTS',
  ingressBucket: 'FRAMES_INGRESS_BUCKET',
  egressBucket: 'FRAMES_EGRESS_BUCKET',
  jobTable: 'FRAMES_JOB_TABLE',
  pipelineName: 'FRAMES_PIPELINE_NAME',
} as const;

export interface TargetOptions {
  readonly local?: boolean;
  readonly stackOutputs?: string;
  readonly dataDirectory: string;
}

/**
 * Finds the stack, first match wins: `--local`; `--stack-outputs FILE`; `$FRAMES_STACK_OUTPUTS`;
 * `$FRAMES_INGRESS_BUCKET` + `$FRAMES_EGRESS_BUCKET` + `$FRAMES_JOB_TABLE`; `./stack-outputs.json`;
 * otherwise the local cloud.
 */
export function resolveTarget(options: TargetOptions, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): StackTarget {
  const local: LocalTarget = { kind: 'local', dataDirectory: options.dataDirectory };
  if (options.local) {
    if (options.stackOutputs) throw new CliError('--local and --stack-outputs contradict each other; give one.', EXIT.usage);
    return local;
  }
  if (options.stackOutputs) return deployedStackOf(options.stackOutputs);
  if (env[STACK_ENV.outputsFile]) return deployedStackOf(env[STACK_ENV.outputsFile]!);
  const named = [STACK_ENV.ingressBucket, STACK_ENV.egressBucket, STACK_ENV.jobTable].filter((name) => env[name]);
  if (named.length > 0) {
    const missing = [STACK_ENV.ingressBucket, STACK_ENV.egressBucket, STACK_ENV.jobTable].filter((name) => !env[name]);
    if (missing.length > 0) {
      throw new CliError(`${named.join(' and ')} name a deployed stack, but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set. Set all three, or none.`, EXIT.usage);
    }
    return {
      kind: 'deployed',
      source: 'environment variables',
      pipelineName: env[STACK_ENV.pipelineName] || 'frames',
      ingressBucket: env[STACK_ENV.ingressBucket]!,
      egressBucket: env[STACK_ENV.egressBucket]!,
      jobTable: env[STACK_ENV.jobTable]!,
    };
  }
  const defaultFile = resolve(cwd, DEFAULT_OUTPUTS_FILE);
  if (existsSync(defaultFile)) return deployedStackOf(defaultFile);
  return local;
}

const REQUIRED_OUTPUTS = ['region', 'pipeline_name', 'ingress_bucket', 'egress_bucket', 'job_table'] as const;

/**
 * The deployed stack as `cdktf deploy --outputs-file` describes it: `{ "<stack>": { outputs } }`,
 * each output a plain string.
 */
export function deployedStackOf(path: string): DeployedTarget {
  let outputs: unknown;
  try {
    outputs = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CliError(`Cannot read the stack outputs ${path}: ${reason}. Write it with: cdktf deploy --outputs-file ${path}`, EXIT.usage);
  }
  const stacks = Object.entries((outputs ?? {}) as Record<string, Record<string, unknown>>).filter(
    ([, stack]) => typeof stack === 'object' && stack !== null && typeof stack.pipeline_name === 'string',
  );
  if (stacks.length !== 1) {
    throw new CliError(`${path} should hold the outputs of one frame pipeline stack; it holds ${stacks.length}.`, EXIT.usage);
  }
  const [name, stack] = stacks[0];
  const missing = REQUIRED_OUTPUTS.filter((output) => typeof stack[output] !== 'string' || stack[output] === '');
  if (missing.length > 0) {
    throw new CliError(
      `The outputs of stack ${name} in ${path} lack ${missing.join(', ')}. Redeploy with this version (cdktf deploy --outputs-file ${path}).`,
      EXIT.usage,
    );
  }
  return {
    kind: 'deployed',
    source: path,
    region: stack.region as string,
    pipelineName: stack.pipeline_name as string,
    ingressBucket: stack.ingress_bucket as string,
    egressBucket: stack.egress_bucket as string,
    jobTable: stack.job_table as string,
  };
}
