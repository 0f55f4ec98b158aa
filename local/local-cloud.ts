import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PROJECT_ROOT, bundleFunctions } from '../pipeline/bundle';
import { FAILURE_QUEUE_SETTINGS, frameQueueSettings } from '../pipeline/definition';
import { type StackConfig, loadProjectStackConfig } from '../pipeline/stack-config';
import {
  type FunctionKey,
  type PipelineResources,
  pipelineNames,
  pipelineTopology,
  resourceName,
  runtimeEnvironment,
} from '../pipeline/topology';
import { ensureJobTable, startDynamoServer } from './dynamo-server';
import { EventRouter } from './event-router';
import { LambdaRunner } from './lambda-runner';
import { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_REGION } from './local-identity';
import { QueuePoller } from './queue-poller';
import { objectCreatedEvent } from './s3-events';
import { startLocalServices } from './services-host';
import { startSqsServer } from './sqs-server';
import { startEventsServer } from './events-server';
import { startKvsServer } from './kvs/kvs-server';
import {
  FAULTS_VARIABLE,
  FAULT_SETTINGS,
  FAULT_STATE_VARIABLE,
  type FaultName,
  type FaultPlan,
  needsFaultyProcessor,
  parseFaultPlan,
  recordInjectedFault,
} from './faults/fault-plan';

export interface LocalCloudOptions {
  /** Where objects, the job table, scratch space and logs live (default `.frames`). */
  readonly dataDirectory: string;
  /** The stack configuration; default: frames.config.json (or FRAMES_CONFIG) as for `cdktf synth`. */
  readonly config?: StackConfig;
  /** Overrides the configuration's processor module for this cloud's frame worker. */
  readonly processor?: string;
  /** Fixed ports (for `frames local up`); 0 or unset picks free ones. */
  readonly ports?: Partial<Record<keyof LocalEndpoints, number>>;
  /** Lines worth a person's attention: failed invocations, retries given up. */
  readonly onWarning?: (message: string) => void;
  /**
   * Whether other commands may use this cloud: true for `frames local up`, which runs until
   * stopped; false for a cloud a single command starts and stops when it is done.
   */
  readonly shared?: boolean;
  /** Faults to inject (local/faults/fault-plan.ts); default: the FRAMES_FAULTS variable, else none. */
  readonly faults?: FaultPlan;
}

export interface LocalEndpoints {
  readonly s3: string;
  readonly dynamodb: string;
  readonly sqs: string;
  readonly mediaconvert: string;
  /** Kinesis Video Streams over the streams registered with `frames local add-stream`. */
  readonly kinesisvideo: string;
  /** EventBridge PutEvents on the default bus, into the local event router. */
  readonly events: string;
}

/** What a client needs to use a running local cloud; written to `<data>/cloud.json` while it runs. */
export interface LocalCloudDescription {
  readonly pid: number;
  /** Started by `frames local up` for anyone to use (see LocalCloudOptions.shared). */
  readonly shared: boolean;
  readonly region: string;
  readonly credentials: typeof LOCAL_CREDENTIALS;
  readonly endpoints: LocalEndpoints;
  readonly resources: PipelineResources & { readonly frameDeadLetterQueueUrl: string };
  readonly logDirectory: string;
  /** Faults being injected (local/faults/fault-plan.ts); empty unless FRAMES_FAULTS says so. */
  readonly faults: readonly FaultName[];
}

export interface LocalCloud extends LocalCloudDescription {
  readonly config: StackConfig;
  readonly clients: { readonly s3: S3Client; readonly dynamodb: DynamoDBDocumentClient; readonly sqs: SQSClient };
  stop(): Promise<void>;
}

/** Another local cloud already runs on this data directory (LevelDB allows one process). */
export class DataDirectoryInUseError extends Error {
  override readonly name = 'DataDirectoryInUseError';
  constructor(
    readonly dataDirectory: string,
    readonly running: LocalCloudDescription,
  ) {
    super(`A local cloud (pid ${running.pid}) is already using ${dataDirectory}`);
  }
}

