import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type SynthesizedStack, grantsOf, referenceTo, resourcesOf, synthesizeStack, theResource } from '../support/synth';

let stack: SynthesizedStack;
beforeAll(() => {
  stack = synthesizeStack();
});

const arnOf = (type: string, predicate: (r: any) => boolean) => referenceTo(stack, type, predicate, 'arn');
const bucketArn = (prefix: string) => arnOf('aws_s3_bucket', (b) => b.bucket_prefix === prefix);
const queueArn = (name: string) => arnOf('aws_sqs_queue', (q) => q.name === name);
const tableArn = () => arnOf('aws_dynamodb_table', () => true);
// The log group's ARN from its name (the group itself is asserted in stack.test.ts): the same as
// Terraform's `arn` attribute of aws_cloudwatch_log_group, plus the streams under it.
const logsOf = (name: string) => ({
  actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  resource: expect.stringMatching(new RegExp(`^arn:\\$\\{data\\.aws_partition\\..+\\}:logs:\\$\\{data\\.aws_region\\..+\\}:\\$\\{data\\.aws_caller_identity\\..+\\}:log-group:/aws/lambda/${name}:\\*$`)),
});

describe('the completion rule', () => {
  it("matches this stack's MediaConvert jobs in the four states it handles, by source and detail-type", () => {
    const rule = theResource(stack, 'aws_cloudwatch_event_rule', (r) => r.name === 'frames-job-state');
    expect(JSON.parse(rule.event_pattern)).toEqual({
      source: ['aws.mediaconvert'],
      'detail-type': ['MediaConvert Job State Change'],
      detail: { status: ['STATUS_UPDATE', 'COMPLETE', 'ERROR', 'CANCELED'], userMetadata: { pipeline: ['frames'] } },
    });
  });

  it('targets the completion function, and keeps what cannot be delivered or handled', () => {
    const functionArn = arnOf('aws_lambda_function', (f) => f.function_name === 'frames-completion');
    const failures = queueArn('frames-completion-failures');
    const targets = resourcesOf(stack, 'aws_cloudwatch_event_target').filter((t) => t.arn === functionArn);
    // Job state changes and redrives.
    expect(targets.map((t) => t.rule).sort()).toEqual(
      ['frames-job-state', 'frames-redrive-completion'].map((name) => referenceTo(stack, 'aws_cloudwatch_event_rule', (r) => r.name === name, 'name')).sort(),
    );
    for (const target of targets) {
      expect(target).toMatchObject({ dead_letter_config: { arn: failures }, retry_policy: { maximum_retry_attempts: 185 } });
    }
    expect(theResource(stack, 'aws_lambda_function_event_invoke_config', (c) => c.function_name.includes('completion'))).toMatchObject({
      destination_config: { on_failure: { destination: failures } },
    });
  });
});

