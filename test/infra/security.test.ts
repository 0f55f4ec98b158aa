import {
  type Statement,
  type SynthesizedStack,
  allStatements,
  asList,
  resourcesOf,
  synthesizeStack,
} from '../support/synth';

/**
 * The security audit of the synthesized stack (the one `cdktf deploy` applies), with every
 * optional part on (KVS streams configured): every IAM statement is enumerated here, so a new
 * permission fails this test until someone has looked at it and added it below. What the
 * statements allow in detail (which bucket, which prefix) is checked in stack.test.ts and
 * frames-stack.test.ts; this file holds the rules that apply to all of them.
 *
 * Where this stops: real IAM evaluation (conditions, SCPs) needs an AWS account, which CI has not.
 */
let stack: SynthesizedStack;
let statements: { where: string; statement: Statement }[];
beforeAll(() => {
  stack = synthesizeStack({ kvsStreams: ['dashcam', 'arn:aws:kinesisvideo:us-east-1:123456789012:stream/fleet/1700000000000'] });
  statements = allStatements(stack);
});

/** Where a statement lives, by the name a person sees in the console (role, policy or resource). */
function ownerOf(where: string): string {
  const [kind, id] = where.startsWith('trust of ') ? ['trust', where.slice('trust of '.length)] : where.split('.');
  const roleName = (roleId: string) => stack.resource.aws_iam_role[roleId]?.name;
  if (kind === 'trust') return `trust:${roleName(id)}`;
  if (kind === 'aws_iam_role_policy') {
    const role = /aws_iam_role\.([^.]+)\./.exec(stack.resource.aws_iam_role_policy[id].role)![1];
    return roleName(role);
  }
  if (kind === 'aws_iam_policy') return stack.resource.aws_iam_policy[id].name;
  return `${kind}:${id.replace(/_[0-9A-F]{8}$/, '')}`;
}

/**
 * Every Allow statement of the stack: its owner, its Sid, its actions. Additions need a reason in
 * review; the test below fails on any statement not listed and on any listed one that is gone.
 */
