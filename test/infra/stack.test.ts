import { LAMBDA_RUNTIME } from '../../modules/lambda-function';
import {
  type SynthesizedStack,
  allStatements,
  asList,
  referenceTo,
  resourcesOf,
  synthesizeStack,
  theResource,
} from '../support/synth';

let stack: SynthesizedStack;
beforeAll(() => {
  stack = synthesizeStack();
});

const bucketIds = () => Object.keys(stack.resource.aws_s3_bucket);
const forBucket = (type: string, bucketId: string) =>
  resourcesOf(stack, type).filter((r) => r.bucket === `\${aws_s3_bucket.${bucketId}.id}`);

describe('buckets', () => {
  it('are the ingress, frames and egress buckets, each named with a unique suffix', () => {
    const prefixes = resourcesOf(stack, 'aws_s3_bucket').map((b) => b.bucket_prefix).sort();
    expect(prefixes).toEqual(['frames-egress-', 'frames-frames-', 'frames-ingress-']);
    for (const bucket of resourcesOf(stack, 'aws_s3_bucket')) expect(bucket.bucket).toBeUndefined();
  });

  it('block all public access, enforce object ownership and encrypt by default', () => {
    for (const id of bucketIds()) {
      expect(forBucket('aws_s3_bucket_public_access_block', id)).toEqual([
        expect.objectContaining({
          block_public_acls: true,
          block_public_policy: true,
          ignore_public_acls: true,
          restrict_public_buckets: true,
        }),
      ]);
      expect(forBucket('aws_s3_bucket_ownership_controls', id)).toEqual([
        expect.objectContaining({ rule: { object_ownership: 'BucketOwnerEnforced' } }),
      ]);
      expect(forBucket('aws_s3_bucket_server_side_encryption_configuration', id)).toEqual([
        expect.objectContaining({
          rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } }],
        }),
      ]);
    }
  });

  it('deny every request without TLS, and TLS below 1.2, on the bucket and its objects', () => {
    for (const id of bucketIds()) {
      const [policy] = forBucket('aws_s3_bucket_policy', id);
      const statements = JSON.parse(policy.policy).Statement;
      const arn = `\${aws_s3_bucket.${id}.arn}`;
      expect(statements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Principal: '*',
            Resource: [arn, `${arn}/*`],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          expect.objectContaining({
            Effect: 'Deny',
            Resource: [arn, `${arn}/*`],
            Condition: { NumericLessThan: { 's3:TlsVersion': '1.2' } },
          }),
        ]),
      );
      // A policy put races the public access block unless ordered after it.
      expect(policy.depends_on).toEqual([expect.stringContaining('aws_s3_bucket_public_access_block')]);
    }
  });

  it('expire frames after the configured days and clean up abandoned uploads everywhere', () => {
    for (const id of bucketIds()) {
      const [lifecycle] = forBucket('aws_s3_bucket_lifecycle_configuration', id);
      expect(lifecycle.rule).toContainEqual(
        expect.objectContaining({ status: 'Enabled', abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }] }),
      );
      const expiring = lifecycle.rule.filter((rule: any) => rule.expiration);
      const expected: Record<string, unknown[]> = {
        frames: [expect.objectContaining({ filter: [{ prefix: '' }], expiration: [{ days: 7 }] })],
        // Only the KVS clip pieces the pipeline writes itself; uploads are the user's.
        ingress: [expect.objectContaining({ filter: [{ prefix: 'kvs-clips/' }], expiration: [{ days: 7 }] })],
      };
      expect(expiring).toEqual(expected[id.split('_')[0]] ?? []);
    }
  });
});

