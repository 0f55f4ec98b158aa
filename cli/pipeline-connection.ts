import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { StackConfig } from '../pipeline/stack-config';
import { ensureJobTable, startDynamoServer } from '../local/dynamo-server';
import { type LocalCloudDescription, runningCloud } from '../local/cloud/cloud-description';
import { connectLocalCloud, localClientConfig } from '../local/cloud/connect';
import { startLocalCloud } from '../local/cloud/local-cloud';
import { pipelineNames } from '../pipeline/topology';
import { loadProjectStackConfig } from '../pipeline/stack-config';
import { explainAwsError } from './aws-errors';
import { CliError, EXIT } from './exit-codes';
import { type DeployedTarget, type StackTarget, type TargetOptions, resolveTarget } from './stack-target';

/** What reading jobs needs: the job table and a client for it. */
export interface JobTableConnection {
  readonly dynamodb: DynamoDBDocumentClient;
  readonly jobTable: string;
  close(): Promise<void>;
}

/** What the commands need of a pipeline: its clients and resource names. */
export interface PipelineConnection extends JobTableConnection {
  readonly s3: S3Client;
  /** The default event bus, where clip requests are put. */
  readonly events: EventBridgeClient;
  /** The stack's name prefix: clip requests name it in `detail.pipeline`. */
  readonly pipelineName: string;
  readonly ingressBucket: string;
  readonly egressBucket: string;
  readonly videoSuffixes: readonly string[];
  /** True when this command started the local cloud (and stops it on close). */
  readonly ownsCloud: boolean;
  /** A local cloud's injected faults (FRAMES_FAULTS), so commands can say so; none when deployed. */
  readonly faults: readonly string[];
}

export const DEFAULT_DATA_DIRECTORY = '.frames';

export function dataDirectoryOf(option: string | undefined): string {
  return resolve(option ?? process.env.FRAMES_DATA_DIR ?? DEFAULT_DATA_DIRECTORY);
}

/** A running local cloud, through the one `connect` it offers, as the CLI user (the key `frames local up` prints). */
function attach(description: LocalCloudDescription, config: StackConfig): PipelineConnection {
  const clients = connectLocalCloud(description.endpoints, 'cli');
  return {
    s3: clients.s3,
    dynamodb: clients.dynamodb,
    events: clients.events,
    pipelineName: config.namePrefix,
    ingressBucket: description.resources.ingressBucket,
    egressBucket: description.resources.egressBucket,
    jobTable: description.resources.jobTable,
    videoSuffixes: config.videoSuffixes,
    ownsCloud: false,
    faults: description.faults ?? [],
    close: async () => clients.close(),
  };
}

/**
 * The local pipeline on a data directory: the cloud already running there (`frames local up`, or
 * another command), or a new one this command starts and stops.
 */