const ALLOWED: Record<string, string[]> = {
  'trust:frames-ingress': ['sts:AssumeRole'],
  'trust:frames-completion': ['sts:AssumeRole'],
  'trust:frames-frame-worker': ['sts:AssumeRole'],
  'trust:frames-frame-dead-letters': ['sts:AssumeRole'],
  'trust:frames-failed-events': ['sts:AssumeRole'],
  'trust:frames-sweeper': ['sts:AssumeRole'],
  'trust:frames-mediaconvert': ['sts:AssumeRole'],
  'frames-ingress/WriteOwnLogs': ['logs:CreateLogStream', 'logs:PutLogEvents'],
  'frames-ingress/ReadUploads': ['s3:GetObject'],
  'frames-ingress/ListUploads': ['s3:ListBucket'],
  'frames-ingress/TrackJobs': ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  'frames-ingress/SubmitJobs': ['mediaconvert:CreateJob'],
  'frames-ingress/FindJobs': ['mediaconvert:ListJobs'],
  'frames-ingress/CancelOwnJobs': ['mediaconvert:CancelJob'],
  'frames-ingress/PassRoleToMediaConvertOnly': ['iam:PassRole'],
  'frames-ingress/KeepFailedEvents': ['sqs:SendMessage'],
  'frames-ingress/AnnounceOutcomes': ['events:PutEvents'],
  'frames-ingress/WriteClipPieces': ['s3:AbortMultipartUpload', 's3:PutObject'],
  'frames-ingress/ClipConfiguredStreams': ['kinesisvideo:GetClip', 'kinesisvideo:GetDataEndpoint', 'kinesisvideo:ListFragments'],
  'frames-completion/WriteOwnLogs': ['logs:CreateLogStream', 'logs:PutLogEvents'],
  'frames-completion/TrackJobs': ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  'frames-completion/ListFramesBucket': ['s3:ListBucket'],
  'frames-completion/FanOutFrames': ['sqs:SendMessage'],
  'frames-completion/CancelOwnJobs': ['mediaconvert:CancelJob'],
  'frames-completion/WriteResults': ['s3:AbortMultipartUpload', 's3:PutObject'],
  'frames-completion/KeepFailedEvents': ['sqs:SendMessage'],
  'frames-completion/AnnounceOutcomes': ['events:PutEvents'],
  'frames-frame-worker/WriteOwnLogs': ['logs:CreateLogStream', 'logs:PutLogEvents'],
  'frames-frame-worker/TrackJobs': ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  'frames-frame-worker/ReadFrames': ['s3:GetObject'],
  'frames-frame-worker/ListFramesBucket': ['s3:ListBucket'],
  'frames-frame-worker/KeepBatchResults': ['s3:GetObject', 's3:PutObject'],
  'frames-frame-worker/WriteResults': ['s3:AbortMultipartUpload', 's3:PutObject'],
  'frames-frame-worker/ConsumeFrameQueue': ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
  'frames-frame-worker/AnnounceOutcomes': ['events:PutEvents'],
  'frames-frame-dead-letters/WriteOwnLogs': ['logs:CreateLogStream', 'logs:PutLogEvents'],
  'frames-frame-dead-letters/TrackJobs': ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  'frames-frame-dead-letters/ListFramesBucket': ['s3:ListBucket'],
  'frames-frame-dead-letters/KeepBatchResults': ['s3:GetObject', 's3:PutObject'],
  'frames-frame-dead-letters/WriteResults': ['s3:AbortMultipartUpload', 's3:PutObject'],
  'frames-frame-dead-letters/ConsumeDeadLetters': ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
  'frames-frame-dead-letters/AnnounceOutcomes': ['events:PutEvents'],
  'frames-failed-events/WriteOwnLogs': ['logs:CreateLogStream', 'logs:PutLogEvents'],
  'frames-failed-events/TrackJobs': ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  'frames-failed-events/ConsumeFailedEvents': ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
  'frames-failed-events/AnnounceOutcomes': ['events:PutEvents'],
  'frames-sweeper/WriteOwnLogs': ['logs:CreateLogStream', 'logs:PutLogEvents'],
  'frames-sweeper/TrackJobs': ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  'frames-sweeper/FindRunsByStatus': ['dynamodb:Query'],
  'frames-sweeper/ReadOwnJobs': ['mediaconvert:GetJob'],
  'frames-sweeper/CancelOwnJobs': ['mediaconvert:CancelJob'],
  'frames-sweeper/ListFramesBucket': ['s3:ListBucket'],
  'frames-sweeper/FanOutFrames': ['sqs:SendMessage'],
  'frames-sweeper/ReadBatchResults': ['s3:GetObject'],
  'frames-sweeper/WriteResults': ['s3:AbortMultipartUpload', 's3:PutObject'],
  'frames-sweeper/AnnounceOutcomes': ['events:PutEvents'],
  'frames-mediaconvert/ReadVideos': ['s3:GetObject'],
  'frames-mediaconvert/WriteFramesAndProxies': ['s3:PutObject'],
  'frames-cli/ListBuckets': ['s3:ListAllMyBuckets'],
  'frames-cli/UploadVideos': ['s3:AbortMultipartUpload', 's3:PutObject'],
  'frames-cli/DownloadResults': ['s3:GetObject'],
  'frames-cli/ReadFrames': ['s3:GetObject'],
  'frames-cli/ListFramesBucket': ['s3:ListBucket'],
  'frames-cli/ReadJobs': ['dynamodb:BatchGetItem', 'dynamodb:GetItem'],
  'frames-cli/ListJobs': ['dynamodb:Query'],
  'frames-cli/RedriveRuns': ['events:PutEvents'],
  'frames-cli/RequestClips': ['events:PutEvents'],
  'aws_sqs_queue_policy:ingress-failures_policy/UndeliverableEvents': ['sqs:SendMessage'],
  'aws_sqs_queue_policy:completion-failures_policy/UndeliverableEvents': ['sqs:SendMessage'],
  'aws_sns_topic_policy:notifications_policy/AlarmsPublish': ['sns:Publish'],
  'aws_sns_topic_policy:notifications_policy/OutcomeRulePublishes': ['sns:Publish'],
  'aws_kms_key:notifications_key/AccountAdministersKey': ['kms:*'],
  'aws_kms_key:notifications_key/AlarmsAndRulesEncrypt': ['kms:Decrypt', 'kms:GenerateDataKey*'],
};

