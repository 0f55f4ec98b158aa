import { Authorizer } from '../../../local/iam/authorizer';
import { localAccessControl, localArn, localBucketArn, localTableArn } from '../../../local/iam/local-principals';
import type { StackConfig } from '../../../pipeline/stack-config';
import { TEST_BUCKETS, TEST_CONFIG, TEST_RULES } from '../../support/local-access';

/**
 * The stack's own grants (pipeline/permissions.ts), evaluated by iam-simulate as local mode
 * evaluates every request: what each principal may and may not do, the six defects an IAM policy
 * simulator found in the earlier stack, and the decision cache.
 */
const config = TEST_CONFIG;
const buckets = TEST_BUCKETS;
const rules = TEST_RULES;

function authorizerFor(stackConfig: StackConfig) {
  const access = localAccessControl(stackConfig, buckets, rules);
  return { access, authorizer: new Authorizer({ accountId: '000000000000', principals: access.principals }) };
}

const { access, authorizer } = authorizerFor(config);
const object = (bucket: keyof typeof buckets, key: string) => `${localBucketArn(buckets[bucket])}/${key}`;
const FRAME = 'drive.mp4-0123456789ab/run1/frames/frame.0000007.jpg';
const BATCH = 'drive.mp4-0123456789ab/run1/batches/batch.000001.jsonl';

const may = async (principal: string, action: string, resource: string, context?: Record<string, string | string[]>, bucket?: keyof typeof buckets) =>
  (await authorizer.authorize({ principal, action, resource, context, resourcePolicy: bucket ? access.bucketPolicy(buckets[bucket]) : undefined })).allowed;

test.each([
  ['frameWorker', 's3:GetObject', object('frames', FRAME), true],
  ['frameWorker', 's3:PutObject', object('frames', FRAME), false],
  ['frameWorker', 's3:PutObject', object('frames', BATCH), true],
  ['completion', 's3:GetObject', object('frames', FRAME), false],
  ['completion', 's3:ListBucket', localBucketArn(buckets.frames), true],
  ['mediaConvert', 's3:PutObject', object('frames', FRAME), true],
  ['mediaConvert', 's3:PutObject', object('frames', 'drive.mp4-0123456789ab/run1/proxy/proxy.mp4'), true],
  ['mediaConvert', 's3:PutObject', object('frames', BATCH), false],
  ['mediaConvert', 's3:GetObject', object('ingress', 'drive.mp4'), true],
  ['cli', 's3:PutObject', object('ingress', 'trips/drive.mp4'), true],
  ['cli', 's3:PutObject', object('ingress', 'kvs-clips/x/piece.0000.mp4'), false],
  ['cli', 's3:GetObject', object('frames', FRAME), true],
  ['cli', 's3:GetObject', object('frames', BATCH), false],
  ['cli', 'dynamodb:Query', `${localTableArn('frames-jobs')}/index/ByStatus`, true],
  ['cli', 'dynamodb:UpdateItem', localTableArn('frames-jobs'), false],
])('%s %s on %s: allowed %s', async (principal, action, resource, expected) => {
  // An object or bucket is also judged by its bucket's policy, as S3 judges it.
  const bucket = (Object.keys(buckets) as (keyof typeof buckets)[]).find((name) => resource.startsWith(localBucketArn(buckets[name])));
  expect(await may(principal, action, resource, undefined, bucket)).toBe(expected);
});