export async function connectLocalPipeline(options: {
  readonly dataDirectory: string;
  readonly processor?: string;
  readonly onWarning?: (message: string) => void;
  /** A line for a person while a new cloud starts (a few seconds), and when it is ready. */
  readonly onStatus?: (message: string) => void;
}): Promise<PipelineConnection> {
  const running = runningCloud(options.dataDirectory);
  const config = loadProjectStackConfig();
  if (running) {
    if (!running.shared) {
      throw new CliError(
        `Another frames command (pid ${running.pid}) is running its own local cloud on ${options.dataDirectory}. ` +
          'Wait for it, pass --data-dir to run separately, or start `frames local up` there so commands share one cloud.',
        EXIT.environment,
      );
    }
    if (options.processor) {
      throw new CliError(
        `A local cloud (pid ${running.pid}) already runs on ${options.dataDirectory} with its own processor. ` +
          'Stop it, or pass --data-dir to run this one separately.',
        EXIT.usage,
      );
    }
    return attach(running, config);
  }
  options.onStatus?.(`Starting a local cloud on ${options.dataDirectory}...`);
  const started = Date.now();
  const cloud = await startLocalCloud({
    dataDirectory: options.dataDirectory,
    config,
    processor: options.processor,
    onWarning: options.onWarning,
  });
  options.onStatus?.(`Local cloud ready in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  return {
    s3: cloud.clients.s3,
    dynamodb: cloud.clients.dynamodb,
    events: cloud.clients.events,
    pipelineName: config.namePrefix,
    ingressBucket: cloud.resources.ingressBucket,
    egressBucket: cloud.resources.egressBucket,
    jobTable: cloud.resources.jobTable,
    videoSuffixes: config.videoSuffixes,
    ownsCloud: true,
    faults: cloud.faults,
    close: () => cloud.stop(),
  };
}

/**
 * `frames local up` on a data directory another cloud already runs on (LevelDB takes one process):
 * one line that says what to do, exit 3.
 */
export function refuseRunningCloud(dataDirectory: string): void {
  const running = runningCloud(dataDirectory);
  if (running) throw cloudAlreadyRunning(dataDirectory, running);
}

export function cloudAlreadyRunning(dataDirectory: string, running: { readonly pid: number; readonly shared: boolean }): CliError {
  return new CliError(
    `A local cloud (pid ${running.pid}${running.shared ? ', frames local up' : ', another frames command'}) already runs on ${dataDirectory}. ` +
      `${running.shared ? 'Use it (frames upload, run and watch find it), or stop it (Ctrl-C in its terminal, or kill ' + running.pid + ')' : 'Wait for it to finish'}, or pass --data-dir to start another.`,
    EXIT.environment,
  );
}

/**
 * Just the job table of a data directory, for reading: the running cloud's, or the persisted
 * table opened on its own (no other server is started).
 */
export async function openLocalJobTable(dataDirectory: string): Promise<JobTableConnection> {
  const config = loadProjectStackConfig();
  const running = runningCloud(dataDirectory);
  if (running) {
    const connection = attach(running, config);
    return { dynamodb: connection.dynamodb, jobTable: connection.jobTable, close: connection.close };
  }
  const server = await startDynamoServer({ directory: join(dataDirectory, 'dynamodb') });
  const client = new DynamoDBClient(localClientConfig(server.endpoint));
  const jobTable = pipelineNames(config).jobTable;
  // A data directory with no runs yet has no table; one from an older version lacks the list index.
  await ensureJobTable(client, jobTable);
  return {
    dynamodb: DynamoDBDocumentClient.from(client),
    jobTable,
    close: async () => {
      client.destroy();
      await server.stop();
    },
  };
}

/**
 * A deployed stack's pipeline, through the standard credential chain in the stack's region (or,
 * when the stack came from environment variables, the SDK's own region chain). The SDK's
 * `AWS_ENDPOINT_URL_<SERVICE>` variables redirect it, which is how the tests run this very path
 * against the local cloud.
 */
export function connectDeployedPipeline(stack: DeployedTarget): PipelineConnection {
  const settings = stack.region ? { region: stack.region } : {};
  const s3 = new S3Client(settings);
  const dynamo = new DynamoDBClient(settings);
  const events = new EventBridgeClient(settings);
  return {
    s3,
    dynamodb: DynamoDBDocumentClient.from(dynamo),
    events,
    pipelineName: stack.pipelineName,
    ingressBucket: stack.ingressBucket,
    egressBucket: stack.egressBucket,
    jobTable: stack.jobTable,
    videoSuffixes: loadProjectStackConfig().videoSuffixes,
    ownsCloud: false,
    faults: [],
    close: async () => {
      s3.destroy();
      dynamo.destroy();
      events.destroy();
    },
  };
}

/**
 * The whole pipeline of a target. Locally: the cloud running on the data directory; with
 * `startLocal`, one this command starts (and stops on close) when none runs. Without it, a command
 * whose work needs the pipeline to go on running (an upload) asks for `frames local up`.
 */
export async function openPipeline(target: StackTarget, options: { readonly startLocal: boolean }): Promise<PipelineConnection> {
  if (target.kind === 'deployed') return connectDeployedPipeline(target);
  if (options.startLocal) return connectLocalPipeline({ dataDirectory: target.dataDirectory });
  const running = runningCloud(target.dataDirectory);
  if (!running?.shared) {
    throw new CliError(
      running
        ? `The local cloud on ${target.dataDirectory} belongs to another frames command (pid ${running.pid}) and stops with it. Start one with \`frames local up\` to upload into.`
        : `No local cloud is running on ${target.dataDirectory}. Start one with \`frames local up\` in another terminal (or use \`frames run\`, which starts its own), or name a deployed stack with --stack-outputs.`,
      EXIT.environment,
    );
  }
  return attach(running, loadProjectStackConfig());
}

/** Just the job table of a target, for reading. */
export async function openJobTable(target: StackTarget): Promise<JobTableConnection> {
  return target.kind === 'deployed' ? connectDeployedPipeline(target) : openLocalJobTable(target.dataDirectory);
}

/**
 * Finds the target of a command's options and runs the command's work on it, turning AWS errors
 * from a deployed stack into a plain message with what to do (cli/aws-errors.ts).
 */
export async function withTarget<T>(options: TargetOptions, work: (target: StackTarget) => Promise<T>): Promise<T> {
  const target = resolveTarget(options);
  try {
    return await work(target);
  } catch (error) {
    if (target.kind === 'deployed') throw explainAwsError(error, target, target.region ?? process.env.AWS_REGION);
    throw error;
  }
}