describe('upload events', () => {
  it('the ingress bucket sends every event to EventBridge', () => {
    const ingressId = referenceTo(stack, 'aws_s3_bucket', (b) => b.bucket_prefix === 'frames-ingress-', 'id');
    expect(resourcesOf(stack, 'aws_s3_bucket_notification')).toEqual([
      expect.objectContaining({ bucket: ingressId, eventbridge: true }),
    ]);
  });

  const uploadRule = () => theResource(stack, 'aws_cloudwatch_event_rule', (r) => r.name === 'frames-video-uploaded');

  it('the rule matches source AND detail-type, this bucket and the video suffixes, for any Object Created reason', () => {
    const rule = uploadRule();
    const pattern = JSON.parse(rule.event_pattern);
    expect(pattern.source).toEqual(['aws.s3']);
    expect(pattern['detail-type']).toEqual(['Object Created']);
    expect(pattern.detail.bucket.name).toEqual([
      referenceTo(stack, 'aws_s3_bucket', (b) => b.bucket_prefix === 'frames-ingress-', 'bucket'),
    ]);
    expect(pattern.detail.object.key).toContainEqual({ suffix: { 'equals-ignore-case': '.mp4' } });
    expect(pattern.detail.object.key).toContainEqual({ suffix: { 'equals-ignore-case': '.mov' } });
    // No filter on the reason: multipart uploads (CompleteMultipartUpload) must start jobs too.
    expect(pattern.detail.reason).toBeUndefined();
  });

  it('the rule targets the ingress function, and nothing it cannot handle is lost', () => {
    const functionArn = referenceTo(stack, 'aws_lambda_function', (f) => f.function_name === 'frames-ingress', 'arn');
    const queueArn = referenceTo(stack, 'aws_sqs_queue', (q) => q.name === 'frames-ingress-failures', 'arn');
    const ruleArn = referenceTo(stack, 'aws_cloudwatch_event_rule', (r) => r.name === 'frames-video-uploaded', 'arn');
    const targets = resourcesOf(stack, 'aws_cloudwatch_event_target').filter((t) => t.arn === functionArn);
    // Uploads, clip requests and redrives.
    expect(targets).toHaveLength(3);
    for (const target of targets) expect(target).toMatchObject({ dead_letter_config: { arn: queueArn } });
    expect(theResource(stack, 'aws_lambda_function_event_invoke_config', (c) => c.function_name.includes('ingress-function'))).toMatchObject({
      maximum_retry_attempts: 2,
      destination_config: { on_failure: { destination: queueArn } },
    });
    expect(theResource(stack, 'aws_lambda_permission', (p) => p.source_arn === ruleArn)).toMatchObject({
      principal: 'events.amazonaws.com',
      function_name: expect.stringContaining('ingress-function'),
    });
  });

  it('the failure queue is encrypted and only the ingress rules may send to it', () => {
    const queue = theResource(stack, 'aws_sqs_queue', (q) => q.name === 'frames-ingress-failures');
    expect(queue.sqs_managed_sse_enabled).toBe(true);
    const queueUrl = referenceTo(stack, 'aws_sqs_queue', (q) => q.name === 'frames-ingress-failures', 'url');
    const policy = theResource(stack, 'aws_sqs_queue_policy', (p) => p.queue_url === queueUrl);
    expect(JSON.parse(policy.policy).Statement[0]).toMatchObject({
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Condition: {
        ArnEquals: {
          // The rules' ARNs, from their names (the rules below are named so).
          'aws:SourceArn': [
            expect.stringMatching(/^arn:\$\{data\.aws_partition\..+\}:events:\$\{data\.aws_region\..+\}:\$\{data\.aws_caller_identity\..+\}:rule\/frames-video-uploaded$/),
            expect.stringMatching(/:rule\/frames-clip-requested$/),
            expect.stringMatching(/:rule\/frames-redrive-ingress$/),
          ],
        },
      },
    });
  });

  it('gives each rule its own permission to invoke its function, scoped to that rule', () => {
    const permissions = resourcesOf(stack, 'aws_lambda_permission');
    expect(permissions.every((p) => p.principal === 'events.amazonaws.com')).toBe(true);
    expect(permissions.map((p) => p.statement_id).sort()).toEqual([
      'AllowEventRule-frames-clip-requested',
      'AllowEventRule-frames-job-state',
      'AllowEventRule-frames-redrive-completion',
      'AllowEventRule-frames-redrive-ingress',
      'AllowEventRule-frames-video-uploaded',
      'AllowSchedule-frames-sweep',
    ]);
    for (const permission of permissions) {
      const ruleName = permission.statement_id.replace(/^Allow(EventRule|Schedule)-/, '');
      expect(permission.source_arn).toBe(referenceTo(stack, 'aws_cloudwatch_event_rule', (r) => r.name === ruleName, 'arn'));
    }
  });
});

