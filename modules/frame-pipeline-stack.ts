import { Construct } from 'constructs';
import { TerraformOutput, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { AwsContext } from './aws-context';
import { EventTrigger } from './event-trigger';
import { FailureQueue } from './failure-queue';
import { FrameQueue } from './frame-queue';
import { HardenedBucket } from './hardened-bucket';
import { JobTable } from './job-table';
import { LambdaFunction } from './lambda-function';
import { MEDIACONVERT_SERVICE, MediaConvertRole } from './mediaconvert-role';
import type { PolicyStatement } from './policy-document';
import { QueueConsumer, queueConsumerStatement } from './queue-consumer';
import { formatFrameRate } from '../pipeline/capture-settings';
import {
  ENV,
  FUNCTIONS,
  frameQueueSettings,
  jobStateChangedPattern,
  videoUploadedPattern,
} from '../pipeline/definition';
import { type StackConfig, resolveProcessorPath } from '../pipeline/stack-config';

export interface FramePipelineStackProps {
  readonly config: StackConfig;
  /** Where function bundles are written at synth time. */
  readonly bundleDirectory: string;
}

/** Dead-lettered batches are rare; two at a time is plenty and leaves concurrency to the workers. */
const DEAD_LETTER_CONCURRENCY = 2;
/** Listing a million frames (1,000 pages) and sending 10,000 messages fits well inside this. */
const COMPLETION_TIMEOUT_SECONDS = 900;

/**
 * The frame pipeline in one account and region: ingress, frames and egress buckets, the job table,
 * the MediaConvert role; the ingress function wired to uploads; the completion function wired to
 * this stack's MediaConvert jobs; the frame queue with its worker, dead-letter queue and
 * dead-letter handler.
 */
export class FramePipelineStack extends TerraformStack {
  readonly ingressFunction: LambdaFunction;
  readonly completionFunction: LambdaFunction;
  readonly frameWorker: LambdaFunction;
  readonly deadLetterFunction: LambdaFunction;

  constructor(scope: Construct, id: string, props: FramePipelineStackProps) {
    super(scope, id);
    const { config } = props;
    const { processing } = config;
    const name = (suffix: string) => `${config.namePrefix}-${suffix}`;

    new AwsProvider(this, 'aws', {
      ...(config.region ? { region: config.region } : {}),
      defaultTags: [{ tags: { Application: 'video-frame-pipeline', Pipeline: config.namePrefix, ...config.tags } }],
    });
    const context = new AwsContext(this, 'context');

    const ingress = new HardenedBucket(this, 'ingress', { namePrefix: name('ingress-'), sendEventsToEventBridge: true });
    const frames = new HardenedBucket(this, 'frames', {
      namePrefix: name('frames-'),
      expireAfterDays: config.framesRetentionDays,
    });
    const egress = new HardenedBucket(this, 'egress', { namePrefix: name('egress-') });
    const jobs = new JobTable(this, 'jobs', { tableName: name('jobs') });
    const mediaConvertRole = new MediaConvertRole(this, 'mediaconvert-role', {
      roleName: name('mediaconvert'),
      context,
      inputBucket: ingress.bucket,
      outputBucket: frames.bucket,
    });
    const ingressFailures = new FailureQueue(this, 'ingress-failures', { queueName: name('ingress-failures') });
    const completionFailures = new FailureQueue(this, 'completion-failures', { queueName: name('completion-failures') });
    const queueSettings = frameQueueSettings(processing);
    const frameQueue = new FrameQueue(this, 'frame-queue', { queueName: name('frames'), settings: queueSettings });

    const common = { bundleDirectory: props.bundleDirectory, logRetentionDays: config.logRetentionDays };
    const framesArn = frames.bucket.arn;
    const grants = {
      trackJobs: (actions: string[]): PolicyStatement => ({ Sid: 'TrackJobs', Effect: 'Allow', Action: actions, Resource: jobs.table.arn }),
      // Without s3:ListBucket, S3 answers a missing object with 403 instead of 404, and a missing
      // frame or batch result would look like a permissions fault.
      listFrames: { Sid: 'ListFramesBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: framesArn } as PolicyStatement,
      batchResults: (actions: string[]): PolicyStatement => ({
        Sid: 'KeepBatchResults',
        Effect: 'Allow',
        Action: actions,
        Resource: `${framesArn}/*/batches/*`,
      }),
      writeResults: {
        Sid: 'WriteResults',
        Effect: 'Allow',
        // Large results files are multipart uploads; a failed one is aborted.
        Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
        Resource: `${egress.bucket.arn}/*`,
      } as PolicyStatement,
    };
    const processingEnvironment = {
      [ENV.jobTable]: jobs.table.name,
      [ENV.framesBucket]: frames.bucket.bucket,
      [ENV.egressBucket]: egress.bucket.bucket,
      // A fan-in can live as long as the function that runs it; then another may take over.
      [ENV.fanInLeaseSeconds]: String(processing.workerTimeoutSeconds),
    };

    this.ingressFunction = new LambdaFunction(this, 'ingress-function', {
      ...common,
      functionName: name(FUNCTIONS.ingress.nameSuffix),
      entry: FUNCTIONS.ingress.entry,
      description: 'Submits a MediaConvert frame-capture job for each uploaded video',
      memorySize: 256,
      timeoutSeconds: 60,
      environment: {
        [ENV.jobTable]: jobs.table.name,
        [ENV.framesBucket]: frames.bucket.bucket,
        [ENV.mediaConvertRoleArn]: mediaConvertRole.role.arn,
        [ENV.pipelineName]: config.namePrefix,
        [ENV.defaultFps]: formatFrameRate(config.capture.fps),
        [ENV.defaultQuality]: String(config.capture.quality),
        [ENV.defaultMaxCaptures]: String(config.capture.maxCaptures),
      },
      statements: [
        // HeadObject is authorised by s3:GetObject.
        { Sid: 'ReadUploads', Effect: 'Allow', Action: 's3:GetObject', Resource: `${ingress.bucket.arn}/*` },
        grants.trackJobs(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']),
        {
          Sid: 'SubmitAndFindJobs',
          Effect: 'Allow',
          Action: ['mediaconvert:CreateJob', 'mediaconvert:ListJobs'],
          Resource: context.arn('mediaconvert', 'queues/*'),
        },
        {
          Sid: 'CancelSupersededJobs',
          Effect: 'Allow',
          Action: 'mediaconvert:CancelJob',
          Resource: context.arn('mediaconvert', 'jobs/*'),
        },
        {
          Sid: 'PassRoleToMediaConvertOnly',
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: mediaConvertRole.role.arn,
          Condition: { StringEquals: { 'iam:PassedToService': MEDIACONVERT_SERVICE } },
        },
        { Sid: 'KeepFailedEvents', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: ingressFailures.queue.arn },
      ],
    });
    new EventTrigger(this, 'ingress-trigger', {
      ruleName: name('video-uploaded'),
      description: 'A video landed in the ingress bucket',
      eventPattern: videoUploadedPattern(ingress.bucket.bucket, config.videoSuffixes),
      target: this.ingressFunction,
      failureQueue: ingressFailures,
    });

    this.completionFunction = new LambdaFunction(this, 'completion-function', {
      ...common,
      functionName: name(FUNCTIONS.completion.nameSuffix),
      entry: FUNCTIONS.completion.entry,
      description: 'Records MediaConvert progress; on completion counts the frames and fans them out',
      memorySize: 512,
      timeoutSeconds: COMPLETION_TIMEOUT_SECONDS,
      environment: {
        ...processingEnvironment,
        [ENV.frameQueueUrl]: frameQueue.queue.url,
        [ENV.framesPerMessage]: String(processing.framesPerMessage),
      },
      statements: [
        grants.trackJobs(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
        grants.listFrames,
        { Sid: 'FanOutFrames', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: frameQueue.queue.arn },
        // A video with no frames is completed at once, with empty results.
        grants.writeResults,
        { Sid: 'KeepFailedEvents', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: completionFailures.queue.arn },
      ],
    });
    new EventTrigger(this, 'completion-trigger', {
      ruleName: name('job-state'),
      description: "One of this pipeline's MediaConvert jobs changed state",
      eventPattern: jobStateChangedPattern(config.namePrefix),
      target: this.completionFunction,
      failureQueue: completionFailures,
    });

    this.frameWorker = new LambdaFunction(this, 'frame-worker', {
      ...common,
      functionName: name(FUNCTIONS.frameWorker.nameSuffix),
      entry: FUNCTIONS.frameWorker.entry,
      processor: resolveProcessorPath(processing.processor),
      description: 'Runs the frame processor over a batch of frames; the last batch of a run fans in',
      memorySize: processing.workerMemoryMb,
      timeoutSeconds: processing.workerTimeoutSeconds,
      environment: processingEnvironment,
      statements: [
        grants.trackJobs(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
        { Sid: 'ReadFrames', Effect: 'Allow', Action: 's3:GetObject', Resource: `${framesArn}/*/frames/*` },
        grants.listFrames,
        grants.batchResults(['s3:GetObject', 's3:PutObject']),
        grants.writeResults,
        queueConsumerStatement('ConsumeFrameQueue', frameQueue.queue),
      ],
    });
    new QueueConsumer(this, 'frame-worker-mapping', {
      queue: frameQueue.queue,
      consumer: this.frameWorker,
      batchSize: queueSettings.batchSize,
      maximumConcurrency: queueSettings.maximumConcurrency,
    });

    this.deadLetterFunction = new LambdaFunction(this, 'frame-dead-letters', {
      ...common,
      functionName: name(FUNCTIONS.deadLetters.nameSuffix),
      entry: FUNCTIONS.deadLetters.entry,
      description: 'Counts the frames of batches that failed every delivery as failed, so runs finish',
      memorySize: 512,
      // It may run the fan-in, under the same lease as the worker.
      timeoutSeconds: processing.workerTimeoutSeconds,
      environment: processingEnvironment,
      statements: [
        grants.trackJobs(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
        grants.listFrames,
        grants.batchResults(['s3:GetObject', 's3:PutObject']),
        grants.writeResults,
        queueConsumerStatement('ConsumeDeadLetters', frameQueue.deadLetterQueue),
      ],
    });
    new QueueConsumer(this, 'frame-dead-letters-mapping', {
      queue: frameQueue.deadLetterQueue,
      consumer: this.deadLetterFunction,
      batchSize: 1,
      maximumConcurrency: DEAD_LETTER_CONCURRENCY,
    });

    const outputs: Record<string, { value: string; description: string }> = {
      region: { value: context.region, description: 'Region the pipeline runs in' },
      ingress_bucket: { value: ingress.bucket.bucket, description: 'Upload videos here' },
      frames_bucket: { value: frames.bucket.bucket, description: 'Captured JPEG frames and per-batch results (expire)' },
      egress_bucket: { value: egress.bucket.bucket, description: 'Per-video results.jsonl and summary.json' },
      job_table: { value: jobs.table.name, description: 'One item per video: status and progress' },
      ingress_function: { value: this.ingressFunction.function.functionName, description: 'Submits frame-capture jobs' },
      completion_function: { value: this.completionFunction.function.functionName, description: 'Counts frames and fans them out' },
      frame_worker_function: { value: this.frameWorker.function.functionName, description: 'Processes frame batches' },
      frame_queue: { value: frameQueue.queue.url, description: 'Frame batch messages (versioned contract)' },
      frame_dead_letter_queue: { value: frameQueue.deadLetterQueue.url, description: 'Batches that failed every delivery' },
      ingress_failures_queue: { value: ingressFailures.queue.url, description: 'Upload events that could not be handled' },
      completion_failures_queue: { value: completionFailures.queue.url, description: 'Job state events that could not be handled' },
    };
    for (const [id, output] of Object.entries(outputs)) new TerraformOutput(this, id, output);
  }
}
