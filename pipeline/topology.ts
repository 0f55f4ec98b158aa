/**
 * The pipeline's topology: which functions exist with which environment, memory and timeout,
 * which event rules invoke them, and which queues feed them. The cloud stack (modules/) renders it
 * as Terraform; local mode (local/) renders it as processes, an event router and queue pollers.
 * Both call `pipelineTopology` with their own resource names, so neither can drift from the other.
 */
import { formatFrameRate } from './capture-settings';
import { CLIP_REQUEST_EVENT } from './clip-request';
import {
  ENV,
  FAILED_EVENTS_TIMEOUT_SECONDS,
  FUNCTIONS,
  clipRequestedPattern,
  frameQueueSettings,
  jobStateChangedPattern,
  videoUploadedPattern,
} from './definition';
import { redrivePattern } from './outcome-event';
import { type StackConfig, resolveProcessorPath } from './stack-config';

/** The names (or, in Terraform, references) of the resources the functions are wired to. */
export interface PipelineResources {
  readonly ingressBucket: string;
  readonly framesBucket: string;
  readonly egressBucket: string;
  readonly jobTable: string;
  readonly frameQueueUrl: string;
  readonly mediaConvertRoleArn: string;
}

export type FunctionKey = keyof typeof FUNCTIONS;

export interface FunctionSpec {
  readonly key: FunctionKey;
  /** The deployed function name: `<namePrefix>-<suffix>`. */
  readonly name: string;
  readonly entry: string;
  readonly description: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly environment: Readonly<Record<string, string>>;
  /** The processor module the bundle is built with (frame worker only). */
  readonly processor?: string;
}

export interface EventRuleSpec {
  readonly name: string;
  readonly description: string;
  readonly pattern: object;
  readonly target: FunctionKey;
  /** Name suffix of the queue that receives events the target failed on every retry. */
  readonly failureQueue: 'ingress-failures' | 'completion-failures';
}

export interface QueueConsumerSpec {
  readonly queue: 'frames' | 'frames-dead-letters' | 'ingress-failures' | 'completion-failures';
  readonly target: FunctionKey;
  readonly batchSize: number;
  readonly maximumConcurrency: number;
}

/** A function invoked on a schedule (an EventBridge rule with a rate expression). */
export interface ScheduleSpec {
  readonly name: string;
  readonly description: string;
  readonly everyMinutes: number;
  readonly target: FunctionKey;
}

/** Lambda retries a failed asynchronous invocation twice (its maximum), then gives up to the queue. */
export const ASYNC_INVOCATION_RETRIES = 2;
/** Dead-lettered batches are rare; two at a time is plenty and leaves concurrency to the workers. */
export const DEAD_LETTER_CONCURRENCY = 2;
/** Failed events are rarer still; one at a time per queue keeps their writes simple to follow. */
export const FAILED_EVENTS_CONCURRENCY = 2;
/** Listing a million frames (1,000 pages) and sending 10,000 messages fits well inside this. */
export const COMPLETION_TIMEOUT_SECONDS = 900;
/**
 * The sweeper does bounded work (operations.sweepLimit runs), but a repair may be a whole fan-out
 * the completion function would have done: it gets the completion function's timeout.
 */
export const SWEEPER_TIMEOUT_SECONDS = COMPLETION_TIMEOUT_SECONDS;

/** Lambda's maximum: a 24-hour clip may be several GB to pull through GetClip. */
export const INGRESS_TIMEOUT_SECONDS = 900;

/** The frame queue's name suffix; its dead-letter queue adds `-dead-letters`. */
export const FRAME_QUEUE_SUFFIX = 'frames';

/** The environment every function gets: Powertools' settings plus the function's own variables. */
export function runtimeEnvironment(spec: Pick<FunctionSpec, 'name' | 'environment'>): Record<string, string> {
  return { POWERTOOLS_SERVICE_NAME: spec.name, POWERTOOLS_LOG_LEVEL: 'INFO', ...spec.environment };
}

/**
 * How long the sweeper waits on a fanned-out run with no batch counted: every delivery of a batch
 * (the queue's visibility timeout each), then the dead-letter handler's own retries, and at least
 * the configured threshold.
 */
export function processingStallSeconds(config: StackConfig): number {
  const queue = frameQueueSettings(config.processing);
  const throughEveryDelivery = queue.visibilityTimeoutSeconds * queue.maxReceiveCount + queue.deadLetterVisibilityTimeoutSeconds;
  return Math.max(config.operations.stuckAfterMinutes * 60, throughEveryDelivery);
}