describe('the job table', () => {
  it('is on demand, keyed by VideoId, recoverable and encrypted, with a keys-only index by status and creation time', () => {
    expect(resourcesOf(stack, 'aws_dynamodb_table')).toEqual([
      expect.objectContaining({
        name: 'frames-jobs',
        billing_mode: 'PAY_PER_REQUEST',
        hash_key: 'VideoId',
        attribute: [
          { name: 'VideoId', type: 'S' },
          { name: 'Status', type: 'S' },
          { name: 'CreatedAt', type: 'S' },
          { name: 'AnnouncePending', type: 'S' },
          { name: 'UpdatedAt', type: 'S' },
        ],
        // Keys only, so the per-batch counter updates never write to ByStatus; PendingAnnouncement
        // is sparse (only final runs not yet announced have AnnouncePending), so they never write to it either.
        global_secondary_index: [
          { name: 'ByStatus', hash_key: 'Status', range_key: 'CreatedAt', projection_type: 'KEYS_ONLY' },
          { name: 'PendingAnnouncement', hash_key: 'AnnouncePending', range_key: 'UpdatedAt', projection_type: 'KEYS_ONLY' },
        ],
        point_in_time_recovery: { enabled: true },
        server_side_encryption: { enabled: true },
      }),
    ]);
  });
});

