import { Construct } from 'constructs';
import { TerraformOutput, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { AwsContext } from './aws-context';
import { CliPolicy } from './cli-policy';
import { EventTrigger } from './event-trigger';
import { FailureQueue } from './failure-queue';
import { FrameQueue } from './frame-queue';
import { HardenedBucket } from './hardened-bucket';
import { JobTable } from './job-table';
import { LambdaFunction } from './lambda-function';
import { MEDIACONVERT_SERVICE, MediaConvertRole } from './mediaconvert-role';
import type { PolicyStatement } from './policy-document';
import { QueueConsumer, queueConsumerStatement } from './queue-consumer';
import type { StackConfig } from '../pipeline/stack-config';
import { streamOf } from '../pipeline/clip-request';
import { CLIP_PIECES_PREFIX, FUNCTIONS, frameQueueSettings } from '../pipeline/definition';
import { type FunctionKey, pipelineNames, pipelineTopology, resourceName } from '../pipeline/topology';

export interface FramePipelineStackProps {
  readonly config: StackConfig;
  /** Where function bundles are written at synth time. */
  readonly bundleDirectory: string;
}


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
    const name = (suffix: string) => resourceName(config, suffix);
    const names = pipelineNames(config);

    new AwsProvider(this, 'aws', {
      ...(config.region ? { region: config.region } : {}),
      defaultTags: [{ tags: { Application: 'video-frame-pipeline', Pipeline: config.namePrefix, ...config.tags } }],
    });
    const context = new AwsContext(this, 'context');

    const ingress = new HardenedBucket(this, 'ingress', {
      namePrefix: name('ingress-'),
      sendEventsToEventBridge: true,
      // KVS clips are pulled here for MediaConvert; like frames, they are intermediate.
      expirePrefix: { prefix: CLIP_PIECES_PREFIX, days: config.framesRetentionDays },
    });
    const frames = new HardenedBucket(this, 'frames', {
      namePrefix: name('frames-'),
      expireAfterDays: config.framesRetentionDays,
    });
    const egress = new HardenedBucket(this, 'egress', { namePrefix: name('egress-') });
    const jobs = new JobTable(this, 'jobs', { tableName: names.jobTable });
    const mediaConvertRole = new MediaConvertRole(this, 'mediaconvert-role', {
      roleName: name('mediaconvert'),
      context,
      inputBucket: ingress.bucket,
      outputBucket: frames.bucket,
    });
    const ingressFailures = new FailureQueue(this, 'ingress-failures', {
      queueName: names.failureQueues['ingress-failures'],
    });
    const completionFailures = new FailureQueue(this, 'completion-failures', {
      queueName: names.failureQueues['completion-failures'],
    });
    const frameQueue = new FrameQueue(this, 'frame-queue', {
      queueName: names.frameQueue,
      deadLetterQueueName: names.frameDeadLetterQueue,
      settings: frameQueueSettings(config.processing),
    });

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
    const topology = pipelineTopology(config, {
      ingressBucket: ingress.bucket.bucket,
      framesBucket: frames.bucket.bucket,
      egressBucket: egress.bucket.bucket,
      jobTable: jobs.table.name,
      frameQueueUrl: frameQueue.queue.url,
      mediaConvertRoleArn: mediaConvertRole.role.arn,
    });
    const { functions } = topology;

    this.ingressFunction = new LambdaFunction(this, 'ingress-function', {
      ...common,
      spec: functions.ingress,
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
        {
          Sid: 'WriteClipPieces',
          Effect: 'Allow',
          // Pieces are multipart uploads; a failed one is aborted, never left half written.
          Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
          Resource: `${ingress.bucket.arn}/${CLIP_PIECES_PREFIX}*`,
        },
        ...clipStreamStatements(config.kvsStreams, context),
      ],
    });

    this.completionFunction = new LambdaFunction(this, 'completion-function', {
      ...common,
      spec: functions.completion,
      statements: [
        grants.trackJobs(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
        grants.listFrames,
        { Sid: 'FanOutFrames', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: frameQueue.queue.arn },
        // A video with no frames is completed at once, with empty results.
        grants.writeResults,
        { Sid: 'KeepFailedEvents', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: completionFailures.queue.arn },
      ],
    });

    this.frameWorker = new LambdaFunction(this, 'frame-worker', {
      ...common,
      spec: functions.frameWorker,
      statements: [
        grants.trackJobs(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
        { Sid: 'ReadFrames', Effect: 'Allow', Action: 's3:GetObject', Resource: `${framesArn}/*/frames/*` },
        grants.listFrames,
        grants.batchResults(['s3:GetObject', 's3:PutObject']),
        grants.writeResults,
        queueConsumerStatement('ConsumeFrameQueue', frameQueue.queue),
      ],
    });

    this.deadLetterFunction = new LambdaFunction(this, 'frame-dead-letters', {
      ...common,
      spec: functions.deadLetters,
      statements: [
        grants.trackJobs(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
        grants.listFrames,
        grants.batchResults(['s3:GetObject', 's3:PutObject']),
        grants.writeResults,
        queueConsumerStatement('ConsumeDeadLetters', frameQueue.deadLetterQueue),
      ],
    });

    const deployed: Record<FunctionKey, LambdaFunction> = {
      ingress: this.ingressFunction,
      completion: this.completionFunction,
      frameWorker: this.frameWorker,
      deadLetters: this.deadLetterFunction,
    };
    const failureQueues = { 'ingress-failures': ingressFailures, 'completion-failures': completionFailures };
    const triggers = topology.rules.map((rule) => ({
      rule,
      // One trigger per rule (the ingress function has two: uploads and clip requests).
      trigger: new EventTrigger(this, `${rule.name.slice(config.namePrefix.length + 1)}-trigger`, {
        ruleName: rule.name,
        description: rule.description,
        eventPattern: rule.pattern,
        target: deployed[rule.target],
        failureQueue: failureQueues[rule.failureQueue],
      }),
    }));
    for (const [key, queue] of Object.entries(failureQueues)) {
      queue.keepFailuresOf(
        triggers
          .filter(({ rule }) => rule.failureQueue === key)
          .map(({ rule, trigger }) => ({ ruleArn: trigger.rule.arn, target: deployed[rule.target] })),
      );
    }
    const queues = { frames: frameQueue.queue, 'frames-dead-letters': frameQueue.deadLetterQueue };
    for (const consumer of topology.queueConsumers) {
      new QueueConsumer(this, `${FUNCTIONS[consumer.target].nameSuffix}-mapping`, {
        queue: queues[consumer.queue],
        consumer: deployed[consumer.target],
        batchSize: consumer.batchSize,
        maximumConcurrency: consumer.maximumConcurrency,
      });
    }

    const cliPolicy = new CliPolicy(this, 'cli-policy', {
      policyName: resourceName(config, 'cli'),
      context,
      ingressBucket: ingress.bucket,
      egressBucket: egress.bucket,
      jobTable: jobs.table,
    });

    const outputs: Record<string, { value: string; description: string }> = {
      region: { value: context.region, description: 'Region the pipeline runs in' },
      pipeline_name: { value: config.namePrefix, description: 'The "pipeline" a clip request event names (detail.pipeline)' },
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
      cli_policy_arn: { value: cliPolicy.policy.arn, description: 'Attach to the identities that use the frames CLI with this stack' },
    };
    for (const [id, output] of Object.entries(outputs)) new TerraformOutput(this, id, output);
  }
}

/**
 * Read access to the configured Kinesis video streams only: a name means that stream in this
 * account and region (any incarnation: a stream ARN ends in its creation time), an ARN exactly it.
 * No streams configured, no statement: clip requests then fail with AccessDeniedException.
 */
function clipStreamStatements(streams: readonly string[], context: AwsContext): PolicyStatement[] {
  if (streams.length === 0) return [];
  return [
    {
      Sid: 'ClipConfiguredStreams',
      Effect: 'Allow',
      Action: ['kinesisvideo:GetDataEndpoint', 'kinesisvideo:ListFragments', 'kinesisvideo:GetClip'],
      Resource: streams.map((stream) => {
        const { name, arn } = streamOf(stream)!;
        return arn ?? context.arn('kinesisvideo', `stream/${name}/*`);
      }),
    },
  ];
}
