/**
 * The one pipeline definition: names, environment variables and event patterns that both the
 * cloud stack (modules/) and local mode (local/) render, and that the functions read. Anything
 * declared here must not be written a second time elsewhere, so the two renderers cannot drift.
 *
 * Functions may import this file: it has no dependencies.
 */

/** Environment variable names the stack sets and the functions read at cold start. */
export const ENV = {
  jobTable: 'JOB_TABLE_NAME',
  framesBucket: 'FRAMES_BUCKET_NAME',
  /** Where the ingress function writes the pieces of KVS clips (CLIP_PIECES_PREFIX). */
  ingressBucket: 'INGRESS_BUCKET_NAME',
  mediaConvertRoleArn: 'MEDIACONVERT_ROLE_ARN',
  /** Marker written into every job's UserMetadata so rules only see this stack's jobs. */
  pipelineName: 'PIPELINE_NAME',
  defaultFps: 'DEFAULT_CAPTURE_FPS',
  defaultQuality: 'DEFAULT_CAPTURE_QUALITY',
  defaultMaxCaptures: 'DEFAULT_MAX_CAPTURES',
  egressBucket: 'EGRESS_BUCKET_NAME',
  frameQueueUrl: 'FRAME_QUEUE_URL',
  /** Frames in one queue message (and one results object): see ProcessingSettings. */
  framesPerMessage: 'FRAMES_PER_MESSAGE',
  maxSegments: 'MAX_SEGMENTS',
  minSegmentSeconds: 'MIN_SEGMENT_SECONDS',
  /** How long a fan-in may hold its lease: the worker's timeout, after which Lambda has killed it. */
  fanInLeaseSeconds: 'FAN_IN_LEASE_SECONDS',
  /** The sweeper: how long a run may go without a write before it is looked at, and how many at once. */
  stuckAfterSeconds: 'STUCK_AFTER_SECONDS',
  /**
   * How long a fanned-out run may go without a batch counted before the sweeper gives up on it:
   * longer than a batch can take through every delivery to the dead-letter handler.
   */
  processingStallSeconds: 'PROCESSING_STALL_SECONDS',
  /**
   * How long a run may stay CLIPPING, or SUBMITTED without a job, before the sweeper ends it:
   * longer than the ingress function's every retry, after which the failed-events function has
   * recorded the failure itself.
   */
  submittingStallSeconds: 'SUBMITTING_STALL_SECONDS',
  sweepLimit: 'SWEEP_LIMIT',
} as const;

/** The Lambda functions of the pipeline: folder under functions/ and suffix of the deployed name. */
export const FUNCTIONS = {
  ingress: { entry: 'functions/ingress/handler.ts', nameSuffix: 'ingress' },
  completion: { entry: 'functions/completion/handler.ts', nameSuffix: 'completion' },
  frameWorker: { entry: 'functions/frame-worker/handler.ts', nameSuffix: 'frame-worker' },
  deadLetters: { entry: 'functions/frame-dead-letters/handler.ts', nameSuffix: 'frame-dead-letters' },
  failedEvents: { entry: 'functions/failed-events/handler.ts', nameSuffix: 'failed-events' },
  sweeper: { entry: 'functions/sweeper/handler.ts', nameSuffix: 'sweeper' },
} as const;

/**
 * The module specifier the frame worker imports its processor from. The bundler points it at the
 * file named by the stack configuration's `processing.processor` (default: the sharp analysis).
 */
export const PROCESSOR_MODULE = '@frames/processor';

/** The MediaConvert job states the completion function acts on. */
export const HANDLED_JOB_STATES = ['STATUS_UPDATE', 'COMPLETE', 'ERROR', 'CANCELED'] as const;

/**
 * S3 user metadata an uploader sets to override the stack's capture defaults for one video,
 * e.g. `aws s3 cp video.mp4 s3://<ingress>/ --metadata fps=5,quality=90,max-captures=1000`.
 * S3 lower-cases metadata names, so these are lower case.
 */
export const OVERRIDE_METADATA = {
  fps: 'fps',
  quality: 'quality',
  maxCaptures: 'max-captures',
} as const;

/**
 * Where in the ingress bucket the ingress function writes the pieces of KVS clips (one MP4 per
 * GetClip call) for MediaConvert to read. Reserved: the function ignores Object Created events
 * under it, and the bucket expires it after framesRetentionDays, like the frames.
 */
export const CLIP_PIECES_PREFIX = 'kvs-clips/';

/** Keys of the UserMetadata the ingress function attaches to every MediaConvert job. */
export const JOB_USER_METADATA = {
  pipeline: 'pipeline',
  videoId: 'videoId',
  runId: 'runId',
  /** Segmented runs: the segment (0-based) a job captures (pipeline/segment-plan.ts). */
  segment: 'segment',
} as const;