/**
 * A key policy must let the account administer the key, or nobody can (AWS's default key policy
 * is this statement: the account's IAM policies then decide who may use the key). It is the one
 * Allow of a whole service, for the account's root principal only, on its own key (in a key
 * policy, Resource "*" is the key itself).
 */
const isKeyAdministration = ({ where, statement }: { where: string; statement: Statement }) =>
  where.startsWith('aws_kms_key.') && statement.Sid === 'AccountAdministersKey';
const ACCOUNT_ROOT = /^arn:\$\{data\.aws_partition\.[^}]+\}:iam::\$\{data\.aws_caller_identity\.[^}]+\}:root$/;

/**
 * Actions IAM cannot scope to a resource (the Service Authorization Reference lists them with no
 * resource type), which is the only reason a statement may name Resource "*". The stack needs one
 * of them today; the list says which would be acceptable, and why.
 */
const NO_RESOURCE_LEVEL_PERMISSIONS: Record<string, string> = {
  'mediaconvert:DescribeEndpoints': 'account-level: looks up the account endpoint (older SDKs; v3 no longer calls it)',
  'xray:PutTraceSegments': 'account-level: Lambda active tracing writes trace segments',
  'xray:PutTelemetryRecords': 'account-level: Lambda active tracing writes telemetry',
  'cloudwatch:PutMetricData': 'account-level: custom metrics (scope with the cloudwatch:namespace condition instead)',
  's3:ListAllMyBuckets': "account-level: the CLI user's `aws s3 ls`, the bucket names of the account and nothing in them",
};

const allows = () => statements.filter(({ statement }) => statement.Effect === 'Allow');

test('every Allow statement is one of those enumerated here, with exactly those actions', () => {
  const found = Object.fromEntries(
    allows().map(({ where, statement }) => {
      const owner = ownerOf(where);
      return [owner.startsWith('trust:') ? owner : `${owner}/${statement.Sid}`, asList(statement.Action).sort()];
    }),
  );
  expect(found).toEqual(ALLOWED);
  // Sids name what a statement is for; two with one name would hide one of them above.
  expect(allows().filter(({ where }) => !where.startsWith('trust of ')).every(({ statement }) => statement.Sid)).toBe(true);
  expect(Object.keys(found)).toHaveLength(allows().length);
});

test('no Allow names Action "*" or a whole service ("s3:*"), but the account\'s administration of its own key', () => {
  const administration = allows().filter(isKeyAdministration);
  expect(administration.map(({ statement }) => statement)).toEqual([
    { Sid: 'AccountAdministersKey', Effect: 'Allow', Principal: { AWS: expect.stringMatching(ACCOUNT_ROOT) }, Action: 'kms:*', Resource: '*' },
  ]);
  const wildcards = allows().filter((entry) => !isKeyAdministration(entry)).flatMap(({ where, statement }) =>
    asList(statement.Action)
      .filter((action) => action === '*' || action.endsWith(':*'))
      .map((action) => `${ownerOf(where)}: ${action}`),
  );
  expect(wildcards).toEqual([]);
});

