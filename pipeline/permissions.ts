/**
 * Every grant of the pipeline, declared once and keyed by principal: what each function's role,
 * MediaConvert's role and the CLI's policy may do, who may assume the roles, and the policies on
 * the buckets and queues. Built from the resources' ARNs as the topology is built from their names:
 * the stack (modules/) renders it as Terraform with ARNs that are Terraform references; local mode
 * gives each principal its own credentials and evaluates every request against it with the ARNs
 * of its local resources, answering AccessDenied where AWS would. So a missing or wrong grant fails
 * a local run, not only a deployed one.
 */
import { streamOf } from './clip-request';
import { CLIP_REQUEST_EVENT } from './clip-request';
import { CLIP_PIECES_PREFIX, JOB_TAG_KEY } from './definition';
import { type PolicyStatement, SERVICE_PRINCIPALS, denyInsecureTransport } from './iam-policy';
import { JOB_LIST_INDEX, PENDING_ANNOUNCEMENT_INDEX } from './job-record';
import { OUTCOME_EVENT, REDRIVE_EVENT } from './outcome-event';
import type { StackConfig } from './stack-config';
import type { EventRuleSpec, FunctionKey, FunctionSpec } from './topology';

/** Who acts in the pipeline: its four functions, MediaConvert (through its role), and people or CI using the CLI. */
export type Principal = FunctionKey | 'mediaConvert' | 'cli';
export const PRINCIPALS: readonly Principal[] = [
  'ingress',
  'completion',
  'frameWorker',
  'deadLetters',
  'failedEvents',
  'sweeper',
  'mediaConvert',
  'cli',
];

export type BucketName = 'ingress' | 'frames' | 'egress';
export type QueueName = 'frames' | 'frames-dead-letters' | 'ingress-failures' | 'completion-failures';

/** The ARNs grants are made on: Terraform references in the stack, literal ARNs locally. */
export interface PermissionResources {
  /** An ARN in the pipeline's account and region: `arn:<partition>:<service>:<region>:<account>:<resource>`. */
  readonly arn: (service: string, resource: string) => string;
  readonly accountId: string;
  readonly buckets: Readonly<Record<BucketName, string>>;
  readonly jobTable: string;
  readonly queues: Readonly<Record<QueueName, string>>;
  readonly mediaConvertRole: string;
  /** The notifications topic (alarms and outcome events) and the account's root, for its key's policy. */
  readonly notificationTopic: string;
  readonly accountRoot: string;
}

export interface PipelinePermissions {
  /** What each principal may do (the role's inline policy; for the CLI, a managed policy). */
  readonly identity: Readonly<Record<Principal, readonly PolicyStatement[]>>;
  /** Who may assume each role. */
  readonly trust: Readonly<Record<FunctionKey | 'mediaConvert', readonly PolicyStatement[]>>;
  readonly bucketPolicies: Readonly<Record<BucketName, readonly PolicyStatement[]>>;
  readonly queuePolicies: Readonly<Record<QueueName, readonly PolicyStatement[]>>;
  /** Who may publish to the notifications topic: this stack's alarms and its outcome rule, over TLS. */
  readonly topicPolicy: readonly PolicyStatement[];
  /**
   * The policy of the topic's customer managed key. CloudWatch alarms and EventBridge cannot
   * publish to a topic encrypted with the AWS managed key (alias/aws/sns): its policy cannot
   * grant them. The account administers the key; the two services may only use it.
   */
  readonly notificationKeyPolicy: readonly PolicyStatement[];
}

/** The rule that sends outcome events to the notifications topic (when operations.notifyOutcomes is not 'none'). */
export const NOTIFY_OUTCOMES_RULE_SUFFIX = 'notify-outcomes';
/** Every alarm's name starts with `<namePrefix>-alarm-`: the topic's policy admits exactly those. */
export const ALARM_NAME_INFIX = 'alarm-';

