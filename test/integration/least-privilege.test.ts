import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CancelJobCommand, CreateJobCommand, GetJobCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { LOCAL_ADMIN_KEY, LOCAL_PRINCIPAL_KEYS } from '../../local/iam/local-principals';
import type { Credentials } from '../../local/s3/sigv4';
import { type RunningLocalUp, frames, rampVideo, scratchDirectory, startLocalUp, takeDenials } from './support/frames-cli';

/**
 * Negative controls, through the real local endpoints of `frames local up`: each principal signs
 * with its own key and meets the stack's own grants (pipeline/permissions.ts), as in an account.
 */
const scratch = scratchDirectory('least-privilege');
const dataDir = join(scratch.path, 'data');
let localUp: RunningLocalUp;
let framesKey: string;

beforeAll(async () => {
  localUp = await startLocalUp(dataDir);
  const video = join(scratch.path, 'drive.mp4');
  await rampVideo(video, { seconds: 1, rate: '30' });
  // A real run first: its frames and batch results are what the controls below try to touch.
  const run = await frames(['run', video, '--fps', '5', '--json', '--data-dir', dataDir]);
  expect(run.code).toBe(0);
  const results = readFileSync(run.reports[0].results!, 'utf8').split('\n').filter(Boolean);
  framesKey = (JSON.parse(results[0]) as { key: string }).key;
});
afterAll(async () => {
  await localUp.stop();
  scratch.remove();
});

const s3As = (credentials: Credentials) =>
  new S3Client({ endpoint: localUp.cloud.endpoints.s3, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts: 1 });
const mediaConvertAs = (credentials: Credentials) =>
  new MediaConvertClient({ endpoint: localUp.cloud.endpoints.mediaconvert, region: 'us-east-1', credentials, maxAttempts: 1 });
const accessDenied = { name: 'AccessDenied', $metadata: expect.objectContaining({ httpStatusCode: 403 }) };
const batchKey = () => framesKey.replace(/\/frames\/.*$/, '/batches/batch.000000.jsonl');

test('the frame worker reads frames but cannot write them; the completion function cannot read them', async () => {
  const { framesBucket } = localUp.cloud.resources;
  const worker = s3As(LOCAL_PRINCIPAL_KEYS.frameWorker);
  await expect(worker.send(new HeadObjectCommand({ Bucket: framesBucket, Key: framesKey }))).resolves.toBeDefined();
  await expect(worker.send(new PutObjectCommand({ Bucket: framesBucket, Key: framesKey, Body: 'overwritten' }))).rejects.toMatchObject(accessDenied);
  await expect(s3As(LOCAL_PRINCIPAL_KEYS.completion).send(new GetObjectCommand({ Bucket: framesBucket, Key: framesKey }))).rejects.toMatchObject(accessDenied);
  const frame = await s3As(LOCAL_ADMIN_KEY).send(new GetObjectCommand({ Bucket: framesBucket, Key: framesKey }));
  expect((await frame.Body!.transformToByteArray()).length).toBeGreaterThan(100);
  expect(takeDenials(scratch.path).map(({ principal, action }) => `${principal} ${action}`)).toEqual(['frameWorker s3:PutObject', 'completion s3:GetObject']);
});

test('the CLI user cannot write clip pieces or read batch results; a missing key is 404 only with s3:ListBucket', async () => {
  const { ingressBucket, framesBucket, egressBucket } = localUp.cloud.resources;
  const cli = s3As(LOCAL_PRINCIPAL_KEYS.cli);
  await expect(cli.send(new PutObjectCommand({ Bucket: ingressBucket, Key: 'kvs-clips/x/piece.0000.mp4', Body: 'x' }))).rejects.toMatchObject(accessDenied);
  await expect(cli.send(new GetObjectCommand({ Bucket: framesBucket, Key: batchKey() }))).rejects.toMatchObject(accessDenied);
  // No s3:ListBucket on the egress bucket: a missing key is 403, as S3 answers it.
  await expect(cli.send(new GetObjectCommand({ Bucket: egressBucket, Key: 'nothing/here.jsonl' }))).rejects.toMatchObject(accessDenied);
  // The ingress function lists its bucket: a deleted upload is a 404 (SOURCE_NOT_FOUND), not a 403.
  await expect(s3As(LOCAL_PRINCIPAL_KEYS.ingress).send(new HeadObjectCommand({ Bucket: ingressBucket, Key: 'deleted.mp4' }))).rejects.toMatchObject({
    name: 'NotFound',
    $metadata: expect.objectContaining({ httpStatusCode: 404 }),
  });
  expect(takeDenials(scratch.path).map(({ principal, action }) => `${principal} ${action}`)).toEqual([
    'cli s3:PutObject',
    'cli s3:GetObject',
    'cli s3:ListBucket',
  ]);
});

