import { Construct } from 'constructs';
import { TerraformOutput, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { AwsContext } from './aws-context';
import { FailureQueue } from './failure-queue';
import { HardenedBucket } from './hardened-bucket';
import { IngressTrigger } from './ingress-trigger';
import { JobTable } from './job-table';
import { LambdaFunction } from './lambda-function';
import { MEDIACONVERT_SERVICE, MediaConvertRole } from './mediaconvert-role';
import { formatFrameRate } from '../pipeline/capture-settings';
import { ENV, FUNCTIONS } from '../pipeline/definition';
import type { StackConfig } from '../pipeline/stack-config';

export interface FramePipelineStackProps {
  readonly config: StackConfig;
  /** Where function bundles are written at synth time. */
  readonly bundleDirectory: string;
}

/**
 * The frame pipeline in one account and region: ingress, frames and egress buckets, the job table,
 * the MediaConvert role, and the ingress function wired to uploads.
 */
export class FramePipelineStack extends TerraformStack {
  readonly ingressFunction: LambdaFunction;

  constructor(scope: Construct, id: string, props: FramePipelineStackProps) {
    super(scope, id);
    const { config } = props;
    const name = (suffix: string) => `${config.namePrefix}-${suffix}`;

    new AwsProvider(this, 'aws', {
      ...(config.region ? { region: config.region } : {}),
      defaultTags: [{ tags: { Application: 'video-frame-pipeline', Pipeline: config.namePrefix, ...config.tags } }],
    });
    const context = new AwsContext(this, 'context');

    const ingress = new HardenedBucket(this, 'ingress', { namePrefix: name('ingress-') });
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
    const ingressFailures = new FailureQueue(this, 'ingress-failures', {
      queueName: name('ingress-failures'),
    });

    this.ingressFunction = new LambdaFunction(this, 'ingress-function', {
      functionName: name(FUNCTIONS.ingress.nameSuffix),
      entry: FUNCTIONS.ingress.entry,
      bundleDirectory: props.bundleDirectory,
      description: 'Submits a MediaConvert frame-capture job for each uploaded video',
      memorySize: 256,
      timeoutSeconds: 60,
      logRetentionDays: config.logRetentionDays,
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
        {
          Sid: 'TrackJobs',
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          Resource: jobs.table.arn,
        },
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
        {
          Sid: 'KeepFailedEvents',
          Effect: 'Allow',
          Action: 'sqs:SendMessage',
          Resource: ingressFailures.queue.arn,
        },
      ],
    });

    new IngressTrigger(this, 'ingress-trigger', {
      ruleName: name('video-uploaded'),
      bucket: ingress.bucket,
      videoSuffixes: config.videoSuffixes,
      target: this.ingressFunction,
      failureQueue: ingressFailures.queue,
    });

    const outputs: Record<string, { value: string; description: string }> = {
      region: { value: context.region, description: 'Region the pipeline runs in' },
      ingress_bucket: { value: ingress.bucket.bucket, description: 'Upload videos here' },
      frames_bucket: { value: frames.bucket.bucket, description: 'Captured JPEG frames (expire)' },
      egress_bucket: { value: egress.bucket.bucket, description: 'Per-video results' },
      job_table: { value: jobs.table.name, description: 'One item per video: status and progress' },
      ingress_function: { value: this.ingressFunction.function.functionName, description: 'Submits frame-capture jobs' },
      ingress_failures_queue: { value: ingressFailures.queue.url, description: 'Upload events that could not be handled' },
    };
    for (const [id, output] of Object.entries(outputs)) new TerraformOutput(this, id, output);
  }
}