test('whole-service actions appear only in Deny statements that refuse plain HTTP or old TLS (and the key administration above)', () => {
  const serviceWide = statements
    .filter((entry) => !isKeyAdministration(entry))
    .filter(({ statement }) => asList(statement.Action).some((action) => action.endsWith(':*')));
  expect(serviceWide.length).toBeGreaterThan(0);
  for (const { statement } of serviceWide) {
    expect(statement.Effect).toBe('Deny');
    expect(JSON.stringify(statement.Condition)).toMatch(/"aws:SecureTransport":"false"|"s3:TlsVersion":"1.2"/);
  }
});

test('in a key policy, every statement is on "*" (the key itself), and none lets anyone but this account or its services use it', () => {
  const keyPolicy = statements.filter(({ where }) => where.startsWith('aws_kms_key.'));
  expect(keyPolicy).toHaveLength(2);
  for (const { statement } of keyPolicy) {
    expect(statement.Resource).toBe('*');
    const principal = statement.Principal as { AWS?: string; Service?: string | string[] };
    if (principal.AWS !== undefined) expect(principal.AWS).toMatch(ACCOUNT_ROOT);
    else {
      expect(asList(principal.Service).sort()).toEqual(['cloudwatch.amazonaws.com', 'events.amazonaws.com']);
      expect(statement.Condition?.StringEquals?.['aws:SourceAccount']).toMatch(/^\$\{data\.aws_caller_identity\./);
    }
  }
});

test("Resource \"*\" only for actions without resource-level permissions (the CLI user's bucket listing today)", () => {
  // Key policies name their key as "*": the test above.
  const open = allows().filter(({ where, statement }) => !where.startsWith('aws_kms_key.') && asList(statement.Resource).includes('*'));
  for (const { where, statement } of open) {
    const unscopable = asList(statement.Action).filter((action) => !(action in NO_RESOURCE_LEVEL_PERMISSIONS));
    expect({ owner: ownerOf(where), sid: statement.Sid, actionsThatCouldBeScoped: unscopable }).toEqual({
      owner: ownerOf(where),
      sid: statement.Sid,
      actionsThatCouldBeScoped: [],
    });
  }
  expect(open.map(({ where, statement }) => `${ownerOf(where)}/${statement.Sid}`)).toEqual(['frames-cli/ListBuckets']);
  // Nor a wildcard dressed as an ARN: every resource is this stack's own, or the account's own
  // queue/job/stream/log-group space, or this stack's MediaConvert role by its name (IAM is global).
  const resources = allows()
    .filter(({ where }) => !where.startsWith('aws_kms_key.'))
    .flatMap(({ statement }) => asList(statement.Resource))
    .filter((resource) => resource !== '*');
  for (const resource of resources) {
    expect(resource).toMatch(
      /^(\$\{aws_[a-z0-9_]+\.[^}]+\}|arn:\$\{data\.aws_partition[^}]+\}:[a-z0-9]+:\$\{data\.aws_region[^}]+\}:\$\{data\.aws_caller_identity[^}]+\}:|arn:\$\{data\.aws_partition[^}]+\}:iam::\$\{data\.aws_caller_identity[^}]+\}:role\/frames-mediaconvert$|arn:aws:kinesisvideo:us-east-1:123456789012:stream\/fleet\/)/,
    );
  }
});

test('every iam:PassRole is conditioned on iam:PassedToService', () => {
  const passRoles = allows().filter(({ statement }) => asList(statement.Action).includes('iam:PassRole'));
  expect(passRoles).toHaveLength(1);
  for (const { statement } of passRoles) {
    expect(statement.Condition?.StringEquals?.['iam:PassedToService']).toBe('mediaconvert.amazonaws.com');
    expect(asList(statement.Resource)).not.toContain('*');
  }
});

