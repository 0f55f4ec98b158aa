import { type Credentials } from '../s3/sigv4';
import { FUNCTIONS } from '../../pipeline/definition';
import { type BucketName, type PipelinePermissions, type Principal, PRINCIPALS, type QueueName, pipelinePermissions } from '../../pipeline/permissions';
import type { StackConfig } from '../../pipeline/stack-config';
import { type EventRuleSpec, type FunctionKey, type FunctionSpec, pipelineNames, resourceName } from '../../pipeline/topology';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../local-identity';
import type { LocalPrincipal, NamedPolicy } from './authorizer';

/**
 * The pipeline's principals in local mode, each with its own credentials, and the stack's own
 * grants (pipeline/permissions.ts) evaluated with the ARNs of the local resources. Every function
 * process signs as its role, MediaConvert reads and writes as its role, and the CLI (and the AWS
 * CLI, with the key `frames local up` prints) acts as the user that holds the CLI policy.
 */

export const localArn = (service: string, resource: string) => `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${resource}`;
export const localBucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;
export const localQueueArn = (queueName: string) => localArn('sqs', queueName);
export const localTableArn = (table: string) => localArn('dynamodb', `table/${table}`);
/** The MediaConvert role of the local stack (IAM ARNs have no region). */
export const localMediaConvertRoleArn = (config: Pick<StackConfig, 'namePrefix'>) => `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${resourceName(config, 'mediaconvert')}`;

/**
 * The credentials of each principal. The CLI user's key is the one local mode always printed
 * (LOCALFRAMESKEY), so what people pasted before still works, now with the CLI's permissions.
 * They grant nothing anywhere else: no AWS account has these key ids.
 */
export const LOCAL_PRINCIPAL_KEYS: Readonly<Record<Principal, Credentials>> = {
  cli: { accessKeyId: 'LOCALFRAMESKEY', secretAccessKey: 'local-frames-secret' },
  ingress: { accessKeyId: 'LOCALFRAMESINGRESS', secretAccessKey: 'local-frames-ingress-secret' },
  completion: { accessKeyId: 'LOCALFRAMESCOMPLETION', secretAccessKey: 'local-frames-completion-secret' },
  frameWorker: { accessKeyId: 'LOCALFRAMESWORKER', secretAccessKey: 'local-frames-worker-secret' },
  deadLetters: { accessKeyId: 'LOCALFRAMESDEADLETTERS', secretAccessKey: 'local-frames-dead-letters-secret' },
  failedEvents: { accessKeyId: 'LOCALFRAMESFAILEDEVENTS', secretAccessKey: 'local-frames-failed-events-secret' },
  sweeper: { accessKeyId: 'LOCALFRAMESSWEEPER', secretAccessKey: 'local-frames-sweeper-secret' },
  mediaConvert: { accessKeyId: 'LOCALFRAMESMEDIACONVERT', secretAccessKey: 'local-frames-mediaconvert-secret' },
};

/**
 * The local cloud's own key: what creates its tables and queues, as Terraform's credentials do for
 * the stack. It is never handed to a function or a person, and is not evaluated.
 */
export const LOCAL_ADMIN_KEY: Credentials = { accessKeyId: 'LOCALFRAMESADMIN', secretAccessKey: 'local-frames-admin-secret' };

export interface LocalAccessControl {
  readonly permissions: PipelinePermissions;
  readonly principals: Readonly<Record<Principal, LocalPrincipal>>;
  /** Who signs with an access key id: a principal, `admin`, or undefined for a key nobody has. */
  principalOfKey(accessKeyId: string): Principal | 'admin' | undefined;
  secretOf(accessKeyId: string): string | undefined;
  bucketPolicy(bucket: string): NamedPolicy | undefined;
  queuePolicy(queueName: string): NamedPolicy | undefined;
}

/**
 * The grants as local mode evaluates them, for a configuration whose `kvsStreams` the caller has
 * joined with the streams registered by `frames local add-stream` (locally, registering a stream
 * is what adding it to `kvsStreams` and deploying is).
 */
export function localAccessControl(
  config: StackConfig,
  buckets: Readonly<Record<BucketName, string>>,
  rules: readonly EventRuleSpec[],
): LocalAccessControl {
  const names = pipelineNames(config);
  const queueNames: Record<QueueName, string> = {
    frames: names.frameQueue,
    'frames-dead-letters': names.frameDeadLetterQueue,
    'ingress-failures': names.failureQueues['ingress-failures'],
    'completion-failures': names.failureQueues['completion-failures'],
  };
  const functionNames = Object.fromEntries(
    (Object.keys(FUNCTIONS) as FunctionKey[]).map((key) => [key, { name: resourceName(config, FUNCTIONS[key].nameSuffix) }]),
  ) as Record<FunctionKey, Pick<FunctionSpec, 'name'>>;
  const mediaConvertRole = localMediaConvertRoleArn(config);
  const permissions = pipelinePermissions(config, { functions: functionNames, rules }, {
    arn: localArn,
    accountId: LOCAL_ACCOUNT_ID,
    buckets: { ingress: localBucketArn(buckets.ingress), frames: localBucketArn(buckets.frames), egress: localBucketArn(buckets.egress) },
    jobTable: localTableArn(names.jobTable),
    queues: Object.fromEntries(Object.entries(queueNames).map(([key, name]) => [key, localQueueArn(name)])) as Record<QueueName, string>,
    mediaConvertRole,
    // Local mode has no SNS: the topic's policies are rendered by the stack only.
    notificationTopic: localArn('sns', resourceName(config, 'notifications')),
    accountRoot: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:root`,
  });
  const arnOf = (principal: Principal) =>
    principal === 'cli'
      ? `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/${resourceName(config, 'cli')}`
      : principal === 'mediaConvert'
        ? mediaConvertRole
        : `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${functionNames[principal].name}`;
  const principals = Object.fromEntries(PRINCIPALS.map((principal) => [principal, { arn: arnOf(principal), policy: permissions.identity[principal] }])) as Record<
    Principal,
    LocalPrincipal
  >;
  const byKey = new Map<string, Principal | 'admin'>([
    ...PRINCIPALS.map((principal) => [LOCAL_PRINCIPAL_KEYS[principal].accessKeyId, principal] as const),
    [LOCAL_ADMIN_KEY.accessKeyId, 'admin'],
  ]);
  const secrets = new Map<string, string>([...Object.values(LOCAL_PRINCIPAL_KEYS), LOCAL_ADMIN_KEY].map((key) => [key.accessKeyId, key.secretAccessKey]));
  const bucketPolicies = new Map(
    (Object.keys(buckets) as BucketName[]).map((key) => [buckets[key], { name: `bucket:${buckets[key]}`, statements: permissions.bucketPolicies[key] }]),
  );
  const queuePolicies = new Map(
    (Object.keys(queueNames) as QueueName[]).map((key) => [queueNames[key], { name: `queue:${queueNames[key]}`, statements: permissions.queuePolicies[key] }]),
  );
  return {
    permissions,
    principals,
    principalOfKey: (accessKeyId) => byKey.get(accessKeyId),
    secretOf: (accessKeyId) => secrets.get(accessKeyId),
    bucketPolicy: (bucket) => bucketPolicies.get(bucket),
    queuePolicy: (queueName) => queuePolicies.get(queueName),
  };
}