export function pipelinePermissions(
  config: StackConfig,
  topology: { readonly functions: Readonly<Record<FunctionKey, Pick<FunctionSpec, 'name'>>>; readonly rules: readonly EventRuleSpec[] },
  resources: PermissionResources,
): PipelinePermissions {
  const { arn, buckets, queues } = resources;
  const objectsIn = (bucket: BucketName, pattern = '*') => `${buckets[bucket]}/${pattern}`;
  const allow = (Sid: string, Action: string | string[], Resource: string | string[], Condition?: PolicyStatement['Condition']): PolicyStatement => ({
    Sid,
    Effect: 'Allow',
    Action,
    Resource,
    ...(Condition ? { Condition } : {}),
  });

  // Grants several principals share, each written once.
  const writeOwnLogs = (key: FunctionKey) =>
    allow('WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents'], arn('logs', `log-group:/aws/lambda/${topology.functions[key].name}:*`));
  const trackJobs = (actions: string[]) => allow('TrackJobs', actions, resources.jobTable);
  // Without s3:ListBucket, S3 answers a missing object with 403 instead of 404, and a missing
  // frame or batch result would look like a permissions fault.
  const listFrames = allow('ListFramesBucket', 's3:ListBucket', buckets.frames);
  const frameFiles = objectsIn('frames', '*/frames/*');
  const batchResults = allow('KeepBatchResults', ['s3:GetObject', 's3:PutObject'], objectsIn('frames', '*/batches/*'));
  // Large results files are multipart uploads; a failed one is aborted.
  const writeResults = allow('WriteResults', ['s3:PutObject', 's3:AbortMultipartUpload'], objectsIn('egress'));
  const keepFailedEvents = (queue: QueueName) => allow('KeepFailedEvents', 'sqs:SendMessage', queues[queue]);
  const consumeQueue = (Sid: string, queue: QueueName) =>
    allow(Sid, ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'], queues[queue]);
  const clipPieces = objectsIn('ingress', `${CLIP_PIECES_PREFIX}*`);
  const thisPipelinesJobs = (tag: 'aws:RequestTag' | 'aws:ResourceTag') => ({ StringEquals: { [`${tag}/${JOB_TAG_KEY}`]: config.namePrefix } });
  // A segmented run that fails stops its other segments' jobs rather than pay for them: only this
  // pipeline's jobs (the completion function, and the sweeper when a replay fails a run).
  const cancelOwnJobs = allow('CancelOwnJobs', 'mediaconvert:CancelJob', arn('mediaconvert', 'jobs/*'), thisPipelinesJobs('aws:ResourceTag'));
  const clipsConfigured = config.kvsStreams.length > 0;
  // PutEvents on the default bus of events of one source and the listed detail types only.
  // Both keys are multivalued (one value per entry): every entry must match, and a request
  // without them must not pass as "all of none".
  const putEvents = (Sid: string, source: string, detailTypes: readonly string[]) =>
    allow(Sid, 'events:PutEvents', arn('events', 'event-bus/default'), {
      'ForAllValues:StringEquals': { 'events:source': [source], 'events:detail-type': [...detailTypes] },
      Null: { 'events:source': 'false', 'events:detail-type': 'false' },
    });
  // Every function that can finish a run says so on the bus (pipeline/outcome-event.ts).
  const announceOutcomes = putEvents('AnnounceOutcomes', OUTCOME_EVENT.source, [OUTCOME_EVENT.completed, OUTCOME_EVENT.failed]);
  const readBatchResults = allow('ReadBatchResults', 's3:GetObject', objectsIn('frames', '*/batches/*'));
  // The sweeper's two queries: runs by status, and runs whose outcome event is pending.
  const readJobsByStatus = allow('FindRunsByStatus', 'dynamodb:Query', [
    `${resources.jobTable}/index/${JOB_LIST_INDEX.name}`,
    `${resources.jobTable}/index/${PENDING_ANNOUNCEMENT_INDEX.name}`,
  ]);

  const identity: Record<Principal, PolicyStatement[]> = {
    ingress: [
      writeOwnLogs('ingress'),
      // HeadObject is authorised by s3:GetObject; ListBucket makes a deleted upload a 404
      // (SOURCE_NOT_FOUND), not a 403 that would be retried into the failure queue.
      allow('ReadUploads', 's3:GetObject', objectsIn('ingress')),
      allow('ListUploads', 's3:ListBucket', buckets.ingress),
      trackJobs(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']),
      allow('SubmitJobs', 'mediaconvert:CreateJob', arn('mediaconvert', 'queues/*'), {
        ...thisPipelinesJobs('aws:RequestTag'),
        // AWS's documented form: these keys describe the account's MediaConvert input policy,
        // and are absent where none is set. Where one allows HTTP(S) inputs, this pipeline
        // (whose inputs are always its own S3 objects) may not submit.
        BoolIfExists: { 'mediaconvert:HttpInputsAllowed': 'false', 'mediaconvert:HttpsInputsAllowed': 'false' },
      }),
      allow('FindJobs', 'mediaconvert:ListJobs', arn('mediaconvert', 'queues/*')),
      cancelOwnJobs,
      allow('PassRoleToMediaConvertOnly', 'iam:PassRole', resources.mediaConvertRole, {
        StringEquals: { 'iam:PassedToService': SERVICE_PRINCIPALS.mediaConvert },
      }),
      keepFailedEvents('ingress-failures'),
      announceOutcomes,
      ...(clipsConfigured
        ? [
            // Pieces are multipart uploads; a failed one is aborted, never left half written.
            allow('WriteClipPieces', ['s3:PutObject', 's3:AbortMultipartUpload'], clipPieces),
            allow(
              'ClipConfiguredStreams',
              ['kinesisvideo:GetDataEndpoint', 'kinesisvideo:ListFragments', 'kinesisvideo:GetClip'],
              // A name means that stream in this account and region (any incarnation: a stream
              // ARN ends in its creation time), an ARN exactly it.
              config.kvsStreams.map((stream) => {
                const { name, arn: streamArn } = streamOf(stream)!;
                return streamArn ?? arn('kinesisvideo', `stream/${name}/*`);
              }),
            ),
          ]
        : []),
    ],
    completion: [
      writeOwnLogs('completion'),
      trackJobs(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
      listFrames,
      allow('FanOutFrames', 'sqs:SendMessage', queues.frames),
      cancelOwnJobs,
      // A video with no frames is completed at once, with empty results.
      writeResults,
      keepFailedEvents('completion-failures'),
      announceOutcomes,
    ],
    frameWorker: [
      writeOwnLogs('frameWorker'),
      trackJobs(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
      allow('ReadFrames', 's3:GetObject', frameFiles),
      listFrames,
      batchResults,
      writeResults,
      consumeQueue('ConsumeFrameQueue', 'frames'),
      announceOutcomes,
    ],
    deadLetters: [
      writeOwnLogs('deadLetters'),
      trackJobs(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
      listFrames,
      batchResults,
      writeResults,
      consumeQueue('ConsumeDeadLetters', 'frames-dead-letters'),
      announceOutcomes,
    ],
    failedEvents: [
      writeOwnLogs('failedEvents'),
      // PutItem records an upload whose run was never claimed, or a malformed clip request.
      trackJobs(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']),
      allow(
        'ConsumeFailedEvents',
        ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
        [queues['ingress-failures'], queues['completion-failures']],
      ),
      announceOutcomes,
    ],
    sweeper: [
      writeOwnLogs('sweeper'),
      trackJobs(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
      readJobsByStatus,
      // What a stalled run's job became: only this pipeline's jobs.
      allow('ReadOwnJobs', 'mediaconvert:GetJob', arn('mediaconvert', 'jobs/*'), thisPipelinesJobs('aws:ResourceTag')),
      cancelOwnJobs,
      // Repairs finish what the completion function and the fan-in would have done.
      listFrames,
      allow('FanOutFrames', 'sqs:SendMessage', queues.frames),
      readBatchResults,
      writeResults,
      announceOutcomes,
    ],
    mediaConvert: [
      // Uploads and the pieces of KVS clips.
      allow('ReadVideos', 's3:GetObject', objectsIn('ingress')),
      // Only a run's frames and proxy: never the workers' batch results beside them.
      allow('WriteFramesAndProxies', 's3:PutObject', [frameFiles, objectsIn('frames', '*/proxy/*')]),
    ],
    cli: [
      // `aws s3 ls`, which frames local up prints: bucket names only, never their contents. The
      // action has no resource-level permissions (Resource "*" is the only form IAM takes).
      allow('ListBuckets', 's3:ListAllMyBuckets', '*'),
      // PutObject also authorises the multipart calls (create, upload part, complete).
      allow('UploadVideos', ['s3:PutObject', 's3:AbortMultipartUpload'], objectsIn('ingress')),
      {
        Sid: 'KeepOffClipPieces',
        Effect: 'Deny',
        // The pipeline's own: an upload there could overwrite a clip's piece mid-run.
        Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
        Resource: clipPieces,
      },
      allow('DownloadResults', 's3:GetObject', objectsIn('egress')),
      // `frames report` makes its thumbnails from a run's frames while they exist: the frames
      // themselves only (never the workers' batch results), and the listing that makes an
      // expired frame a 404 the report can explain rather than a 403.
      allow('ReadFrames', 's3:GetObject', frameFiles),
      listFrames,
      allow('ReadJobs', ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], resources.jobTable),
      allow('ListJobs', 'dynamodb:Query', `${resources.jobTable}/index/${JOB_LIST_INDEX.name}`),
      // `frames redrive`: the kept event of a run the pipeline gave up on, back to its function.
      // Only that detail type: the CLI cannot forge a run's outcome event.
      putEvents('RedriveRuns', REDRIVE_EVENT.source, [REDRIVE_EVENT.detailType]),
      ...(clipsConfigured ? [putEvents('RequestClips', CLIP_REQUEST_EVENT.source, [CLIP_REQUEST_EVENT.detailType])] : []),
    ],
  };

  const assumedBy = (service: string, Condition?: PolicyStatement['Condition']): PolicyStatement[] => [
    { Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole', ...(Condition ? { Condition } : {}) },
  ];
  const functionTrust = assumedBy(SERVICE_PRINCIPALS.lambda);
  const trust = {
    ingress: functionTrust,
    completion: functionTrust,
    frameWorker: functionTrust,
    deadLetters: functionTrust,
    failedEvents: functionTrust,
    sweeper: functionTrust,
    // Only MediaConvert acting for this account, from one of its queues in this region
    // (confused-deputy protection: AWS documents aws:SourceArn as the queue's ARN).
    mediaConvert: assumedBy(SERVICE_PRINCIPALS.mediaConvert, {
      StringEquals: { 'aws:SourceAccount': resources.accountId },
      ArnLike: { 'aws:SourceArn': arn('mediaconvert', 'queues/*') },
    }),
  };

  const tlsOnlyBucket = (bucket: BucketName) => denyInsecureTransport('s3', [buckets[bucket], objectsIn(bucket)]);
  const failureQueuePolicy = (queue: 'ingress-failures' | 'completion-failures'): PolicyStatement[] => {
    const rules = topology.rules.filter((rule) => rule.failureQueue === queue).map((rule) => arn('events', `rule/${rule.name}`));
    return [
      {
        Sid: 'UndeliverableEvents',
        Effect: 'Allow',
        Principal: { Service: SERVICE_PRINCIPALS.events },
        Action: 'sqs:SendMessage',
        Resource: queues[queue],
        Condition: { ArnEquals: { 'aws:SourceArn': rules.length === 1 ? rules[0] : rules } },
      },
      ...denyInsecureTransport('sqs', [queues[queue]]),
    ];
  };

  const thisAccount = { StringEquals: { 'aws:SourceAccount': resources.accountId } };
  const topicPolicy: PolicyStatement[] = [
    {
      Sid: 'AlarmsPublish',
      Effect: 'Allow',
      Principal: { Service: SERVICE_PRINCIPALS.cloudWatch },
      Action: 'sns:Publish',
      Resource: resources.notificationTopic,
      Condition: { ...thisAccount, ArnLike: { 'aws:SourceArn': arn('cloudwatch', `alarm:${config.namePrefix}-${ALARM_NAME_INFIX}*`) } },
    },
    {
      Sid: 'OutcomeRulePublishes',
      Effect: 'Allow',
      Principal: { Service: SERVICE_PRINCIPALS.events },
      Action: 'sns:Publish',
      Resource: resources.notificationTopic,
      Condition: { ArnEquals: { 'aws:SourceArn': arn('events', `rule/${config.namePrefix}-${NOTIFY_OUTCOMES_RULE_SUFFIX}`) } },
    },
    ...denyInsecureTransport('sns', [resources.notificationTopic]),
  ];
  const notificationKeyPolicy: PolicyStatement[] = [
    { Sid: 'AccountAdministersKey', Effect: 'Allow', Principal: { AWS: resources.accountRoot }, Action: 'kms:*', Resource: '*' },
    {
      Sid: 'AlarmsAndRulesEncrypt',
      Effect: 'Allow',
      Principal: { Service: [SERVICE_PRINCIPALS.cloudWatch, SERVICE_PRINCIPALS.events] },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: thisAccount,
    },
  ];

  return {
    identity,
    trust,
    topicPolicy,
    notificationKeyPolicy,
    bucketPolicies: { ingress: tlsOnlyBucket('ingress'), frames: tlsOnlyBucket('frames'), egress: tlsOnlyBucket('egress') },
    queuePolicies: {
      frames: denyInsecureTransport('sqs', [queues.frames]),
      'frames-dead-letters': denyInsecureTransport('sqs', [queues['frames-dead-letters']]),
      'ingress-failures': failureQueuePolicy('ingress-failures'),
      'completion-failures': failureQueuePolicy('completion-failures'),
    },
  };
}