/** A job as the ingress function submits it, with its frames under `framesPrefix` of the frames bucket. */
function job(framesPrefix: string, tags: Record<string, string>, role = localUp.cloud.resources.mediaConvertRoleArn) {
  const { ingressBucket, framesBucket } = localUp.cloud.resources;
  const output = (container: 'RAW' | 'MP4', codec: 'FRAME_CAPTURE' | 'H_264') => ({
    ContainerSettings: { Container: container },
    VideoDescription: {
      CodecSettings:
        codec === 'FRAME_CAPTURE'
          ? { Codec: codec, FrameCaptureSettings: { FramerateNumerator: 1, FramerateDenominator: 1, MaxCaptures: 10, Quality: 80 } }
          : { Codec: codec, H264Settings: { RateControlMode: 'QVBR' as const, MaxBitrate: 400_000 } },
    },
  });
  return new CreateJobCommand({
    Role: role,
    Tags: tags,
    Settings: {
      Inputs: [{ FileInput: `s3://${ingressBucket}/drive.mp4` }],
      OutputGroups: [
        { OutputGroupSettings: { Type: 'FILE_GROUP_SETTINGS', FileGroupSettings: { Destination: `s3://${framesBucket}/${framesPrefix}frame` } }, Outputs: [output('RAW', 'FRAME_CAPTURE')] },
        { OutputGroupSettings: { Type: 'FILE_GROUP_SETTINGS', FileGroupSettings: { Destination: `s3://${framesBucket}/x/run/proxy/proxy` } }, Outputs: [output('MP4', 'H_264')] },
      ],
    },
  } as ConstructorParameters<typeof CreateJobCommand>[0]);
}

test("MediaConvert's role cannot write batch results: a job told to ends in ERROR with the refusal", async () => {
  const ingress = mediaConvertAs(LOCAL_PRINCIPAL_KEYS.ingress);
  const { Job } = await ingress.send(job('x/run/batches/', { pipeline: 'frames' }));
  const admin = mediaConvertAs(LOCAL_ADMIN_KEY);
  let status = Job!.Status;
  let message = '';
  for (let attempt = 0; attempt < 120 && status !== 'ERROR' && status !== 'COMPLETE'; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const current = (await admin.send(new GetJobCommand({ Id: Job!.Id }))).Job!;
    status = current.Status;
    message = current.ErrorMessage ?? '';
  }
  expect(status).toBe('ERROR');
  expect(message).toMatch(/frames-mediaconvert is not authorized to perform:? s3:PutObject/);
  expect(takeDenials(scratch.path).map(({ principal, action, resource }) => `${principal} ${action} ${resource.replace(/\.\d+\.jpg$/, '')}`)).toContain(
    `mediaConvert s3:PutObject arn:aws:s3:::${localUp.cloud.resources.framesBucket}/x/run/batches/frame`,
  );
});

test('the ingress function creates and cancels only jobs tagged for its pipeline, and passes only the MediaConvert role', async () => {
  const ingress = mediaConvertAs(LOCAL_PRINCIPAL_KEYS.ingress);
  const forbidden = { name: 'ForbiddenException', $metadata: expect.objectContaining({ httpStatusCode: 403 }) };
  await expect(ingress.send(job('x/untagged/frames/', {}))).rejects.toMatchObject(forbidden);
  await expect(ingress.send(job('x/other-role/frames/', { pipeline: 'frames' }, 'arn:aws:iam::000000000000:role/someone-elses'))).rejects.toMatchObject(forbidden);
  // Another pipeline's job in the same account (an administrator made it).
  const { Job: other } = await mediaConvertAs(LOCAL_ADMIN_KEY).send(job('x/other/frames/', { pipeline: 'another-pipeline' }));
  await expect(ingress.send(new CancelJobCommand({ Id: other!.Id }))).rejects.toMatchObject(forbidden);
  expect(takeDenials(scratch.path).map(({ principal, action }) => `${principal} ${action}`)).toEqual([
    'ingress mediaconvert:CreateJob',
    'ingress iam:PassRole',
    'ingress mediaconvert:CancelJob',
  ]);
});
