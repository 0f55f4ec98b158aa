import { existsSync } from 'node:fs';
/**
 * The local S3 server and MediaConvert endpoint in one child process (forked by
 * local/services-host.ts). Together, because MediaConvert writes every frame to S3: in one process
 * a frame is written straight to the store, where over HTTP each of 1,800 frames cost about a
 * millisecond of CPU on each side, as much as ffmpeg spends encoding it (measured, issue 4). Apart
 * from the CLI's process, because those writes and ffmpeg's output are CPU work best kept off the
 * process that runs the event router, the pollers and DynamoDB.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalMediaConvert } from './mediaconvert/mediaconvert-service';
import { startMediaConvertServer } from './mediaconvert/mediaconvert-server';
import { type ObjectEvent, ObjectStore } from './s3/object-store';
import { handleExpectations, s3RequestHandler } from './s3/s3-api';
import { authorizedStoreAccess } from './s3/store-access';
import { recordInjectedFault } from './faults/fault-plan';
import { requestGate } from './iam/request-gate';
import type { ServicesFaults } from './cloud/fault-wiring';

export interface ServicesProcessOptions {
  readonly s3: {
    /** Where objects are stored. */
    readonly directory: string;
    readonly buckets: readonly string[];
    /** Buckets whose object events are sent to the parent (the ingress bucket, as in the stack). */
    readonly notifyBuckets: readonly string[];
    readonly port?: number;
  };
  readonly mediaConvert: {
    /** Scratch space for each job's input copy and video output. */
    readonly workDirectory: string;
    readonly port?: number;
    readonly maxConcurrentJobs: number;
    readonly statusUpdateIntervalMs: number;
  };
  /** What this process's gate is built from: the stack's grants with local ARNs (local/iam/request-gate.ts). */
  readonly access: Parameters<typeof requestGate>[0];
  readonly identity: { readonly region: string; readonly account: string };
  /** Fault injection (local/faults/fault-plan.ts); none by default. */
  readonly faults?: ServicesFaults;
}

export type ServicesMessage =
  | { readonly type: 'ready'; readonly s3Port: number; readonly mediaConvertEndpoint: string }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 's3-event'; readonly event: ObjectEvent }
  | { readonly type: 'mediaconvert-event'; readonly event: object };

const send = (message: ServicesMessage) => process.send?.(message);

/** Frames stored at once per job; a store write is a synchronous file write, so a few suffice. */
const FRAME_WRITE_CONCURRENCY = 4;

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]) as ServicesProcessOptions;
  const notify = new Set(options.s3.notifyBuckets);
  const store = await ObjectStore.open(options.s3.directory, options.s3.buckets, (event) => {
    if (notify.has(event.bucket)) send({ type: 's3-event', event });
  });
  // Every request is checked against the stack's own grants, as the signer's principal.
  const gate = requestGate(options.access);
  const handleS3 = s3RequestHandler({ store, keys: (accessKeyId) => gate.secretOf(accessKeyId), gate, region: options.identity.region });
  const outage = options.faults?.s3Outage;
  let outageStarted = false;
  const s3 = createServer({ keepAliveTimeout: 30_000 }, (request, response) => {
    if (outage && !outageStarted && request.method === 'GET' && request.url?.startsWith(`/${outage.bucket}/`)) {
      outageStarted = true;
      recordInjectedFault(options.faults!.stateDirectory, 's3-outage', `refusing connections for ${outage.ms} ms from GET ${request.url}`);
      refuseConnections(s3, outage.ms);
      return;
    }
    handleS3(request, response);
  });
  // Expect: 100-continue only once the signature is checked, and other Expect values as S3 answers them.
  handleExpectations(s3);
  await new Promise<void>((resolve, reject) => {
    s3.once('error', reject);
    s3.listen(options.s3.port ?? 0, '127.0.0.1', resolve);
  });

  const mediaConvert = new LocalMediaConvert({
    // MediaConvert reads its input and writes its outputs as the role the job passed: the stack's
    // MediaConvert role, held to its grants (only a run's frames/ and proxy/, never batches/).
    storage: authorizedStoreAccess(store, gate, 'mediaConvert'),
    workDirectory: options.mediaConvert.workDirectory,
    identity: options.identity,
    emit: (event) => send({ type: 'mediaconvert-event', event }),
    maxConcurrentJobs: options.mediaConvert.maxConcurrentJobs,
    statusUpdateIntervalMs: options.mediaConvert.statusUpdateIntervalMs,
    uploadConcurrency: FRAME_WRITE_CONCURRENCY,
    failFirstJob:
      options.faults?.mediaConvertErrorAfterFrames === undefined
        ? undefined
        : {
            afterFrames: options.faults.mediaConvertErrorAfterFrames,
            onFailed: (jobId: string) => recordInjectedFault(options.faults!.stateDirectory, 'mediaconvert-error', `job ${jobId}`),
          },
  });
  const availableFile = options.faults?.mediaConvertAvailableFile;
  const mediaConvertServer = await startMediaConvertServer(mediaConvert, {
    port: options.mediaConvert.port,
    gate,
    identity: options.identity,
    unavailable: availableFile
      ? () => {
          if (existsSync(availableFile)) return undefined;
          recordInjectedFault(options.faults!.stateDirectory, 'mediaconvert-unavailable', 'CreateJob answered 500');
          return `MediaConvert is unavailable (fault injection: mediaconvert-unavailable, until ${availableFile} exists).`;
        }
      : undefined,
  });

  send({ type: 'ready', s3Port: (s3.address() as AddressInfo).port, mediaConvertEndpoint: mediaConvertServer.endpoint });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    s3.close();
    s3.closeAllConnections();
    void Promise.allSettled([mediaConvertServer.stop(), mediaConvert.stop()])
      .then(() => store.close())
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  // The parent going away (even by SIGKILL) closes the IPC channel: stop with it.
  process.on('disconnect', stop);
}

/**
 * The s3-outage fault: every open connection is dropped (the request that triggered it too) and
 * the port stops accepting, so clients see resets and then ECONNREFUSED, until it listens again
 * on the same port `ms` later.
 */
function refuseConnections(server: Server, ms: number): void {
  const { port } = server.address() as AddressInfo;
  server.close();
  server.closeAllConnections();
  setTimeout(() => server.listen(port, '127.0.0.1'), ms).unref();
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: (error as Error)?.message ?? String(error) });
  process.exit(1);
});