test('each role trusts one service; MediaConvert only for this account (aws:SourceAccount) and its jobs here', () => {
  const trusts = statements.filter(({ where }) => where.startsWith('trust of '));
  for (const { where, statement } of trusts) {
    const service = (statement.Principal as { Service?: string }).Service;
    const owner = ownerOf(where);
    expect({ owner, service }).toEqual({
      owner,
      service: owner === 'trust:frames-mediaconvert' ? 'mediaconvert.amazonaws.com' : 'lambda.amazonaws.com',
    });
  }
  const mediaConvert = trusts.find(({ where }) => ownerOf(where) === 'trust:frames-mediaconvert')!.statement;
  expect(mediaConvert.Condition?.StringEquals?.['aws:SourceAccount']).toMatch(/^\$\{data\.aws_caller_identity\./);
  expect(mediaConvert.Condition?.ArnLike?.['aws:SourceArn']).toMatch(/:mediaconvert:\$\{data\.aws_region\./);
});

test('a resource policy admits a service only for this account or this stack\'s own sources (confused deputy)', () => {
  const forServices = allows().filter(({ where, statement }) => !where.startsWith('trust of ') && (statement.Principal as { Service?: unknown } | undefined)?.Service);
  expect(forServices.map(({ where, statement }) => `${ownerOf(where)}/${statement.Sid}`).sort()).toEqual([
    'aws_kms_key:notifications_key/AlarmsAndRulesEncrypt',
    'aws_sns_topic_policy:notifications_policy/AlarmsPublish',
    'aws_sns_topic_policy:notifications_policy/OutcomeRulePublishes',
    'aws_sqs_queue_policy:completion-failures_policy/UndeliverableEvents',
    'aws_sqs_queue_policy:ingress-failures_policy/UndeliverableEvents',
  ]);
  for (const { where, statement } of forServices) {
    const condition = statement.Condition ?? {};
    const scoped =
      /^\$\{data\.aws_caller_identity\./.test(String(condition.StringEquals?.['aws:SourceAccount'])) ||
      asList(condition.ArnEquals?.['aws:SourceArn']).length > 0;
    expect({ owner: ownerOf(where), sid: statement.Sid, scoped }).toEqual({ owner: ownerOf(where), sid: statement.Sid, scoped: true });
  }
});

test('the notifications topic refuses plain HTTP', () => {
  const topicPolicy = statements.filter(({ where }) => where.startsWith('aws_sns_topic_policy.'));
  expect(topicPolicy.filter(({ statement }) => statement.Effect === 'Deny').map(({ statement }) => statement)).toEqual([
    expect.objectContaining({ Principal: '*', Action: 'sns:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
  ]);
});

test('queue policies let only this stack\'s rules send, and refuse plain HTTP', () => {
  for (const { where, statement } of statements.filter(({ where }) => where.startsWith('aws_sqs_queue_policy'))) {
    if (statement.Effect === 'Allow') {
      expect({ where, principal: statement.Principal }).toEqual({ where, principal: { Service: 'events.amazonaws.com' } });
      expect(asList(statement.Condition?.ArnEquals?.['aws:SourceArn'] as string | string[])).not.toHaveLength(0);
    }
  }
  const queues = Object.keys(stack.resource.aws_sqs_queue);
  const policies = resourcesOf(stack, 'aws_sqs_queue_policy');
  for (const id of queues) {
    const policy = policies.find((candidate) => candidate.queue_url === `\${aws_sqs_queue.${id}.url}`);
    expect({ id, deniesPlainHttp: JSON.parse(policy?.policy ?? '{"Statement":[]}').Statement.some((s: Statement) => s.Effect === 'Deny' && JSON.stringify(s.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}') }).toEqual({ id, deniesPlainHttp: true });
  }
});

test('every bucket is private, encrypted, owner-enforced and TLS-only', () => {
  const ids = Object.keys(stack.resource.aws_s3_bucket);
  expect(ids).toHaveLength(3);
  const of = (type: string, id: string) => resourcesOf(stack, type).filter((r) => r.bucket === `\${aws_s3_bucket.${id}.id}`);
  for (const id of ids) {
    expect(of('aws_s3_bucket_public_access_block', id)).toEqual([
      expect.objectContaining({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true }),
    ]);
    expect(of('aws_s3_bucket_server_side_encryption_configuration', id)).toHaveLength(1);
    expect(of('aws_s3_bucket_ownership_controls', id)).toEqual([expect.objectContaining({ rule: { object_ownership: 'BucketOwnerEnforced' } })]);
    const policy = JSON.parse(of('aws_s3_bucket_policy', id)[0].policy).Statement as Statement[];
    expect(policy.every((statement) => statement.Effect === 'Deny')).toBe(true);
    expect(policy.map((statement) => statement.Sid).sort()).toEqual(['DenyInsecureTransport', 'DenyOutdatedTls']);
  }
  // No ACLs or website hosting anywhere: nothing that could open a bucket.
  expect(resourcesOf(stack, 'aws_s3_bucket_acl')).toEqual([]);
  expect(resourcesOf(stack, 'aws_s3_bucket_website_configuration')).toEqual([]);
});

test('every queue, topic and the job table are encrypted at rest, the topic with a rotated key of its own', () => {
  const topics = resourcesOf(stack, 'aws_sns_topic');
  expect(topics).toHaveLength(1);
  for (const topic of topics) expect(topic.kms_master_key_id).toMatch(/^\$\{aws_kms_key\.[^}]+\.arn\}$/);
  for (const key of resourcesOf(stack, 'aws_kms_key')) expect(key.enable_key_rotation).toBe(true);
  const queues = resourcesOf(stack, 'aws_sqs_queue');
  expect(queues.length).toBe(4);
  for (const queue of queues) expect({ queue: queue.name, sse: queue.sqs_managed_sse_enabled || Boolean(queue.kms_master_key_id) }).toEqual({ queue: queue.name, sse: true });
  for (const table of resourcesOf(stack, 'aws_dynamodb_table')) expect(table.server_side_encryption).toMatchObject({ enabled: true });
});

test('every log group has a retention; every function logs to its own', () => {
  const groups = resourcesOf(stack, 'aws_cloudwatch_log_group');
  for (const group of groups) expect({ group: group.name, retention: group.retention_in_days > 0 }).toEqual({ group: group.name, retention: true });
  const functions = resourcesOf(stack, 'aws_lambda_function');
  expect(groups.map((group) => group.name).sort()).toEqual(functions.map((fn) => `/aws/lambda/${fn.function_name}`).sort());
});

/** What a leaked credential looks like: access key ids, long base64 secrets, private keys, URLs with passwords. */
const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|ACCESS_KEY|API_KEY/i;
const SECRET_VALUE = /(A3T|AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}|^[A-Za-z0-9/+=]{40}$|-----BEGIN|:\/\/[^/\s:]+:[^@/\s]+@/;

test('no function environment holds a secret, by name or by value', () => {
  for (const fn of resourcesOf(stack, 'aws_lambda_function')) {
    const variables = fn.environment?.variables ?? {};
    expect(Object.keys(variables).length).toBeGreaterThan(0);
    for (const [name, value] of Object.entries<string>(variables)) {
      expect({ fn: fn.function_name, name, secretName: SECRET_NAME.test(name), secretValue: SECRET_VALUE.test(String(value)) }).toEqual({
        fn: fn.function_name,
        name,
        secretName: false,
        secretValue: false,
      });
    }
  }
});

test('the secret detectors above do detect secrets (so the test cannot pass by matching nothing)', () => {
  expect(SECRET_NAME.test('DB_PASSWORD')).toBe(true);
  expect(SECRET_VALUE.test('AKIAIOSFODNN7EXAMPLE')).toBe(true);
  expect(SECRET_VALUE.test('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')).toBe(true);
  expect(SECRET_VALUE.test('postgres://user:hunter2@db.example.com/app')).toBe(true);
  expect(SECRET_VALUE.test('frames-ingress-20261121')).toBe(false);
});
