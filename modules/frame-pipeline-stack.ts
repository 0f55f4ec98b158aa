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
import { NotificationTopic } from './notification-topic';
import { OutcomeNotifications } from './outcome-notifications';
import { PipelineAlarms } from './pipeline-alarms';
import { QueueConsumer } from './queue-consumer';
import { ScheduledTrigger } from './scheduled-trigger';
import type { StackConfig } from '../pipeline/stack-config';
import { CLIP_PIECES_PREFIX, FUNCTIONS, OPERATIONS_LOG, frameQueueSettings } from '../pipeline/definition';
import { outcomeEventPattern } from '../pipeline/outcome-event';
import { NOTIFY_OUTCOMES_RULE_SUFFIX, pipelinePermissions } from '../pipeline/permissions';
import { type FunctionKey, pipelineNames, pipelineTopology, resourceName } from '../pipeline/topology';

/** What each counted log line's alarm tells the person who gets it (pipeline/definition.ts OPERATIONS_LOG). */
const OPERATIONS_LOG_ALARMS: Record<keyof typeof OPERATIONS_LOG, string> = {
  runSwept: "The sweeper found a run stalled and repaired or ended it: an event was lost upstream. The sweeper's logs name the run.",
  unattributedEvent: 'A failed event named no run: it is recorded under unattributed/ for a person to look at.',
};

/** `RunsSwept` → `runs-swept`: a metric's name as part of an alarm's. */
const kebabCase = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

export interface FramePipelineStackProps {
  readonly config: StackConfig;
  /** Where function bundles are written at synth time. */
  readonly bundleDirectory: string;
}

/**
 * The frame pipeline in one account and region: ingress, frames and egress buckets, the job table,
 * the MediaConvert role; the ingress function wired to uploads; the completion function wired to
 * this stack's MediaConvert jobs; the frame queue with its worker, dead-letter queue and
 * dead-letter handler; the failed-events function on the failure queues; the sweeper on a
 * schedule; the notifications topic with the alarms (and, when configured, run outcomes) on it.
 */
export class FramePipelineStack extends TerraformStack {
  readonly ingressFunction: LambdaFunction;
  readonly completionFunction: LambdaFunction;
  readonly frameWorker: LambdaFunction;
  readonly deadLetterFunction: LambdaFunction;
  readonly failedEventsFunction: LambdaFunction;
  readonly sweeperFunction: LambdaFunction;
  readonly notifications: NotificationTopic;

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
    // Before the definition: the topic's ARN is in its policy and the alarms' grants.
    const notifications = (this.notifications = new NotificationTopic(this, 'notifications', {
      topicName: name('notifications'),
      emails: config.operations.notificationEmails,
    }));
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
      notificationTopic: notifications.topic.arn,
      accountRoot: context.globalArn('iam', 'root'),
    });
    ingress.restrictTo(permissions.bucketPolicies.ingress);
    frames.restrictTo(permissions.bucketPolicies.frames);
    egress.restrictTo(permissions.bucketPolicies.egress);
    frameQueue.restrictTo({ queue: permissions.queuePolicies.frames, deadLetters: permissions.queuePolicies['frames-dead-letters'] });
    notifications.restrictTo({ topic: permissions.topicPolicy, key: permissions.notificationKeyPolicy });
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
    this.failedEventsFunction = lambda('failed-events', 'failedEvents');
    this.sweeperFunction = lambda('sweeper', 'sweeper');

    const deployed: Record<FunctionKey, LambdaFunction> = {
      ingress: this.ingressFunction,
      completion: this.completionFunction,
      frameWorker: this.frameWorker,
      deadLetters: this.deadLetterFunction,
      failedEvents: this.failedEventsFunction,
      sweeper: this.sweeperFunction,
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
    const queues = {
      frames: frameQueue.queue,
      'frames-dead-letters': frameQueue.deadLetterQueue,
      'ingress-failures': ingressFailures.queue,
      'completion-failures': completionFailures.queue,
    };
    for (const consumer of topology.queueConsumers) {
      // A function fed by one queue keeps the id it always had; one fed by several (the
      // failed-events function) gets one mapping per queue.
      const feeds = topology.queueConsumers.filter(({ target }) => target === consumer.target).length;
      const suffix = FUNCTIONS[consumer.target].nameSuffix;
      new QueueConsumer(this, feeds === 1 ? `${suffix}-mapping` : `${suffix}-${consumer.queue}-mapping`, {
        queue: queues[consumer.queue],
        consumer: deployed[consumer.target],
        batchSize: consumer.batchSize,
        maximumConcurrency: consumer.maximumConcurrency,
      });
    }

    for (const schedule of topology.schedules) {
      new ScheduledTrigger(this, `${schedule.name.slice(config.namePrefix.length + 1)}-schedule`, {
        ruleName: schedule.name,
        description: schedule.description,
        everyMinutes: schedule.everyMinutes,
        target: deployed[schedule.target],
      });
    }

    const { notifyOutcomes } = config.operations;
    if (notifyOutcomes !== 'none') {
      new OutcomeNotifications(this, 'outcome-notifications', {
        ruleName: name(NOTIFY_OUTCOMES_RULE_SUFFIX),
        eventPattern: outcomeEventPattern(config.namePrefix, notifyOutcomes),
        topic: notifications,
      });
    }
    new PipelineAlarms(this, 'alarms', {
      namePrefix: config.namePrefix,
      topicArn: notifications.topic.arn,
      frameDeadLetters: frameQueue.deadLetterQueue,
      failureQueues: { 'ingress-failures': ingressFailures.queue, 'completion-failures': completionFailures.queue },
      functions: Object.fromEntries(
        (Object.entries(deployed) as [FunctionKey, LambdaFunction][]).map(([key, fn]) => [FUNCTIONS[key].nameSuffix, fn]),
      ),
      logMetrics: Object.fromEntries(
        (Object.entries(OPERATIONS_LOG) as [keyof typeof OPERATIONS_LOG, (typeof OPERATIONS_LOG)[keyof typeof OPERATIONS_LOG]][]).map(
          ([key, line]) => [
            kebabCase(line.metric),
            { message: line.message, metric: line.metric, source: deployed[line.function], description: OPERATIONS_LOG_ALARMS[key] },
          ],
        ),
      ),
    });

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
      failed_events_function: { value: this.failedEventsFunction.function.functionName, description: 'Marks the runs of events kept in the failure queues FAILED' },
      sweeper_function: { value: this.sweeperFunction.function.functionName, description: 'Repairs or ends runs stalled in a running state, on a schedule' },
      notification_topic_arn: { value: notifications.topic.arn, description: 'Alarms and run outcomes; subscribe to it (operations.notificationEmails does for email)' },
      cli_policy_arn: { value: cliPolicy.policy.arn, description: 'Attach to the identities that use the frames CLI with this stack' },
    };
    for (const [id, output] of Object.entries(outputs)) new TerraformOutput(this, id, output);
  }
}