/**
 * The tag key this pipeline puts on its MediaConvert jobs, valued with the pipeline's name: IAM
 * lets the ingress function create only jobs so tagged and cancel only those (pipeline/permissions.ts).
 */
export const JOB_TAG_KEY = 'pipeline';

/**
 * The EventBridge pattern for "a video landed in the ingress bucket". Every Object Created reason
 * (PutObject, CompleteMultipartUpload, CopyObject, ...) matches: large uploads are multipart.
 * Suffixes match case-insensitively because cameras write `.MP4`.
 */
export function videoUploadedPattern(bucketName: string, suffixes: readonly string[]) {
  return {
    source: ['aws.s3'],
    'detail-type': ['Object Created'],
    detail: {
      bucket: { name: [bucketName] },
      object: { key: suffixes.map((suffix) => ({ suffix: { 'equals-ignore-case': suffix } })) },
    },
  };
}

/**
 * The EventBridge pattern for "one of this stack's MediaConvert jobs changed state". Other jobs in
 * the account are filtered out by the pipeline marker the ingress function puts in UserMetadata.
 * `detail-type` is required: a MediaConvert rule without it is a known way to never fire.
 */
export function jobStateChangedPattern(pipelineName: string) {
  return {
    source: ['aws.mediaconvert'],
    'detail-type': ['MediaConvert Job State Change'],
    detail: {
      status: [...HANDLED_JOB_STATES],
      userMetadata: { [JOB_USER_METADATA.pipeline]: [pipelineName] },
    },
  };
}

/**
 * The EventBridge pattern for "clip this range of a Kinesis video stream" (pipeline/clip-request.ts
 * has the contract). `detail.pipeline` must name this stack, so two stacks in one account never
 * both take a request.
 */
export function clipRequestedPattern(pipelineName: string, event: { source: string; detailType: string }) {
  return {
    source: [event.source],
    'detail-type': [event.detailType],
    detail: { pipeline: [pipelineName] },
  };
}

/** The knobs of the frame queue and its worker (stack configuration `processing`). */
export interface QueueSettingsInput {
  readonly messagesPerInvocation: number;
  readonly maxReceiveCount: number;
  readonly maxConcurrency: number;
  readonly workerTimeoutSeconds: number;
}

/** SQS's maximum retention: the time anyone has to look at a dead-lettered batch or a failed event. */
const FOURTEEN_DAYS = 14 * 24 * 60 * 60;

/**
 * The failure queues (`ingress-failures`, `completion-failures`): where events the ingress and
 * completion functions could not handle after their retries, and deliveries EventBridge could not
 * make, are kept for a person. The stack (modules/failure-queue.ts) and local mode
 * (local/cloud/stack-resources.ts) both create them from this.
 */
export const FAILURE_QUEUE_SETTINGS = {
  messageRetentionSeconds: FOURTEEN_DAYS,
  /**
   * The failed-events function consumes both queues: Lambda refuses a mapping whose queue's
   * visibility timeout is shorter than the function's timeout, and AWS advises six times it.
   */
  visibilityTimeoutSeconds: 6 * 60,
} as const;

/** The failed-events function's timeout (FAILURE_QUEUE_SETTINGS.visibilityTimeoutSeconds is six of it). */
export const FAILED_EVENTS_TIMEOUT_SECONDS = 60;

/**
 * Log lines operators count: the stack turns each into a CloudWatch metric (a metric filter on
 * the function's log group, in the namespace `METRIC_NAMESPACE/<namePrefix>`: a filter can only
 * take dimensions from the log line's fields) with an alarm (modules/pipeline-alarms.ts).
 */
export const OPERATIONS_LOG = {
  /** The sweeper repaired or ended a run it found stalled (functions/sweeper/). */
  runSwept: { message: 'run swept', metric: 'RunsSwept', function: 'sweeper' },
  /** A failed event named no run: recorded under `unattributed/…` (functions/failed-events/). */
  unattributedEvent: { message: 'unattributed failed event recorded', metric: 'UnattributedFailedEvents', function: 'failedEvents' },
} as const;

export const METRIC_NAMESPACE = 'VideoFramePipeline';

/**
 * The frame queue's settings, derived in one place for the stack and for local mode's poller.
 * The visibility timeout is six times the worker's timeout, as AWS advises for Lambda event source
 * mappings, so a message is never redelivered while a worker may still be processing it.
 */
export function frameQueueSettings(input: QueueSettingsInput) {
  return {
    batchSize: input.messagesPerInvocation,
    maxReceiveCount: input.maxReceiveCount,
    maximumConcurrency: input.maxConcurrency,
    visibilityTimeoutSeconds: 6 * input.workerTimeoutSeconds,
    messageRetentionSeconds: FOURTEEN_DAYS,
    reportBatchItemFailures: true,
    /** How long a dead-lettered batch stays invisible after its handler failed on it. */
    deadLetterVisibilityTimeoutSeconds: 15 * 60,
  } as const;
}
