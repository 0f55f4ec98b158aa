import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** An S3 notification record as s3rver emits it: the key is NOT URL-encoded (real S3 encodes it). */
export interface S3rverRecord {
  readonly eventName: string;
  readonly eventTime: string;
  readonly s3: {
    readonly bucket: { readonly name: string };
    readonly object: { readonly key: string; readonly size?: number; readonly eTag?: string; readonly sequencer: string };
  };
}

export interface LocalS3Server {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts s3rver on 127.0.0.1 in a child process, objects stored under `directory` (so a
 * 65,000-frame video never sits in memory), with the given buckets. Object events go to `onRecord`.
 */
export async function startS3Server(options: {
  readonly directory: string;
  readonly buckets: readonly string[];
  readonly port?: number;
  readonly onRecord: (record: S3rverRecord) => void;
}): Promise<LocalS3Server> {
  mkdirSync(options.directory, { recursive: true });
  const child: ChildProcess = fork(
    join(__dirname, 's3-server-process.js'),
    [JSON.stringify({ directory: options.directory, buckets: options.buckets, port: options.port })],
    { execArgv: ['--openssl-legacy-provider'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`The local S3 server exited with code ${code} before it was ready`)));
    child.on('message', (message: { type: string; port?: number; message?: string; event?: { Records: S3rverRecord[] } }) => {
      if (message.type === 'ready') resolve(message.port!);
      else if (message.type === 'failed') reject(new Error(`The local S3 server failed to start: ${message.message}`));
      else if (message.type === 'event') for (const record of message.event!.Records) options.onRecord(record);
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