describe('the frame queue', () => {
  it('is encrypted, hides a message for six worker timeouts, and dead-letters after maxReceiveCount', () => {
    const queue = theResource(stack, 'aws_sqs_queue', (q) => q.name === 'frames-frames');
    expect(queue).toMatchObject({ sqs_managed_sse_enabled: true, visibility_timeout_seconds: 6 * 180, message_retention_seconds: 1209600 });
    expect(JSON.parse(queue.redrive_policy)).toEqual({ deadLetterTargetArn: queueArn('frames-frames-dead-letters'), maxReceiveCount: 3 });
  });

  it('has an encrypted dead-letter queue that accepts redrives from the frame queue only', () => {
    const deadLetters = theResource(stack, 'aws_sqs_queue', (q) => q.name === 'frames-frames-dead-letters');
    expect(deadLetters.sqs_managed_sse_enabled).toBe(true);
    const [allow] = resourcesOf(stack, 'aws_sqs_queue_redrive_allow_policy');
    expect(JSON.parse(allow!.redrive_allow_policy)).toEqual({ redrivePermission: 'byQueue', sourceQueueArns: [queueArn('frames-frames')] });
  });

  it('denies requests without TLS on both queues', () => {
    for (const name of ['frames-frames', 'frames-frames-dead-letters']) {
      const url = referenceTo(stack, 'aws_sqs_queue', (q) => q.name === name, 'url');
      const policy = JSON.parse(theResource(stack, 'aws_sqs_queue_policy', (p) => p.queue_url === url).policy);
      expect(policy.Statement).toEqual([
        expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]);
    }
  });

  it('feeds the worker with partial batch responses and bounded concurrency, once its permissions exist', () => {
    const mapping = theResource(stack, 'aws_lambda_event_source_mapping', (m) => m.event_source_arn === queueArn('frames-frames'));
    expect(mapping).toMatchObject({
      function_name: arnOf('aws_lambda_function', (f) => f.function_name === 'frames-frame-worker'),
      batch_size: 1,
      function_response_types: ['ReportBatchItemFailures'],
      scaling_config: { maximum_concurrency: 50 },
    });
    expect(mapping.depends_on).toEqual([expect.stringContaining('aws_iam_role_policy')]);
  });

  it('feeds dead-lettered batches to the dead-letter handler', () => {
    const mapping = theResource(stack, 'aws_lambda_event_source_mapping', (m) => m.event_source_arn === queueArn('frames-frames-dead-letters'));
    expect(mapping).toMatchObject({
      function_name: arnOf('aws_lambda_function', (f) => f.function_name === 'frames-frame-dead-letters'),
      function_response_types: ['ReportBatchItemFailures'],
    });
  });
});

describe('least privilege', () => {
  const framesBucket = () => bucketArn('frames-frames-');
  const writeResults = () => ({ actions: ['s3:AbortMultipartUpload', 's3:PutObject'], resource: `${bucketArn('frames-egress-')}/*` });
  // Every function that can end a run puts its outcome event on the default bus, and nothing else.
  const announceOutcomes = () => ({
    actions: ['events:PutEvents'],
    resource: expect.stringMatching(/^arn:\$\{.+\}:events:\$\{.+\}:\$\{.+\}:event-bus\/default$/),
    condition: {
      'ForAllValues:StringEquals': { 'events:source': ['video-frame-pipeline'], 'events:detail-type': ['Video Frames Completed', 'Video Frames Failed'] },
      Null: { 'events:source': 'false', 'events:detail-type': 'false' },
    },
  });
  const consume = (queue: string) => ({
    actions: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
    resource: queueArn(queue),
  });

  it('the completion function reads and updates runs, lists frames, sends batches, writes empty results, cancels only its own jobs', () => {
    expect(grantsOf(stack, 'frames-completion')).toEqual({
      WriteOwnLogs: logsOf('frames-completion'),
      TrackJobs: { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resource: tableArn() },
      ListFramesBucket: { actions: ['s3:ListBucket'], resource: framesBucket() },
      FanOutFrames: { actions: ['sqs:SendMessage'], resource: queueArn('frames-frames') },
      // A failed segmented run stops its other segments' jobs: this pipeline's tagged jobs only.
      CancelOwnJobs: {
        actions: ['mediaconvert:CancelJob'],
        resource: expect.stringMatching(/:mediaconvert:.+:jobs\/\*$/),
        condition: { StringEquals: { 'aws:ResourceTag/pipeline': 'frames' } },
      },
      WriteResults: writeResults(),
      KeepFailedEvents: { actions: ['sqs:SendMessage'], resource: queueArn('frames-completion-failures') },
      AnnounceOutcomes: announceOutcomes(),
    });
  });

  it('the frame worker reads frames, keeps batch results, writes results and consumes its queue', () => {
    expect(grantsOf(stack, 'frames-frame-worker')).toEqual({
      WriteOwnLogs: logsOf('frames-frame-worker'),
      TrackJobs: { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resource: tableArn() },
      ReadFrames: { actions: ['s3:GetObject'], resource: `${framesBucket()}/*/frames/*` },
      ListFramesBucket: { actions: ['s3:ListBucket'], resource: framesBucket() },
      KeepBatchResults: { actions: ['s3:GetObject', 's3:PutObject'], resource: `${framesBucket()}/*/batches/*` },
      WriteResults: writeResults(),
      ConsumeFrameQueue: consume('frames-frames'),
      AnnounceOutcomes: announceOutcomes(),
    });
  });

  it('the dead-letter handler cannot read frames, only batch results, and consumes only the dead-letter queue', () => {
    expect(grantsOf(stack, 'frames-frame-dead-letters')).toEqual({
      WriteOwnLogs: logsOf('frames-frame-dead-letters'),
      TrackJobs: { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resource: tableArn() },
      ListFramesBucket: { actions: ['s3:ListBucket'], resource: framesBucket() },
      KeepBatchResults: { actions: ['s3:GetObject', 's3:PutObject'], resource: `${framesBucket()}/*/batches/*` },
      WriteResults: writeResults(),
      ConsumeDeadLetters: consume('frames-frames-dead-letters'),
      AnnounceOutcomes: announceOutcomes(),
    });
  });
});

