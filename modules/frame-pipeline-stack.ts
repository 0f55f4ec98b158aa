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
import { MediaConvertRole } from './mediaconvert-role';
import { QueueConsumer } from './queue-consumer';
import type { StackConfig } from '../pipeline/stack-config';
import { CLIP_PIECES_PREFIX, FUNCTIONS, frameQueueSettings } from '../pipeline/definition';
import { pipelinePermissions } from '../pipeline/permissions';
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
    const mediaConvertRoleName = name('mediaconvert');
    // Known from its name, so the definition can grant PassRole on it before the role exists.
    const mediaConvertRoleArn = context.globalArn('iam', `role/${mediaConvertRoleName}`);

    const topology = pipelineTopology(config, {
      ingressBucket: ingress.bucket.bucket,
      framesBucket: frames.bucket.bucket,
      egressBucket: egress.bucket.bucket,
      jobTable: jobs.table.name,
      frameQueueUrl: frameQueue.queue.url,
      mediaConvertRoleArn,
    });
    const { functions } = topology;
    // Every grant, from the one definition local mode enforces too.
    const permissions = pipelinePermissions(config, topology, {
      arn: (service, resource) => context.arn(service, resource),
      accountId: context.accountId,
      buckets: { ingress: ingress.bucket.arn, frames: frames.bucket.arn, egress: egress.bucket.arn },
      jobTable: jobs.table.arn,
      queues: {
        frames: frameQueue.queue.arn,
        'frames-dead-letters': frameQueue.deadLetterQueue.arn,
        'ingress-failures': ingressFailures.queue.arn,
        'completion-failures': completionFailures.queue.arn,
      },
      mediaConvertRole: mediaConvertRoleArn,
    });
    ingress.restrictTo(permissions.bucketPolicies.ingress);
    frames.restrictTo(permissions.bucketPolicies.frames);
    egress.restrictTo(permissions.bucketPolicies.egress);
    frameQueue.restrictTo({ queue: permissions.queuePolicies.frames, deadLetters: permissions.queuePolicies['frames-dead-letters'] });
    new MediaConvertRole(this, 'mediaconvert-role', {
      roleName: mediaConvertRoleName,
      trust: permissions.trust.mediaConvert,
      statements: permissions.identity.mediaConvert,
    });

    const common = { bundleDirectory: props.bundleDirectory, logRetentionDays: config.logRetentionDays };
    const lambda = (id: string, key: FunctionKey) =>
      new LambdaFunction(this, id, { ...common, spec: functions[key], statements: permissions.identity[key], trust: permissions.trust[key] });
    this.ingressFunction = lambda('ingress-function', 'ingress');
    this.completionFunction = lambda('completion-function', 'completion');
    this.frameWorker = lambda('frame-worker', 'frameWorker');
    this.deadLetterFunction = lambda('frame-dead-letters', 'deadLetters');

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
    for (const [key, queue] of Object.entries(failureQueues) as [keyof typeof failureQueues, FailureQueue][]) {
      queue.keepFailuresOf(
        triggers.filter(({ rule }) => rule.failureQueue === key).map(({ rule }) => deployed[rule.target]),
        permissions.queuePolicies[key],
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

    const cliPolicy = new CliPolicy(this, 'cli-policy', { policyName: resourceName(config, 'cli'), statements: permissions.identity.cli });

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
