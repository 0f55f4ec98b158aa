/**
 * The local S3 server in its own process (bundled and forked by local/s3-server.ts): PUTs of
 * thousands of frames are CPU work best kept off the process that runs the event router, the
 * pollers and the MediaConvert endpoint. Events of the buckets that notify are sent to the parent
 * over IPC; the others (65,000 frames) cost nothing.
 */
import { createServer } from 'node:http';
import { type ObjectEvent, ObjectStore } from './object-store';
import { s3RequestHandler } from './s3-api';

export interface S3ServerProcessOptions {
  readonly directory: string;
  readonly buckets: readonly string[];
  readonly notifyBuckets: readonly string[];
  readonly port?: number;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly region: string;
}

export type S3ServerMessage =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'event'; readonly event: ObjectEvent };

const send = (message: S3ServerMessage) => process.send?.(message);

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]) as S3ServerProcessOptions;
  const notify = new Set(options.notifyBuckets);
  const store = await ObjectStore.open(options.directory, options.buckets, (event) => {
    if (notify.has(event.bucket)) send({ type: 'event', event });
  });
  const server = createServer({ keepAliveTimeout: 30_000 }, s3RequestHandler({ store, credentials: options.credentials, region: options.region }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const address = server.address();
  send({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
  const stop = () => {
    server.close();
    server.closeAllConnections();
    void store.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  // The parent going away (even by SIGKILL) closes the IPC channel: stop with it.
  process.on('disconnect', stop);
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: (error as Error)?.message ?? String(error) });
  process.exit(1);
});