export const CLOUD_FILE = 'cloud.json';

/** The frame worker's processor under fault injection, wrapping the configured one. */
const FAULTY_PROCESSOR = join(__dirname, 'faults', 'faulty-processor.ts');

/** Execution environments at once for a function invoked by events rather than a queue. */
const EVENT_TARGET_CONCURRENCY = 2;

/** The running cloud on a data directory, if its process is alive. */
export function runningCloud(dataDirectory: string): LocalCloudDescription | undefined {
  let description: LocalCloudDescription;
  try {
    description = JSON.parse(readFileSync(join(dataDirectory, CLOUD_FILE), 'utf8')) as LocalCloudDescription;
  } catch {
    return undefined;
  }
  try {
    process.kill(description.pid, 0);
    return description;
  } catch {
    return undefined;
  }
}

/** The standard SDK client settings for talking to a local cloud. */
export function localClientConfig(endpoint: string) {
  return {
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    // Checksums only where S3 requires them: the local S3 server neither needs nor checks the SDK's
    // flexible checksums, and computing them costs CPU on every request.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  } as const;
}

/**
 * Starts the whole pipeline on this machine: S3-, DynamoDB-, SQS-, MediaConvert-, KVS- and
 * EventBridge-compatible servers on 127.0.0.1, the resources the stack declares (named from the same topology), the
 * functions' deployable bundles in local execution environments, an event router applying the
 * stack's event patterns, and queue pollers with the stack's event source mapping settings.
 */
export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const dataDirectory = resolve(options.dataDirectory);
  mkdirSync(dataDirectory, { recursive: true });
  const already = runningCloud(dataDirectory);
  if (already) throw new DataDirectoryInUseError(dataDirectory, already);

  const baseConfig = options.config ?? loadProjectStackConfig();
  const config: StackConfig = options.processor
    ? { ...baseConfig, processing: { ...baseConfig.processing, processor: resolve(options.processor) } }
    : baseConfig;
  const warn = options.onWarning ?? (() => undefined);
  const faults = options.faults ?? parseFaultPlan(process.env[FAULTS_VARIABLE]);
  const faultState = join(dataDirectory, 'faults');
  if (faults.size > 0) mkdirSync(faultState, { recursive: true });
  const noteFault = (fault: FaultName) => (detail: string) => recordInjectedFault(faultState, fault, detail);
  const names = pipelineNames(config);
  const buckets = {
    ingress: resourceName(config, 'ingress'),
    frames: resourceName(config, 'frames'),
    egress: resourceName(config, 'egress'),
  };
  const logDirectory = join(dataDirectory, 'logs');
  mkdirSync(logDirectory, { recursive: true });
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    stops.length = 0;
  };

  try {
    let router: EventRouter | undefined;
    const identity = { region: LOCAL_REGION, account: LOCAL_ACCOUNT_ID };

    const dynamo = await startDynamoServer({ directory: join(dataDirectory, 'dynamodb'), port: options.ports?.dynamodb });
    stops.push(() => dynamo.stop());
    const sqsServer = await startSqsServer({ port: options.ports?.sqs });
    stops.push(() => sqsServer.stop());
    // The deployable bundles (and the services process's script) are built for this machine here.
    const bundleRoot = join(PROJECT_ROOT, '.build', 'local', createHash('sha256').update(dataDirectory).digest('hex').slice(0, 12));
    const services = await startLocalServices({
      buildDirectory: bundleRoot,
      s3: {
        directory: join(dataDirectory, 's3'),
        buckets: Object.values(buckets),
        // Only the ingress bucket sends its events to EventBridge, as in the stack.
        notifyBuckets: [buckets.ingress],
        port: options.ports?.s3,
      },
      mediaConvert: {
        workDirectory: join(dataDirectory, 'mediaconvert'),
        port: options.ports?.mediaconvert,
        maxConcurrentJobs: Math.max(1, availableParallelism()),
        statusUpdateIntervalMs: 2_000,
      },
      credentials: LOCAL_CREDENTIALS,
      identity,
      faults: {
        stateDirectory: faultState,
        s3Outage: faults.has('s3-outage') ? { bucket: buckets.frames, ms: FAULT_SETTINGS.s3OutageMs } : undefined,
        mediaConvertErrorAfterFrames: faults.has('mediaconvert-error') ? FAULT_SETTINGS.mediaConvertErrorAfterFrames : undefined,
      },
      onS3Event: (record) => {
        const event = objectCreatedEvent(record, identity);
        if (event) router?.publish(event);
      },
      onMediaConvertEvent: (event) => router?.publish(event),
    });
    stops.push(() => services.stop());

    const kvs = await startKvsServer({ dataDirectory, port: options.ports?.kinesisvideo });
    stops.push(() => kvs.stop());
    const events = await startEventsServer({ identity, publish: (event) => router?.publish(event), port: options.ports?.events });
    stops.push(() => events.stop());

    const s3 = new S3Client(localClientConfig(services.s3Endpoint));
    const dynamoClient = new DynamoDBClient(localClientConfig(dynamo.endpoint));
    const sqs = new SQSClient(localClientConfig(sqsServer.endpoint));
    stops.push(async () => [s3, dynamoClient, sqs].forEach((client) => client.destroy()));

    // The resources, as the stack declares them.
    await ensureJobTable(dynamoClient, names.jobTable);
    const settings = frameQueueSettings(config.processing);
    const deadLetterQueueUrl = await createQueue(sqs, names.frameDeadLetterQueue, {
      VisibilityTimeout: String(settings.deadLetterVisibilityTimeoutSeconds),
      MessageRetentionPeriod: String(settings.messageRetentionSeconds),
    });
    const deadLetterQueueArn = await queueArn(sqs, deadLetterQueueUrl);
    const frameQueueUrl = await createQueue(sqs, names.frameQueue, {
      VisibilityTimeout: String(faults.size > 0 ? FAULT_SETTINGS.redeliverySeconds : settings.visibilityTimeoutSeconds),
      MessageRetentionPeriod: String(settings.messageRetentionSeconds),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterQueueArn, maxReceiveCount: settings.maxReceiveCount }),
    });
    const failureQueueAttributes = { MessageRetentionPeriod: String(FAILURE_QUEUE_SETTINGS.messageRetentionSeconds) };
    const failureQueueUrls = {
      'ingress-failures': await createQueue(sqs, names.failureQueues['ingress-failures'], failureQueueAttributes),
      'completion-failures': await createQueue(sqs, names.failureQueues['completion-failures'], failureQueueAttributes),
    };

    const resources: LocalCloudDescription['resources'] = {
      ingressBucket: buckets.ingress,
      framesBucket: buckets.frames,
      egressBucket: buckets.egress,
      jobTable: names.jobTable,
      frameQueueUrl,
      frameDeadLetterQueueUrl: deadLetterQueueUrl,
      mediaConvertRoleArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${resourceName(config, 'mediaconvert')}`,
    };
    const topology = pipelineTopology(config, resources);
    const endpoints: LocalEndpoints = {
      s3: services.s3Endpoint,
      dynamodb: dynamo.endpoint,
      sqs: sqsServer.endpoint,
      mediaconvert: services.mediaConvertEndpoint,
      kinesisvideo: kvs.endpoint,
      events: events.endpoint,
    };

    // The deployable bundles, built for this machine (sharp resolves from the repository).
    const cores = Math.max(1, availableParallelism());
    // Queue consumers run as many at once as their mapping allows, up to the machine's cores;
    // functions invoked by events need few (a handful of uploads and job state changes).
    const concurrencyOf = (key: FunctionKey) => {
      const consumer = topology.queueConsumers.find((candidate) => candidate.target === key);
      return consumer ? Math.min(consumer.maximumConcurrency, cores) : EVENT_TARGET_CONCURRENCY;
    };
    const specs = Object.values(topology.functions);
    const configuredProcessor = topology.functions.frameWorker.processor;
    const wrapProcessor = needsFaultyProcessor(faults);
    const bundles = bundleFunctions(
      specs.map((spec) => ({ entry: spec.entry, outputDirectory: join(bundleRoot, spec.name) })),
      // Only the frame worker imports the processor module; the alias is harmless to the others.
      wrapProcessor
        ? { processor: FAULTY_PROCESSOR, innerProcessor: configuredProcessor, nativeTarget: 'host' }
        : { processor: configuredProcessor, nativeTarget: 'host' },
    );
    const runners = {} as Record<FunctionKey, LambdaRunner>;
    for (const [index, spec] of specs.entries()) {
      const bundle = bundles[index];
      runners[spec.key] = new LambdaRunner({
        name: spec.name,
        arn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${spec.name}`,
        bundleDirectory: bundle.directory,
        environment: {
          ...functionEndpoints(endpoints),
          ...runtimeEnvironment(spec),
          ...(spec.key === 'frameWorker' && wrapProcessor
            ? { [FAULTS_VARIABLE]: [...faults].join(','), [FAULT_STATE_VARIABLE]: faultState }
            : {}),
        },
        timeoutSeconds: spec.timeoutSeconds,
        memoryMb: spec.memoryMb,
        maxConcurrency: concurrencyOf(spec.key),
        logFile: join(logDirectory, `${spec.name}.log`),
      });
      stops.push(() => runners[spec.key].stop());
    }
    router = new EventRouter(
      topology.rules.map((rule) => ({
        rule,
        target: runners[rule.target],
        onFailure: async (record) => {
          await sqs.send(new SendMessageCommand({ QueueUrl: failureQueueUrls[rule.failureQueue], MessageBody: JSON.stringify(record) }));
        },
      })),
      { onError: warn, duplicate: faults.has('duplicate-delivery') ? noteFault('duplicate-delivery') : undefined },
    );

    const queueUrls = { frames: frameQueueUrl, 'frames-dead-letters': deadLetterQueueUrl };
    const queueArns = { frames: await queueArn(sqs, frameQueueUrl), 'frames-dead-letters': deadLetterQueueArn };
    for (const consumer of topology.queueConsumers) {
      const poller = new QueuePoller({
        sqs,
        queueUrl: queueUrls[consumer.queue],
        queueArn: queueArns[consumer.queue],
        region: LOCAL_REGION,
        batchSize: consumer.batchSize,
        concurrency: concurrencyOf(consumer.target),
        target: runners[consumer.target],
        onError: warn,
        duplicate: faults.has('duplicate-delivery') ? noteFault('duplicate-delivery') : undefined,
      });
      poller.start();
      stops.push(() => poller.stop());
    }

    // Last, so setting the resources up is never throttled.
    if (faults.has('dynamodb-throttle')) dynamo.throttleItemWrites(FAULT_SETTINGS.dynamoThrottleEvery, noteFault('dynamodb-throttle'));

    const description: LocalCloudDescription = {
      pid: process.pid,
      shared: options.shared ?? false,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoints,
      resources,
      logDirectory,
      faults: [...faults],
    };
    const cloudFile = join(dataDirectory, CLOUD_FILE);
    writeFileSync(cloudFile, `${JSON.stringify(description, null, 2)}\n`);
    stops.unshift(async () => rmSync(cloudFile, { force: true }));

    return {
      ...description,
      config,
      clients: { s3, dynamodb: DynamoDBDocumentClient.from(dynamoClient), sqs },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * What makes the functions' unmodified SDK clients talk to the local servers: the SDK's
 * service-specific endpoint variables, local credentials (never the user's own), and checksums only
 * where required (as localClientConfig). Nothing else of this process's environment is passed on.
 */
function functionEndpoints(endpoints: LocalEndpoints): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    TZ: 'UTC',
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_MEDIACONVERT: endpoints.mediaconvert,
    // The control plane; it answers GetDataEndpoint with itself, as KVS answers with its data plane.
    AWS_ENDPOINT_URL_KINESIS_VIDEO: endpoints.kinesisvideo,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  return QueueUrl!;
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return Attributes!.QueueArn!;
}
