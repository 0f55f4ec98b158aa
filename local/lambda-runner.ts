import { type ChildProcess, fork } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { RouteTarget } from './event-router';

/** What a local function gets: its bundle, its environment, and how many may run at once. */
export interface LocalFunctionOptions {
  readonly name: string;
  readonly arn: string;
  /** Directory holding the bundle's index.js, built by pipeline/bundle.ts as for the cloud. */
  readonly bundleDirectory: string;
  /** The complete environment: the function's own variables plus local endpoints and credentials. */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly maxConcurrency: number;
  /** Where the function's stdout and stderr (its structured logs) are appended. */
  readonly logFile: string;
}

/** An invocation that failed: the handler threw, timed out or its process died. */
export class FunctionError extends Error {
  override readonly name = 'FunctionError';
  constructor(
    readonly functionName: string,
    readonly errorType: string,
    message: string,
  ) {
    super(`${functionName}: ${errorType}: ${message}`);
  }
}

interface Environment {
  readonly process: ChildProcess;
  busy: boolean;
  readonly ready: Promise<void>;
}

/**
 * Runs one function's bundle the way Lambda does: each invocation in an execution environment (a
 * child process) that handles one invocation at a time and is reused while warm; at most
 * `maxConcurrency` environments; an invocation over the timeout has its environment killed, as
 * Lambda does, and fails with "Task timed out".
 */
export class LambdaRunner implements RouteTarget {
  private readonly environments: Environment[] = [];
  private readonly waiting: Array<() => void> = [];
  private readonly log: WriteStream;
  private nextId = 0;
  private stopped = false;

  constructor(private readonly options: LocalFunctionOptions) {
    this.log = createWriteStream(options.logFile, { flags: 'a' });
  }

  get name(): string {
    return this.options.name;
  }

  get arn(): string {
    return this.options.arn;
  }

  async invoke(event: unknown): Promise<unknown> {
    const environment = await this.acquire();
    try {
      return await this.run(environment, event);
    } finally {
      environment.busy = false;
      this.waiting.shift()?.();
    }
  }

  /** Kills every environment running an invocation now (fault injection: a process that dies mid-invocation). */
  async killBusy(): Promise<void> {
    await Promise.all(this.environments.filter((environment) => environment.busy).map((environment) => terminate(environment.process)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.environments.map((environment) => terminate(environment.process)));
    this.environments.length = 0;
    await new Promise<void>((resolve) => this.log.end(resolve));
  }

  private async acquire(): Promise<Environment> {
    for (;;) {
      if (this.stopped) throw new FunctionError(this.name, 'Stopped', 'the local cloud is shutting down');
      const idle = this.environments.find((environment) => !environment.busy);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (this.environments.length < this.options.maxConcurrency) {
        const environment = this.start();
        environment.busy = true;
        return environment;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private start(): Environment {
    const { options } = this;
    const child = fork(join(__dirname, 'lambda-host.js'), [], {
      env: {
        ...options.environment,
        AWS_LAMBDA_FUNCTION_NAME: options.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb),
        FRAMES_LOCAL_FUNCTION_ARN: options.arn,
        FRAMES_LOCAL_BUNDLE: join(options.bundleDirectory, 'index.js'),
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    const environment: Environment = {
      process: child,
      busy: false,
      ready: new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('exit', (code) => reject(new FunctionError(options.name, 'Runtime.ExitError', `init failed (exit code ${code}); see ${options.logFile}`)));
      }),
    };
    environment.ready.catch(() => undefined);
    child.once('exit', () => {
      const index = this.environments.indexOf(environment);
      if (index >= 0) this.environments.splice(index, 1);
      this.waiting.shift()?.();
    });
    this.environments.push(environment);
    return environment;
  }

  private async run(environment: Environment, event: unknown): Promise<unknown> {
    const { options } = this;
    await environment.ready;
    const id = this.nextId++;
    const child = environment.process;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        void terminate(child);
        reject(new FunctionError(options.name, 'Sandbox.Timedout', `Task timed out after ${options.timeoutSeconds} seconds`));
      }, options.timeoutSeconds * 1000);
      const onMessage = (message: { id?: number; ok?: boolean; result?: unknown; error?: { errorType: string; errorMessage: string } }) => {
        if (message.id !== id) return;
        cleanup();
        if (message.ok) resolve(message.result);
        else reject(new FunctionError(options.name, message.error!.errorType, message.error!.errorMessage));
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        reject(new FunctionError(options.name, 'Runtime.ExitError', `the process exited (${signal ?? `code ${code}`}) during the invocation; see ${options.logFile}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ id, event, deadline: Date.now() + options.timeoutSeconds * 1000 });
    });
  }
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
