import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import type { ObjectEvent } from './s3/object-store';
import type { S3ServerMessage, S3ServerProcessOptions } from './s3/s3-server-process';

export interface LocalS3Server {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts the local S3 server (local/s3/) on 127.0.0.1 in a child process, objects stored under
 * `directory` (so a 65,000-frame video never sits in memory). Events of `notifyBuckets` go to
 * `onEvent`. The child is TypeScript bundled with esbuild into `buildDirectory` first (about 50 ms),
 * since a forked process does not inherit the CLI's tsx hook.
 */
export async function startS3Server(options: Omit<S3ServerProcessOptions, 'directory'> & {
  readonly directory: string;
  readonly buildDirectory: string;
  readonly onEvent: (event: ObjectEvent) => void;
}): Promise<LocalS3Server> {
  mkdirSync(options.directory, { recursive: true });
  mkdirSync(options.buildDirectory, { recursive: true });
  const script = join(options.buildDirectory, 's3-server.js');
  buildSync({
    entryPoints: [join(__dirname, 's3', 's3-server-process.ts')],
    outfile: `${script}.tmp`,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'error',
  });
  renameSync(`${script}.tmp`, script);
  const { onEvent, buildDirectory: _, ...processOptions } = options;
  const child: ChildProcess = fork(script, [JSON.stringify(processOptions satisfies S3ServerProcessOptions)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`The local S3 server exited with code ${code} before it was ready`)));
    child.on('message', (message: S3ServerMessage) => {
      if (message.type === 'ready') resolve(message.port);
      else if (message.type === 'failed') reject(new Error(`The local S3 server failed to start: ${message.message}`));
      else onEvent(message.event);
    });
  });
  child.removeAllListeners('exit');
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}
