import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { bundleFunctions } from '../../pipeline/bundle';
import { type FunctionKey, type PipelineTopology, type ScheduleSpec, runtimeEnvironment } from '../../pipeline/topology';
import { EventRouter } from '../event-router';
import { FAULTS_VARIABLE, FAULT_STATE_VARIABLE } from '../faults/fault-plan';
import { LOCAL_PRINCIPAL_KEYS } from '../iam/local-principals';
import { LambdaRunner } from '../lambda-runner';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../local-identity';
import { QueuePoller } from '../queue-poller';
import type { LocalEndpoints } from './cloud-description';
import { localClientConfig } from './connect';
import type { FaultWiring } from './fault-wiring';
import type { LocalQueues } from './stack-resources';

/** The frame worker's processor under fault injection, wrapping the configured one. */
const FAULTY_PROCESSOR = join(__dirname, '..', 'faults', 'faulty-processor.ts');

/** Execution environments at once for a function invoked by events rather than a queue. */
const EVENT_TARGET_CONCURRENCY = 2;

export interface LocalFunctions {
  readonly router: EventRouter;
  /** Kills a function's environments that are running an invocation (fault injection). */
  killBusy(key: FunctionKey): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The functions as the stack deploys them: each deployable bundle (built for this machine) in
 * Lambda-like execution environments with the stack's environment and its own role's key, an
 * event router applying the stack's rules (a target that fails every retry goes to its failure
 * queue, sent with the function's role, as Lambda's on-failure destination is), and the queue
 * pollers of the event source mappings (which, as Lambda does, read the queue with the consuming
 * function's role).
 */
export function startLocalFunctions(options: {
  readonly topology: PipelineTopology;
  readonly endpoints: LocalEndpoints;
  readonly queues: LocalQueues;
  readonly bundleRoot: string;
  readonly logDirectory: string;
  readonly faults: FaultWiring;
  readonly onWarning: (message: string) => void;
}): LocalFunctions {
  const { topology, endpoints, queues, faults } = options;
  const stops: Array<() => Promise<void>> = [];
  const cores = Math.max(1, availableParallelism());
  // Queue consumers run as many at once as their mapping allows, up to the machine's cores;
  // functions invoked by events need few (a handful of uploads and job state changes).
  const concurrencyOf = (key: FunctionKey) => {
    const consumer = topology.queueConsumers.find((candidate) => candidate.target === key);
    return consumer ? Math.min(consumer.maximumConcurrency, cores) : EVENT_TARGET_CONCURRENCY;
  };
  const specs = Object.values(topology.functions);
  const configuredProcessor = topology.functions.frameWorker.processor;
  const bundles = bundleFunctions(
    specs.map((spec) => ({ entry: spec.entry, outputDirectory: join(options.bundleRoot, spec.name) })),
    // Only the frame worker imports the processor module; the alias is harmless to the others.
    faults.wrapsProcessor
      ? { processor: FAULTY_PROCESSOR, innerProcessor: configuredProcessor, nativeTarget: 'host' }
      : { processor: configuredProcessor, nativeTarget: 'host' },
  );
  const sqsAs = (key: FunctionKey) => {
    const client = new SQSClient(localClientConfig(endpoints.sqs, LOCAL_PRINCIPAL_KEYS[key]));
    stops.push(async () => client.destroy());
    return client;
  };

  // Scheduled functions (the sweeper): the stack's schedule, or seconds under faults.
  const schedules = topology.schedules.map((schedule) => ({
    schedule,
    ...faults.sweeper({ everySeconds: schedule.everyMinutes * 60, environment: topology.functions[schedule.target].environment }),
  }));
  const runners = {} as Record<FunctionKey, LambdaRunner>;
  for (const [index, spec] of specs.entries()) {
    runners[spec.key] = new LambdaRunner({
      name: spec.name,
      arn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${spec.name}`,
      bundleDirectory: bundles[index].directory,
      environment: {
        ...functionEnvironment(endpoints, spec.key),
        ...runtimeEnvironment(spec),
        ...schedules.find(({ schedule }) => schedule.target === spec.key)?.environment,
        ...(spec.key === 'frameWorker' && faults.wrapsProcessor
          ? { [FAULTS_VARIABLE]: [...faults.plan].join(','), [FAULT_STATE_VARIABLE]: faults.stateDirectory }
          : {}),
      },
      timeoutSeconds: spec.timeoutSeconds,
      memoryMb: spec.memoryMb,
      maxConcurrency: concurrencyOf(spec.key),
      logFile: join(options.logDirectory, `${spec.name}.log`),
    });
    stops.push(() => runners[spec.key].stop());
  }

  const router = new EventRouter(
    topology.rules.map((rule) => {
      const sqs = sqsAs(rule.target);
      return {
        rule,
        target: runners[rule.target],
        onFailure: async (record: object) => {
          await sqs.send(new SendMessageCommand({ QueueUrl: queues.failureQueueUrls[rule.failureQueue], MessageBody: JSON.stringify(record) }));
        },
      };
    }),
    { onError: options.onWarning, duplicate: faults.duplicate },
  );

  for (const consumer of topology.queueConsumers) {
    const poller = new QueuePoller({
      sqs: sqsAs(consumer.target),
      queueUrl: queues.consumed[consumer.queue].url,
      queueArn: queues.consumed[consumer.queue].arn,
      region: LOCAL_REGION,
      batchSize: consumer.batchSize,
      concurrency: concurrencyOf(consumer.target),
      target: runners[consumer.target],
      onError: options.onWarning,
      duplicate: faults.duplicate,
    });
    poller.start();
    stops.push(() => poller.stop());
  }

  for (const { schedule, everySeconds } of schedules) {
    const stopSchedule = runOnSchedule(schedule, everySeconds, runners[schedule.target], options.onWarning);
    stops.push(async () => stopSchedule());
  }

  return {
    router,
    killBusy: (key) => runners[key].killBusy(),
    stop: async () => {
      router.stop();
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      stops.length = 0;
    },
  };
}

/**
 * A scheduled rule's invocations: EventBridge's "Scheduled Event" every `everySeconds`. A tick
 * that finds the previous invocation still running is skipped (EventBridge would invoke again;
 * the sweeper is idempotent either way, and one at a time keeps a laptop's cores for the run).
 * A failed invocation is not retried: the next tick is the retry.
 */
function runOnSchedule(schedule: ScheduleSpec, everySeconds: number, target: LambdaRunner, onWarning: (message: string) => void): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: LOCAL_ACCOUNT_ID,
      time: new Date().toISOString(),
      region: LOCAL_REGION,
      resources: [`arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:rule/${schedule.name}`],
      detail: {},
    };
    target
      .invoke(event)
      .catch((error: Error) => onWarning(`${schedule.name} → ${target.name} failed: ${error.message}`))
      .finally(() => (running = false));
  }, everySeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * What makes a function's unmodified SDK clients talk to the local servers as its own role: the
 * SDK's service-specific endpoint variables, its role's local key (never the user's own
 * credentials), and checksums only where required. Nothing else of this process's environment
 * is passed on.
 */
function functionEnvironment(endpoints: LocalEndpoints, key: FunctionKey): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    TZ: 'UTC',
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_PRINCIPAL_KEYS[key].accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_PRINCIPAL_KEYS[key].secretAccessKey,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_MEDIACONVERT: endpoints.mediaconvert,
    // The control plane; it answers GetDataEndpoint with itself, as KVS answers with its data plane.
    AWS_ENDPOINT_URL_KINESIS_VIDEO: endpoints.kinesisvideo,
    // Outcome events (pipeline/outcome-event.ts) go to the local EventBridge, which routes them.
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.events,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
}
