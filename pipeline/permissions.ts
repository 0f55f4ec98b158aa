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
import { JOB_LIST_INDEX } from './job-record';
import type { StackConfig } from './stack-config';
import type { EventRuleSpec, FunctionKey, FunctionSpec } from './topology';

/** Who acts in the pipeline: its four functions, MediaConvert (through its role), and people or CI using the CLI. */
export type Principal = FunctionKey | 'mediaConvert' | 'cli';
export const PRINCIPALS: readonly Principal[] = ['ingress', 'completion', 'frameWorker', 'deadLetters', 'mediaConvert', 'cli'];

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
}

export interface PipelinePermissions {
  /** What each principal may do (the role's inline policy; for the CLI, a managed policy). */
  readonly identity: Readonly<Record<Principal, readonly PolicyStatement[]>>;
  /** Who may assume each role. */
  readonly trust: Readonly<Record<FunctionKey | 'mediaConvert', readonly PolicyStatement[]>>;
  readonly bucketPolicies: Readonly<Record<BucketName, readonly PolicyStatement[]>>;
  readonly queuePolicies: Readonly<Record<QueueName, readonly PolicyStatement[]>>;
}

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
  const clipsConfigured = config.kvsStreams.length > 0;

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
      allow('CancelOwnJobs', 'mediaconvert:CancelJob', arn('mediaconvert', 'jobs/*'), thisPipelinesJobs('aws:ResourceTag')),
      allow('PassRoleToMediaConvertOnly', 'iam:PassRole', resources.mediaConvertRole, {
        StringEquals: { 'iam:PassedToService': SERVICE_PRINCIPALS.mediaConvert },
      }),
      keepFailedEvents('ingress-failures'),
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
      // A video with no frames is completed at once, with empty results.
      writeResults,
      keepFailedEvents('completion-failures'),
    ],
    frameWorker: [
      writeOwnLogs('frameWorker'),
      trackJobs(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
      allow('ReadFrames', 's3:GetObject', frameFiles),
      listFrames,
      batchResults,
      writeResults,
      consumeQueue('ConsumeFrameQueue', 'frames'),
    ],
    deadLetters: [
      writeOwnLogs('deadLetters'),
      trackJobs(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
      listFrames,
      batchResults,
      writeResults,
      consumeQueue('ConsumeDeadLetters', 'frames-dead-letters'),
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
      ...(clipsConfigured
        ? [
            allow('RequestClips', 'events:PutEvents', arn('events', 'event-bus/default'), {
              // events:source is multivalued (one value per entry): every entry's source must be
              // the clip request's, and a request without one must not pass as "all of none".
              'ForAllValues:StringEquals': { 'events:source': [CLIP_REQUEST_EVENT.source] },
              Null: { 'events:source': 'false' },
            }),
          ]
        : []),
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

  return {
    identity,
    trust,
    bucketPolicies: { ingress: tlsOnlyBucket('ingress'), frames: tlsOnlyBucket('frames'), egress: tlsOnlyBucket('egress') },
    queuePolicies: {
      frames: denyInsecureTransport('sqs', [queues.frames]),
      'frames-dead-letters': denyInsecureTransport('sqs', [queues['frames-dead-letters']]),
      'ingress-failures': failureQueuePolicy('ingress-failures'),
      'completion-failures': failureQueuePolicy('completion-failures'),
    },
  };
}