export function resourceName(config: Pick<StackConfig, 'namePrefix'>, suffix: string): string {
  return `${config.namePrefix}-${suffix}`;
}

/**
 * The names of the queues and table, which depend on the configuration alone (the buckets get
 * unique generated names in the cloud, so they are not here).
 */
export function pipelineNames(config: Pick<StackConfig, 'namePrefix'>) {
  const name = (suffix: string) => resourceName(config, suffix);
  return {
    jobTable: name('jobs'),
    frameQueue: name(FRAME_QUEUE_SUFFIX),
    frameDeadLetterQueue: name(`${FRAME_QUEUE_SUFFIX}-dead-letters`),
    failureQueues: {
      'ingress-failures': name('ingress-failures'),
      'completion-failures': name('completion-failures'),
    },
  } as const;
}

export function pipelineTopology(config: StackConfig, resources: PipelineResources) {
  const { processing } = config;
  const name = (suffix: string) => resourceName(config, suffix);
  const queueSettings = frameQueueSettings(processing);

  const stuckAfterSeconds = config.operations.stuckAfterMinutes * 60;
  const processingEnvironment = {
    [ENV.jobTable]: resources.jobTable,
    [ENV.framesBucket]: resources.framesBucket,
    [ENV.egressBucket]: resources.egressBucket,
    // A fan-in can live as long as the function that runs it; then another may take over.
    [ENV.fanInLeaseSeconds]: String(processing.workerTimeoutSeconds),
    // Named in the outcome events every function that finishes a run puts on the bus.
    [ENV.pipelineName]: config.namePrefix,
  };
  // The completion function's, and the sweeper's, which redoes its work.
  const completionEnvironment = {
    ...processingEnvironment,
    [ENV.frameQueueUrl]: resources.frameQueueUrl,
    [ENV.framesPerMessage]: String(processing.framesPerMessage),
  };

  const functions: Record<FunctionKey, FunctionSpec> = {
    ingress: {
      key: 'ingress',
      name: name(FUNCTIONS.ingress.nameSuffix),
      entry: FUNCTIONS.ingress.entry,
      description: 'Submits a MediaConvert frame-capture job for each uploaded video or KVS clip request',
      // Clipping streams up to 150 GetClip pieces of up to 100 MB into S3: Lambda's network share
      // grows with memory, and a long clip needs Lambda's longest timeout.
      memoryMb: 512,
      timeoutSeconds: INGRESS_TIMEOUT_SECONDS,
      environment: {
        [ENV.jobTable]: resources.jobTable,
        [ENV.framesBucket]: resources.framesBucket,
        [ENV.ingressBucket]: resources.ingressBucket,
        [ENV.mediaConvertRoleArn]: resources.mediaConvertRoleArn,
        [ENV.pipelineName]: config.namePrefix,
        [ENV.defaultFps]: formatFrameRate(config.capture.fps),
        [ENV.defaultQuality]: String(config.capture.quality),
        [ENV.defaultMaxCaptures]: String(config.capture.maxCaptures),
        // The segment plan needs the batch size: segment s sends batches from its own first.
        [ENV.framesPerMessage]: String(processing.framesPerMessage),
        [ENV.maxSegments]: String(config.extraction.maxSegments),
        [ENV.minSegmentSeconds]: String(config.extraction.minSegmentSeconds),
      },
    },
    completion: {
      key: 'completion',
      name: name(FUNCTIONS.completion.nameSuffix),
      entry: FUNCTIONS.completion.entry,
      description: 'Records MediaConvert progress; on completion counts the frames and fans them out',
      memoryMb: 512,
      timeoutSeconds: COMPLETION_TIMEOUT_SECONDS,
      environment: completionEnvironment,
    },
    frameWorker: {
      key: 'frameWorker',
      name: name(FUNCTIONS.frameWorker.nameSuffix),
      entry: FUNCTIONS.frameWorker.entry,
      description: 'Runs the frame processor over a batch of frames; the last batch of a run fans in',
      memoryMb: processing.workerMemoryMb,
      timeoutSeconds: processing.workerTimeoutSeconds,
      environment: processingEnvironment,
      processor: resolveProcessorPath(processing.processor),
    },
    deadLetters: {
      key: 'deadLetters',
      name: name(FUNCTIONS.deadLetters.nameSuffix),
      entry: FUNCTIONS.deadLetters.entry,
      description: 'Counts the frames of batches that failed every delivery as failed, so runs finish',
      memoryMb: 512,
      // It may run the fan-in, under the same lease as the worker.
      timeoutSeconds: processing.workerTimeoutSeconds,
      environment: processingEnvironment,
    },
    failedEvents: {
      key: 'failedEvents',
      name: name(FUNCTIONS.failedEvents.nameSuffix),
      entry: FUNCTIONS.failedEvents.entry,
      description: 'Marks the run of each event that failed every retry FAILED, keeping the event for frames redrive',
      memoryMb: 256,
      timeoutSeconds: FAILED_EVENTS_TIMEOUT_SECONDS,
      environment: {
        [ENV.jobTable]: resources.jobTable,
        [ENV.ingressBucket]: resources.ingressBucket,
        [ENV.pipelineName]: config.namePrefix,
      },
    },
    sweeper: {
      key: 'sweeper',
      name: name(FUNCTIONS.sweeper.nameSuffix),
      entry: FUNCTIONS.sweeper.entry,
      description: 'Finds runs stalled in a running state and repairs or ends each',
      memoryMb: 512,
      timeoutSeconds: SWEEPER_TIMEOUT_SECONDS,
      environment: {
        ...completionEnvironment,
        [ENV.stuckAfterSeconds]: String(stuckAfterSeconds),
        [ENV.processingStallSeconds]: String(processingStallSeconds(config)),
        // Every attempt of an ingress (each up to its timeout) and Lambda's waits between them.
        [ENV.submittingStallSeconds]: String(Math.max(stuckAfterSeconds, INGRESS_TIMEOUT_SECONDS * (ASYNC_INVOCATION_RETRIES + 1) + 5 * 60)),
        [ENV.sweepLimit]: String(config.operations.sweepLimit),
      },
    },
  };

  const rules = pipelineRules(config, resources.ingressBucket);

  const queueConsumers: QueueConsumerSpec[] = [
    {
      queue: 'frames',
      target: 'frameWorker',
      batchSize: queueSettings.batchSize,
      maximumConcurrency: queueSettings.maximumConcurrency,
    },
    { queue: 'frames-dead-letters', target: 'deadLetters', batchSize: 1, maximumConcurrency: DEAD_LETTER_CONCURRENCY },
    { queue: 'ingress-failures', target: 'failedEvents', batchSize: 1, maximumConcurrency: FAILED_EVENTS_CONCURRENCY },
    { queue: 'completion-failures', target: 'failedEvents', batchSize: 1, maximumConcurrency: FAILED_EVENTS_CONCURRENCY },
  ];

  const schedules: ScheduleSpec[] = [
    {
      name: name('sweep'),
      description: 'Looks for runs stalled in a running state',
      everyMinutes: config.operations.sweepEveryMinutes,
      target: 'sweeper',
    },
  ];

  return { functions, rules, queueConsumers, schedules };
}