describe('IAM', () => {
  // The rules for every statement (no wildcards, Resource "*", the inventory) are in security.test.ts.
  it('lets the ingress function pass only the MediaConvert role, and only to MediaConvert', () => {
    const passRoles = allStatements(stack).filter(({ statement }) => asList(statement.Action).includes('iam:PassRole'));
    expect(passRoles).toHaveLength(1);
    expect(passRoles[0].statement).toEqual({
      Sid: 'PassRoleToMediaConvertOnly',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      // The role's ARN from its name, so the grant needs no reference to the role (it is below).
      Resource: expect.stringMatching(/^arn:\$\{data\.aws_partition\..+\}:iam::\$\{data\.aws_caller_identity\..+\}:role\/frames-mediaconvert$/),
      Condition: { StringEquals: { 'iam:PassedToService': 'mediaconvert.amazonaws.com' } },
    });
    expect(resourcesOf(stack, 'aws_iam_role').map((role) => role.name)).toContain('frames-mediaconvert');
  });

  it('lets only MediaConvert, for this account and region, assume the MediaConvert role', () => {
    const [role] = resourcesOf(stack, 'aws_iam_role').filter((r) => r.name === 'frames-mediaconvert');
    const [trust] = JSON.parse(role.assume_role_policy).Statement;
    expect(trust.Principal).toEqual({ Service: 'mediaconvert.amazonaws.com' });
    expect(trust.Action).toBe('sts:AssumeRole');
    expect(trust.Condition.StringEquals['aws:SourceAccount']).toMatch(/\$\{data\.aws_caller_identity\..+\.account_id\}/);
    // AWS's confused-deputy page: for MediaConvert, aws:SourceArn is the ARN of the queue that runs the job.
    expect(trust.Condition.ArnLike['aws:SourceArn']).toMatch(
      /^arn:\$\{data\.aws_partition\..+\}:mediaconvert:\$\{data\.aws_region\..+\}:\$\{data\.aws_caller_identity\..+\}:queues\/\*$/,
    );
  });

  it("gives MediaConvert read on the ingress bucket and write on a run's frames and proxy only", () => {
    const arnOf = (prefix: string) => referenceTo(stack, 'aws_s3_bucket', (b) => b.bucket_prefix === prefix, 'arn');
    const policy = resourcesOf(stack, 'aws_iam_role_policy').find((p) => p.name === 'read-videos-write-frames');
    expect(JSON.parse(policy!.policy).Statement).toEqual([
      { Sid: 'ReadVideos', Effect: 'Allow', Action: 's3:GetObject', Resource: `${arnOf('frames-ingress-')}/*` },
      // Never batches/: the workers' results beside the frames are not MediaConvert's to overwrite.
      {
        Sid: 'WriteFramesAndProxies',
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: [`${arnOf('frames-frames-')}/*/frames/*`, `${arnOf('frames-frames-')}/*/proxy/*`],
      },
    ]);
  });

  it('gives the ingress function exactly what it uses, each on its own resource', () => {
    const role = referenceTo(stack, 'aws_iam_role', (r) => r.name === 'frames-ingress', 'id');
    const policy = theResource(stack, 'aws_iam_role_policy', (p) => p.role === role);
    const grants = Object.fromEntries(
      (JSON.parse(policy!.policy).Statement as any[]).map((s) => [s.Sid, [asList(s.Action).sort(), s.Resource]]),
    );
    const tableArn = referenceTo(stack, 'aws_dynamodb_table', () => true, 'arn');
    expect(grants.TrackJobs).toEqual([['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], tableArn]);
    const ingressArn = referenceTo(stack, 'aws_s3_bucket', (b) => b.bucket_prefix === 'frames-ingress-', 'arn');
    expect(grants.ReadUploads).toEqual([['s3:GetObject'], `${ingressArn}/*`]);
    // Without it S3 answers a deleted upload with 403, not 404: retried instead of SOURCE_NOT_FOUND.
    expect(grants.ListUploads).toEqual([['s3:ListBucket'], ingressArn]);
    expect(grants.SubmitJobs[1]).toMatch(/:mediaconvert:.*:queues\/\*$/);
    expect(grants.FindJobs[1]).toMatch(/:mediaconvert:.*:queues\/\*$/);
    expect(grants.CancelOwnJobs[1]).toMatch(/:mediaconvert:.*:jobs\/\*$/);
    expect(grants.WriteOwnLogs).toEqual([
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      expect.stringMatching(/:logs:.*:log-group:\/aws\/lambda\/frames-ingress:\*$/),
    ]);
    // No stream configured here: no clip pieces to write, no stream to read.
    expect(grants.WriteClipPieces).toBeUndefined();
    expect(grants.ClipConfiguredStreams).toBeUndefined();
  });

  it('lets the ingress function submit and cancel only jobs tagged for this pipeline, and only where HTTP(S) inputs are not allowed', () => {
    const role = referenceTo(stack, 'aws_iam_role', (r) => r.name === 'frames-ingress', 'id');
    const policy = theResource(stack, 'aws_iam_role_policy', (p) => p.role === role);
    const bySid = Object.fromEntries((JSON.parse(policy.policy).Statement as any[]).map((statement) => [statement.Sid, statement]));
    expect(bySid.SubmitJobs.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/pipeline': 'frames' },
      BoolIfExists: { 'mediaconvert:HttpInputsAllowed': 'false', 'mediaconvert:HttpsInputsAllowed': 'false' },
    });
    expect(bySid.CancelOwnJobs.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/pipeline': 'frames' } });
  });
});

describe('functions', () => {
  it(`run on ${LAMBDA_RUNTIME} everywhere`, () => {
    const functions = resourcesOf(stack, 'aws_lambda_function');
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) expect(fn.runtime).toBe('nodejs22.x');
  });

  it('deploy a bundle archive whose content hash drives redeploys', () => {
    const [fn] = resourcesOf(stack, 'aws_lambda_function');
    expect(fn.filename).toMatch(/^assets\/.+\/archive\.zip$/);
    expect(fn.filename).toContain(fn.source_code_hash);
    expect(fn.handler).toBe('index.handler');
  });

  it('log as JSON to a log group with retention that exists before they run', () => {
    const functions = resourcesOf(stack, 'aws_lambda_function');
    expect(functions.map((fn) => fn.function_name).sort()).toEqual([
      'frames-completion',
      'frames-failed-events',
      'frames-frame-dead-letters',
      'frames-frame-worker',
      'frames-ingress',
      'frames-sweeper',
    ]);
    for (const fn of functions) {
      const group = theResource(stack, 'aws_cloudwatch_log_group', (g) => g.name === `/aws/lambda/${fn.function_name}`);
      expect(group.retention_in_days).toBe(30);
      expect(fn.logging_config).toEqual({ log_format: 'JSON', log_group: expect.stringContaining('aws_cloudwatch_log_group') });
      expect(fn.depends_on).toEqual(expect.arrayContaining([expect.stringContaining('aws_cloudwatch_log_group')]));
    }
  });

  it('get the stack settings through the environment, with no secret in it', () => {
    for (const fn of resourcesOf(stack, 'aws_lambda_function')) {
      expect(Object.keys(fn.environment.variables).filter((name) => /SECRET|PASSWORD|TOKEN|ACCESS_KEY/i.test(name))).toEqual([]);
    }
    const variables = theResource(stack, 'aws_lambda_function', (f) => f.function_name === 'frames-ingress').environment.variables;
    expect(variables).toMatchObject({
      PIPELINE_NAME: 'frames',
      DEFAULT_CAPTURE_FPS: '1',
      DEFAULT_CAPTURE_QUALITY: '80',
      DEFAULT_MAX_CAPTURES: '1000000',
      // The segment plan's settings (extraction) and the batch size its batch numbers follow.
      MAX_SEGMENTS: '10',
      MIN_SEGMENT_SECONDS: '30',
      FRAMES_PER_MESSAGE: '100',
      JOB_TABLE_NAME: expect.stringContaining('aws_dynamodb_table'),
      FRAMES_BUCKET_NAME: expect.stringContaining('aws_s3_bucket'),
      MEDIACONVERT_ROLE_ARN: expect.stringMatching(/:iam::.+:role\/frames-mediaconvert$/),
    });
    expect(Object.keys(variables).filter((name) => /SECRET|PASSWORD|TOKEN|ACCESS_KEY/i.test(name))).toEqual([]);
  });
});

describe('outputs and configuration', () => {
  it('outputs the bucket names, table, function names and region', () => {
    expect(Object.keys(stack.output).sort()).toEqual([
      'cli_policy_arn',
      'completion_failures_queue',
      'completion_function',
      'egress_bucket',
      'failed_events_function',
      'frame_dead_letter_queue',
      'frame_queue',
      'frame_worker_function',
      'frames_bucket',
      'ingress_bucket',
      'ingress_failures_queue',
      'ingress_function',
      'job_table',
      'notification_topic_arn',
      'pipeline_name',
      'region',
      'sweeper_function',
    ]);
    expect(stack.output.region.value).toMatch(/data\.aws_region\..+\.region/);
  });

  it('hard-codes no region unless configured, and applies a configuration everywhere', () => {
    expect(stack.provider.aws[0].region).toBeUndefined();
    const custom = synthesizeStack({
      region: 'eu-west-1',
      namePrefix: 'dashcam',
      framesRetentionDays: 3,
      logRetentionDays: 14,
      videoSuffixes: ['.mp4'],
      capture: { fps: { numerator: 30000, denominator: 1001 }, quality: 95 },
      tags: { Team: 'vision' },
    });
    expect(custom.provider.aws[0]).toMatchObject({
      region: 'eu-west-1',
      default_tags: [{ tags: { Pipeline: 'dashcam', Team: 'vision' } }],
    });
    const fn = theResource(custom, 'aws_lambda_function', (f) => f.function_name === 'dashcam-ingress');
    expect(fn.environment.variables).toMatchObject({ DEFAULT_CAPTURE_FPS: '30000/1001', DEFAULT_CAPTURE_QUALITY: '95', PIPELINE_NAME: 'dashcam' });
    expect(resourcesOf(custom, 'aws_cloudwatch_log_group')[0].retention_in_days).toBe(14);
    const frames = resourcesOf(custom, 'aws_s3_bucket_lifecycle_configuration').find((l) => l.rule.some((r: any) => r.expiration));
    expect(frames!.rule.find((r: any) => r.expiration).expiration).toEqual([{ days: 3 }]);
    expect(JSON.parse(theResource(custom, 'aws_cloudwatch_event_rule', (r) => r.name === 'dashcam-video-uploaded').event_pattern).detail.object.key).toEqual([
      { suffix: { 'equals-ignore-case': '.mp4' } },
    ]);
  });
});

describe('KVS clips', () => {
  const ingressPolicy = (synthesized: SynthesizedStack) => {
    const role = referenceTo(synthesized, 'aws_iam_role', (r) => r.name.endsWith('-ingress'), 'id');
    return JSON.parse(theResource(synthesized, 'aws_iam_role_policy', (p) => p.role === role).policy).Statement as any[];
  };

  it('a rule sends this pipeline\'s clip requests, and no other stack\'s, to the ingress function', () => {
    const rule = theResource(stack, 'aws_cloudwatch_event_rule', (r) => r.name === 'frames-clip-requested');
    expect(JSON.parse(rule.event_pattern)).toEqual({
      source: ['video-frame-pipeline'],
      'detail-type': ['Clip Requested'],
      detail: { pipeline: ['frames'] },
    });
    const target = theResource(stack, 'aws_cloudwatch_event_target', (t) => t.rule === referenceTo(stack, 'aws_cloudwatch_event_rule', (r) => r.name === 'frames-clip-requested', 'name'));
    expect(target.arn).toBe(referenceTo(stack, 'aws_lambda_function', (f) => f.function_name === 'frames-ingress', 'arn'));
  });

  it('lets the ingress function write clip pieces under kvs-clips/ only, and only when streams are configured', () => {
    expect(ingressPolicy(stack).find((s) => s.Sid === 'WriteClipPieces')).toBeUndefined();
    const configured = synthesizeStack({ kvsStreams: ['front-camera'] });
    const ingressArn = referenceTo(configured, 'aws_s3_bucket', (b) => b.bucket_prefix === 'frames-ingress-', 'arn');
    expect(ingressPolicy(configured).find((s) => s.Sid === 'WriteClipPieces')).toEqual({
      Sid: 'WriteClipPieces',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
      Resource: `${ingressArn}/kvs-clips/*`,
    });
  });

  it('grants no KVS access when no streams are configured', () => {
    expect(ingressPolicy(stack).filter((s) => asList(s.Action).some((a: string) => a.startsWith('kinesisvideo:')))).toEqual([]);
  });

  it('grants reading exactly the configured streams, by name in this account and region or by ARN', () => {
    const arn = 'arn:aws:kinesisvideo:eu-west-1:111122223333:stream/rear-camera/1700000000000';
    const configured = synthesizeStack({ kvsStreams: ['front-camera', arn] });
    const statement = ingressPolicy(configured).find((s) => s.Sid === 'ClipConfiguredStreams');
    expect(statement.Action).toEqual(['kinesisvideo:GetDataEndpoint', 'kinesisvideo:ListFragments', 'kinesisvideo:GetClip']);
    expect(statement.Resource).toHaveLength(2);
    expect(statement.Resource[0]).toMatch(/^arn:\$\{data\.aws_partition\..+\}:kinesisvideo:\$\{data\.aws_region\..+\}:\$\{data\.aws_caller_identity\..+\}:stream\/front-camera\/\*$/);
    expect(statement.Resource[1]).toBe(arn);
  });

  it('refuses a stream that is neither a name nor an ARN at synth time', () => {
    expect(() => synthesizeStack({ kvsStreams: ['front camera'] })).toThrow(/kvsStreams\.0: must be a stream name/);
  });
});


describe('the CLI policy', () => {
  const cliStatements = (synthesized: SynthesizedStack) => JSON.parse(theResource(synthesized, 'aws_iam_policy', (p) => p.name === 'frames-cli').policy).Statement;

  it('allows exactly what the frames command does: upload (never over clip pieces), read jobs and the status index, download results, read frames for reports', () => {
    const bucketArn = (prefix: string) => referenceTo(stack, 'aws_s3_bucket', (b) => b.bucket_prefix === prefix, 'arn');
    const tableArn = referenceTo(stack, 'aws_dynamodb_table', () => true, 'arn');
    expect(cliStatements(stack)).toEqual([
      { Sid: 'ListBuckets', Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' },
      { Sid: 'UploadVideos', Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: `${bucketArn('frames-ingress-')}/*` },
      { Sid: 'KeepOffClipPieces', Effect: 'Deny', Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: `${bucketArn('frames-ingress-')}/kvs-clips/*` },
      { Sid: 'DownloadResults', Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucketArn('frames-egress-')}/*` },
      // frames report's thumbnails: the frames only, never batch results, nothing written.
      { Sid: 'ReadFrames', Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucketArn('frames-frames-')}/*/frames/*` },
      { Sid: 'ListFramesBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn('frames-frames-') },
      { Sid: 'ReadJobs', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], Resource: tableArn },
      { Sid: 'ListJobs', Effect: 'Allow', Action: 'dynamodb:Query', Resource: `${tableArn}/index/ByStatus` },
      // frames redrive: only redrive requests, never a forged outcome event.
      {
        Sid: 'RedriveRuns',
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: expect.stringMatching(/^arn:\$\{.+\}:events:\$\{.+\}:\$\{.+\}:event-bus\/default$/),
        Condition: {
          'ForAllValues:StringEquals': { 'events:source': ['video-frame-pipeline'], 'events:detail-type': ['Video Frames Redrive Requested'] },
          Null: { 'events:source': 'false', 'events:detail-type': 'false' },
        },
      },
    ]);
    expect(stack.output.cli_policy_arn.value).toBe(referenceTo(stack, 'aws_iam_policy', (p) => p.name === 'frames-cli', 'arn'));
  });

  it('requests clips, when streams are configured, with every entry of the clip request source and detail type (multivalued keys)', () => {
    expect(cliStatements(synthesizeStack({ kvsStreams: ['front-camera'] })).find((s: any) => s.Sid === 'RequestClips')).toEqual({
      Sid: 'RequestClips',
      Effect: 'Allow',
      Action: 'events:PutEvents',
      Resource: expect.stringMatching(/^arn:\$\{.+\}:events:\$\{.+\}:\$\{.+\}:event-bus\/default$/),
      // AWS's EventBridge examples: ForAllValues on events:source, and a Null check so that a
      // request naming no source does not pass as "all of none".
      Condition: {
        'ForAllValues:StringEquals': { 'events:source': ['video-frame-pipeline'], 'events:detail-type': ['Clip Requested'] },
        Null: { 'events:source': 'false', 'events:detail-type': 'false' },
      },
    });
  });
});
