import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../pipeline/bundle';
import type { BucketName } from '../../pipeline/permissions';
import type { StackConfig } from '../../pipeline/stack-config';
import type { EventRuleSpec } from '../../pipeline/topology';
import { type LocalDynamoServer, startDynamoServer } from '../dynamo-server';
import { startEventsServer } from '../events-server';
import type { RequestGate } from '../iam/request-gate';
import { type JsonProtocolGateOptions, startJsonProtocolGate } from '../iam/json-protocol-gate';
import { startKvsServer } from '../kvs/kvs-server';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../local-identity';
import type { ObjectEvent } from '../s3/object-store';
import { startLocalServices } from '../services-host';
import { startSqsServer } from '../sqs-server';
import type { LocalEndpoints } from './cloud-description';
import type { ServicesFaults } from './fault-wiring';

export interface LocalServers {
  readonly endpoints: LocalEndpoints;
  /** dynalite itself, for the dynamodb-throttle fault. */
  readonly dynamo: LocalDynamoServer;
  stop(): Promise<void>;
}

/**
 * The six local services on 127.0.0.1, each behind the same IAM the stack deploys: our S3 server
 * and MediaConvert endpoint (one child process, which builds its own gate from the definition),
 * dynalite and the SQS server behind a gate that checks signatures and grants before forwarding,
 * and the KVS and EventBridge endpoints with the gate in them.
 */
export async function startLocalServers(options: {
  readonly dataDirectory: string;
  readonly config: StackConfig;
  readonly buckets: Readonly<Record<BucketName, string>>;
  readonly rules: readonly EventRuleSpec[];
  readonly gate: RequestGate;
  readonly enforce: boolean;
  readonly ports?: Partial<Record<keyof LocalEndpoints, number>>;
  readonly faults: ServicesFaults;
  readonly onS3Event: (event: ObjectEvent) => void;
  readonly onMediaConvertEvent: (event: object) => void;
  readonly publishEvent: (event: object) => void;
  /** Fault injection on the SQS endpoint (JsonProtocolGateOptions.interrupt). */
  readonly interruptSqs?: JsonProtocolGateOptions['interrupt'];
}): Promise<LocalServers> {
  const { dataDirectory, ports, gate } = options;
  const identity = { region: LOCAL_REGION, account: LOCAL_ACCOUNT_ID };
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const each of stops.reverse()) await each().catch(() => undefined);
    stops.length = 0;
  };
  try {
    const dynamo = await startDynamoServer({ directory: join(dataDirectory, 'dynamodb') });
    stops.push(() => dynamo.stop());
    const dynamoGate = await startJsonProtocolGate({ service: 'dynamodb', upstream: dynamo.endpoint, gate, port: ports?.dynamodb });
    stops.push(() => dynamoGate.stop());
    const sqs = await startSqsServer();
    stops.push(() => sqs.stop());
    const sqsGate = await startJsonProtocolGate({ service: 'sqs', upstream: sqs.endpoint, gate, port: ports?.sqs, interrupt: options.interruptSqs });
    stops.push(() => sqsGate.stop());
    // The services process's script is built for this machine, beside the function bundles.
    const services = await startLocalServices({
      buildDirectory: bundleRootOf(dataDirectory),
      s3: {
        directory: join(dataDirectory, 's3'),
        buckets: Object.values(options.buckets),
        // Only the ingress bucket sends its events to EventBridge, as in the stack.
        notifyBuckets: [options.buckets.ingress],
        port: ports?.s3,
      },
      mediaConvert: {
        workDirectory: join(dataDirectory, 'mediaconvert'),
        port: ports?.mediaconvert,
        // A job's ffmpeg keeps about two cores busy (decode and JPEG encode threads: 1.8 measured
        // on 720p), so one job per two cores. More at once only share the cores, finish together
        // and leave nothing to overlap: a segmented 60 s 720p run took 29.1 s with two jobs at
        // once on two cores, 26.3 s one after the other, the first segment's frames processed
        // while the second is extracted. Jobs beyond the limit wait in the queue, as in AWS.
        maxConcurrentJobs: Math.max(1, Math.floor(availableParallelism() / 2)),
        statusUpdateIntervalMs: 2_000,
      },
      access: { config: options.config, buckets: options.buckets, rules: options.rules, dataDirectory, enforce: options.enforce },
      identity,
      faults: options.faults,
      onS3Event: options.onS3Event,
      onMediaConvertEvent: options.onMediaConvertEvent,
    });
    stops.push(() => services.stop());
    const kvs = await startKvsServer({ dataDirectory, port: ports?.kinesisvideo, gate });
    stops.push(() => kvs.stop());
    const events = await startEventsServer({ identity, publish: options.publishEvent, port: ports?.events, gate });
    stops.push(() => events.stop());
    return {
      endpoints: {
        s3: services.s3Endpoint,
        dynamodb: dynamoGate.endpoint,
        sqs: sqsGate.endpoint,
        mediaconvert: services.mediaConvertEndpoint,
        kinesisvideo: kvs.endpoint,
        events: events.endpoint,
      },
      dynamo,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Where a data directory's bundles and services script are built: one folder per data directory. */
export const bundleRootOf = (dataDirectory: string) =>
  join(PROJECT_ROOT, '.build', 'local', createHash('sha256').update(dataDirectory).digest('hex').slice(0, 12));