describe('the six defects, each refused by the earlier grants', () => {
  test('1. the ingress function may list its bucket, so a deleted upload is a 404, not a 403', async () => {
    expect(await may('ingress', 's3:ListBucket', localBucketArn(buckets.ingress), undefined, 'ingress')).toBe(true);
  });

  test('2. the CLI puts clip requests whose every entry has the clip source, and nothing without a source', async () => {
    const bus = localArn('events', 'event-bus/default');
    const clip = { 'events:source': ['video-frame-pipeline'], 'events:detail-type': ['Clip Requested'] };
    expect(await may('cli', 'events:PutEvents', bus, clip)).toBe(true);
    expect(await may('cli', 'events:PutEvents', bus, { ...clip, 'events:source': ['video-frame-pipeline', 'someone.else'] })).toBe(false);
    expect(await may('cli', 'events:PutEvents', bus, {})).toBe(false);
    // frames redrive: its own detail type; the CLI can never forge a run's outcome.
    expect(await may('cli', 'events:PutEvents', bus, { ...clip, 'events:detail-type': ['Video Frames Redrive Requested'] })).toBe(true);
    expect(await may('cli', 'events:PutEvents', bus, { ...clip, 'events:detail-type': ['Video Frames Completed'] })).toBe(false);
    expect(await may('cli', 'events:PutEvents', bus, { ...clip, 'events:detail-type': ['Clip Requested', 'Video Frames Failed'] })).toBe(false);
    expect(await may('cli', 'events:PutEvents', bus, { 'events:source': ['video-frame-pipeline'] })).toBe(false);
  });

  test('outcome events are put by the functions that finish runs, and only outcome events', async () => {
    const bus = localArn('events', 'event-bus/default');
    const outcome = (detailType: string) => ({ 'events:source': ['video-frame-pipeline'], 'events:detail-type': [detailType] });
    for (const principal of ['ingress', 'completion', 'frameWorker', 'deadLetters', 'failedEvents', 'sweeper'] as const) {
      expect(await may(principal, 'events:PutEvents', bus, outcome('Video Frames Completed'))).toBe(true);
      expect(await may(principal, 'events:PutEvents', bus, outcome('Video Frames Failed'))).toBe(true);
      expect(await may(principal, 'events:PutEvents', bus, outcome('Clip Requested'))).toBe(false);
      expect(await may(principal, 'events:PutEvents', bus, outcome('Video Frames Redrive Requested'))).toBe(false);
    }
  });

  test('3. the ingress function creates only jobs tagged for this pipeline and cancels only those', async () => {
    const queue = localArn('mediaconvert', 'queues/Default');
    expect(await may('ingress', 'mediaconvert:CreateJob', queue, { 'aws:RequestTag/pipeline': 'frames', 'aws:TagKeys': ['pipeline'] })).toBe(true);
    expect(await may('ingress', 'mediaconvert:CreateJob', queue, {})).toBe(false);
    const job = localArn('mediaconvert', 'jobs/1700000000000-abcdef');
    expect(await may('ingress', 'mediaconvert:CancelJob', job, { 'aws:ResourceTag/pipeline': 'frames' })).toBe(true);
    expect(await may('ingress', 'mediaconvert:CancelJob', job, { 'aws:ResourceTag/pipeline': 'another-pipeline' })).toBe(false);
    expect(await may('ingress', 'mediaconvert:CancelJob', job, {})).toBe(false);
  });

  test('4. the ingress function cannot submit where the account allows HTTP(S) inputs, nor pass the role to another service', async () => {
    const queue = localArn('mediaconvert', 'queues/Default');
    const tagged = { 'aws:RequestTag/pipeline': 'frames', 'aws:TagKeys': ['pipeline'] };
    expect(await may('ingress', 'mediaconvert:CreateJob', queue, { ...tagged, 'mediaconvert:HttpInputsAllowed': 'true' })).toBe(false);
    expect(await may('ingress', 'mediaconvert:CreateJob', queue, { ...tagged, 'mediaconvert:HttpsInputsAllowed': 'true' })).toBe(false);
    const role = 'arn:aws:iam::000000000000:role/frames-mediaconvert';
    expect(await may('ingress', 'iam:PassRole', role, { 'iam:PassedToService': 'mediaconvert.amazonaws.com' })).toBe(true);
    expect(await may('ingress', 'iam:PassRole', role, { 'iam:PassedToService': 'lambda.amazonaws.com' })).toBe(false);
  });

  test('5. without configured streams, nobody may write clip pieces or clip streams', async () => {
    const plain = authorizerFor({ ...config, kvsStreams: [] }).authorizer;
    const stream = localArn('kinesisvideo', 'stream/front-camera/1');
    expect((await plain.authorize({ principal: 'ingress', action: 's3:PutObject', resource: object('ingress', 'kvs-clips/a/piece.0000.mp4') })).allowed).toBe(false);
    expect((await plain.authorize({ principal: 'ingress', action: 'kinesisvideo:GetClip', resource: stream })).allowed).toBe(false);
    expect(await may('ingress', 'kinesisvideo:GetClip', stream)).toBe(true);
  });
});

test('plain HTTP is refused by every bucket policy, whoever asks', async () => {
  const decision = await authorizer.authorize({
    principal: 'frameWorker',
    action: 's3:GetObject',
    resource: object('frames', FRAME),
    context: { 'aws:SecureTransport': 'false' },
    resourcePolicy: access.bucketPolicy(buckets.frames),
  });
  expect(decision).toMatchObject({ allowed: false, result: 'ExplicitlyDenied' });
});

test('a denial names the principal, the action, the resource and why', async () => {
  const decision = await authorizer.authorize({ principal: 'completion', action: 's3:GetObject', resource: object('frames', FRAME) });
  expect(decision.message).toBe(
    `arn:aws:iam::000000000000:role/frames-completion is not authorized to perform s3:GetObject on ${object('frames', FRAME)}: no statement in pipeline/permissions.ts allows it`,
  );
});

test("a run's frames cost one evaluation, not one each", async () => {
  const fresh = authorizerFor(config).authorizer;
  const policy = access.bucketPolicy(buckets.frames);
  for (let index = 0; index < 500; index += 1) {
    const resource = object('frames', `v-0123456789ab/run1/frames/frame.${String(index).padStart(7, '0')}.jpg`);
    expect((await fresh.authorize({ principal: 'frameWorker', action: 's3:GetObject', resource, resourcePolicy: policy })).allowed).toBe(true);
  }
  // A batch result matches other patterns: a second evaluation, then cached too.
  await fresh.authorize({ principal: 'frameWorker', action: 's3:GetObject', resource: object('frames', BATCH), resourcePolicy: policy });
  expect(fresh.evaluations).toBe(2);
});