describe('the frame worker', () => {
  it('gets the settings of processing and the fan-in lease through its environment', () => {
    const worker = theResource(stack, 'aws_lambda_function', (f) => f.function_name === 'frames-frame-worker');
    expect(worker).toMatchObject({ timeout: 180, memory_size: 1536, architectures: ['arm64'] });
    expect(worker.environment.variables).toMatchObject({
      JOB_TABLE_NAME: expect.stringContaining('aws_dynamodb_table'),
      FRAMES_BUCKET_NAME: expect.stringContaining('aws_s3_bucket'),
      EGRESS_BUCKET_NAME: expect.stringContaining('aws_s3_bucket'),
      FAN_IN_LEASE_SECONDS: '180',
    });
    const completion = theResource(stack, 'aws_lambda_function', (f) => f.function_name === 'frames-completion');
    expect(completion.environment.variables).toMatchObject({ FRAMES_PER_MESSAGE: '100', FRAME_QUEUE_URL: expect.stringContaining('aws_sqs_queue') });
  });

  it("ships sharp's Linux arm64 binary and libvips beside the bundle, whatever machine synthesizes", () => {
    const modules = join(stack.bundleDirectory, 'frames-frame-worker', 'node_modules');
    const binaryDirectory = join(modules, '@img', 'sharp-linux-arm64', 'lib');
    const binary = readdirSync(binaryDirectory).find((file) => file.endsWith('.node'));
    // An ELF shared object for AArch64: e_machine (bytes 18-19, little-endian) is 183.
    const header = readFileSync(join(binaryDirectory, binary!));
    expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(header.readUInt16LE(18)).toBe(183);
    expect(readdirSync(join(modules, '@img', 'sharp-libvips-linux-arm64', 'lib')).some((file) => file.startsWith('libvips-cpp.so'))).toBe(true);
    // Only the worker imports sharp.
    expect(existsSync(join(stack.bundleDirectory, 'frames-completion', 'node_modules'))).toBe(false);
  });

  it('applies the processing configuration to the queue, the mapping and the worker', () => {
    const custom = synthesizeStack({
      processing: { framesPerMessage: 250, maxReceiveCount: 5, maxConcurrency: 200, workerTimeoutSeconds: 300, workerMemoryMb: 3008, messagesPerInvocation: 2 },
    });
    const queue = theResource(custom, 'aws_sqs_queue', (q) => q.name === 'frames-frames');
    expect(queue.visibility_timeout_seconds).toBe(1800);
    expect(JSON.parse(queue.redrive_policy).maxReceiveCount).toBe(5);
    expect(resourcesOf(custom, 'aws_lambda_event_source_mapping').find((m) => m.batch_size === 2)).toMatchObject({ scaling_config: { maximum_concurrency: 200 } });
    const worker = theResource(custom, 'aws_lambda_function', (f) => f.function_name === 'frames-frame-worker');
    expect(worker).toMatchObject({ timeout: 300, memory_size: 3008 });
    expect(worker.environment.variables.FAN_IN_LEASE_SECONDS).toBe('300');
    const completion = theResource(custom, 'aws_lambda_function', (f) => f.function_name === 'frames-completion');
    expect(completion.environment.variables.FRAMES_PER_MESSAGE).toBe('250');
  });
});
