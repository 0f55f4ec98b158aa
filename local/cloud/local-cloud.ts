import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type StackConfig, loadProjectStackConfig } from '../../pipeline/stack-config';
import { pipelineNames, pipelineRules, pipelineTopology, resourceName } from '../../pipeline/topology';
import { FAULTS_VARIABLE, type FaultPlan, parseFaultPlan } from '../faults/fault-plan';
import { LOCAL_ADMIN_KEY, LOCAL_PRINCIPAL_KEYS, localMediaConvertRoleArn } from '../iam/local-principals';
import { type RequestGate, iamEnforced, requestGate } from '../iam/request-gate';
import { listStreams } from '../kvs/stream-registry';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../local-identity';
import { objectCreatedEvent } from '../s3-events';
import { CLOUD_FILE, DataDirectoryInUseError, type LocalCloudDescription, type LocalEndpoints, runningCloud } from './cloud-description';
import { type LocalClients, connectLocalCloud, localClientConfig } from './connect';
import { completionCrashInterrupt, faultWiring } from './fault-wiring';
import type { JsonProtocolGateOptions } from '../iam/json-protocol-gate';
import { OUTCOME_EVENT, type OutcomeEventDetail } from '../../pipeline/outcome-event';
import { startLocalFunctions } from './local-functions';
import { bundleRootOf, startLocalServers } from './local-servers';
import { provisionStackResources } from './stack-resources';

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
  /** Told of each "Video Frames Completed" / "Failed" event the pipeline puts on the bus. */
  readonly onOutcomeEvent?: (event: OutcomeEvent) => void;
}

/** An outcome event as EventBridge delivers it (pipeline/outcome-event.ts has the detail). */
export interface OutcomeEvent {
  readonly 'detail-type': string;
  readonly detail: OutcomeEventDetail;
}

export interface LocalCloud extends LocalCloudDescription {
  readonly config: StackConfig;
  /** Clients acting as the CLI user, as the `frames` command does. */
  readonly clients: LocalClients;
  /** The gate of this process's endpoints (KVS, EventBridge, DynamoDB and SQS): its denials, for tests. */
  readonly gate: RequestGate;
  stop(): Promise<void>;
}

/**
 * Starts the whole pipeline on this machine, in the shape of the stack: the six services on
 * 127.0.0.1 behind the stack's own IAM (local-servers.ts), the resources the stack declares
 * (stack-resources.ts), the functions with their triggers and queue consumers (local-functions.ts),
 * and the faults FRAMES_FAULTS asks for (fault-wiring.ts). Other processes find it by cloud.json.
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
  const buckets = { ingress: resourceName(config, 'ingress'), frames: resourceName(config, 'frames'), egress: resourceName(config, 'egress') };
  const faults = faultWiring(options.faults ?? parseFaultPlan(process.env[FAULTS_VARIABLE]), dataDirectory, buckets.frames);
  const logDirectory = join(dataDirectory, 'logs');
  mkdirSync(logDirectory, { recursive: true });
  const identity = { region: LOCAL_REGION, account: LOCAL_ACCOUNT_ID };
  const rules = pipelineRules(config, buckets.ingress);
  const enforce = iamEnforced();
  // Locally, registering a stream with `frames local add-stream` is what listing it in
  // kvsStreams and deploying is: the pipeline may clip the streams registered when it starts.
  const access = { config: { ...config, kvsStreams: [...config.kvsStreams, ...listStreams(dataDirectory).map((stream) => stream.name)] }, buckets, rules, dataDirectory, enforce };
  const gate = requestGate(access);

  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    stops.length = 0;
  };
  try {
    let publish: (event: object) => void = () => undefined;
    let interruptSqs: NonNullable<JsonProtocolGateOptions['interrupt']> = () => undefined;
    const servers = await startLocalServers({
      dataDirectory,
      config: access.config,
      buckets,
      rules,
      gate,
      enforce,
      ports: options.ports,
      faults: faults.services,
      onS3Event: (record) => {
        const event = objectCreatedEvent(record, identity);
        if (event) publish(event);
      },
      onMediaConvertEvent: (event) => publish(event),
      publishEvent: (event) => publish(event),
      interruptSqs: (request) => interruptSqs(request),
    });
    stops.push(() => servers.stop());
    const { endpoints } = servers;

    // The resources, as the stack declares them, made with the cloud's own key (Terraform's part).
    const admin = { dynamodb: new DynamoDBClient(localClientConfig(endpoints.dynamodb, LOCAL_ADMIN_KEY)), sqs: new SQSClient(localClientConfig(endpoints.sqs, LOCAL_ADMIN_KEY)) };
    stops.push(async () => [admin.dynamodb, admin.sqs].forEach((client) => client.destroy()));
    const queues = await provisionStackResources(admin, config, faults);
    const resources: LocalCloudDescription['resources'] = {
      ingressBucket: buckets.ingress,
      framesBucket: buckets.frames,
      egressBucket: buckets.egress,
      jobTable: pipelineNames(config).jobTable,
      frameQueueUrl: queues.frameQueueUrl,
      frameDeadLetterQueueUrl: queues.deadLetterQueueUrl,
      mediaConvertRoleArn: localMediaConvertRoleArn(config),
    };

    const functions = startLocalFunctions({
      topology: pipelineTopology(config, resources),
      endpoints,
      queues,
      bundleRoot: bundleRootOf(dataDirectory),
      logDirectory,
      faults,
      onWarning: warn,
    });
    stops.push(() => functions.stop());
    publish = (event) => {
      if ((event as { source?: string }).source === OUTCOME_EVENT.source && isOutcome(event)) options.onOutcomeEvent?.(event);
      functions.router.publish(event);
    };
    if (faults.completionCrash) interruptSqs = completionCrashInterrupt(faults.completionCrash, queues.frameQueueUrl, () => functions.killBusy('completion'));

    // Last, so setting the resources up is never throttled.
    if (faults.dynamoThrottle) servers.dynamo.throttleItemWrites(faults.dynamoThrottle.every, faults.dynamoThrottle.note);

    const description: LocalCloudDescription = {
      pid: process.pid,
      shared: options.shared ?? false,
      region: LOCAL_REGION,
      credentials: LOCAL_PRINCIPAL_KEYS.cli,
      endpoints,
      resources,
      logDirectory,
      faults: [...faults.plan],
      iam: enforce,
    };
    const cloudFile = join(dataDirectory, CLOUD_FILE);
    writeFileSync(cloudFile, `${JSON.stringify(description, null, 2)}\n`);
    // Stopping starts by removing the registration, so nothing attaches to a cloud on its way out.
    stops.push(async () => rmSync(cloudFile, { force: true }));
    const clients = connectLocalCloud(endpoints, 'cli');
    stops.push(async () => clients.close());

    return { ...description, config, clients, gate, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function isOutcome(event: object): event is OutcomeEvent {
  const type = (event as { 'detail-type'?: string })['detail-type'];
  return type === OUTCOME_EVENT.completed || type === OUTCOME_EVENT.failed;
}