export type PipelineTopology = ReturnType<typeof pipelineTopology>;

/**
 * The event rules, which depend on the configuration and the ingress bucket's name only (local
 * mode's IAM needs them, for the failure queues' policies, before the queues exist).
 */
export function pipelineRules(config: StackConfig, ingressBucket: string): EventRuleSpec[] {
  const name = (suffix: string) => resourceName(config, suffix);
  return [
    {
      name: name('video-uploaded'),
      description: 'A video landed in the ingress bucket',
      pattern: videoUploadedPattern(ingressBucket, config.videoSuffixes),
      target: 'ingress',
      failureQueue: 'ingress-failures',
    },
    {
      name: name('clip-requested'),
      description: 'Someone asked this pipeline to clip a range of a Kinesis video stream',
      pattern: clipRequestedPattern(config.namePrefix, CLIP_REQUEST_EVENT),
      target: 'ingress',
      failureQueue: 'ingress-failures',
    },
    {
      name: name('job-state'),
      description: "One of this pipeline's MediaConvert jobs changed state",
      pattern: jobStateChangedPattern(config.namePrefix),
      target: 'completion',
      failureQueue: 'completion-failures',
    },
    {
      name: name('redrive-ingress'),
      description: 'frames redrive sent back an event the ingress function failed on',
      pattern: redrivePattern(config.namePrefix, 'ingress'),
      target: 'ingress',
      failureQueue: 'ingress-failures',
    },
    {
      name: name('redrive-completion'),
      description: 'frames redrive sent back an event the completion function failed on',
      pattern: redrivePattern(config.namePrefix, 'completion'),
      target: 'completion',
      failureQueue: 'completion-failures',
    },
  ];
}

