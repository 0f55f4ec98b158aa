import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateJobCommand, GetJobCommand, ListJobsCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { CLOUD_FILE, type LocalCloudDescription } from '../../local/cloud/cloud-description';
import { LOCAL_ADMIN_KEY } from '../../local/iam/local-principals';
import { type RunningLocalUp, frames, rampVideo, scratchDirectory, startLocalUp } from './support/frames-cli';

/**
 * `frames local up` serves the pipeline to any AWS client: here the SDK clients a person would
 * point at the printed endpoints (the AWS CLI's `--endpoint-url` sends the same requests).
 */
const scratch = scratchDirectory('local-up');
const dataDir = join(scratch.path, 'data');
let localUp: RunningLocalUp;
let child: ChildProcess;
let cloud: LocalCloudDescription;

beforeAll(async () => {
  localUp = await startLocalUp(dataDir);
  ({ child, cloud } = localUp);
});

afterAll(async () => {
  await localUp.stop();
  scratch.remove();
});

/** As a person at the CLI, with the key `frames local up` prints (the CLI user's). */
const clientConfig = (endpoint: string) => ({ endpoint, region: cloud.region, credentials: cloud.credentials });
/**
 * MediaConvert is not the CLI user's to call (a deployed stack grants it only to the ingress
 * function): an account administrator looks at the jobs, here the local cloud's own key.
 */
const adminConfig = (endpoint: string) => ({ endpoint, region: cloud.region, credentials: LOCAL_ADMIN_KEY });

test('an upload with the S3 API runs through the pipeline; the record is readable with the DynamoDB API', async () => {
  const video = join(scratch.path, 'drive.mp4');
  await rampVideo(video, { seconds: 1, rate: '30' });
  const s3 = new S3Client({ ...clientConfig(cloud.endpoints.s3), requestChecksumCalculation: 'WHEN_REQUIRED' });
  await s3.send(
    new PutObjectCommand({
      Bucket: cloud.resources.ingressBucket,
      Key: 'trips/day 1/drive.mp4',
      Body: readFileSync(video),
      Metadata: { fps: '15' },
    }),
  );

  const dynamodb = new DynamoDBClient(clientConfig(cloud.endpoints.dynamodb));
  let item: Record<string, { S?: string; N?: string }> | undefined;
  for (let attempt = 0; attempt < 120; attempt += 1) {
    ({ Item: item } = await dynamodb.send(
      new GetItemCommand({ TableName: cloud.resources.jobTable, Key: { VideoId: { S: 'trips/day 1/drive.mp4' } } }),
    ));
    if (item?.Status?.S === 'COMPLETE' || item?.Status?.S === 'FAILED') break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(item?.Status?.S).toBe('COMPLETE');
  expect(item?.TotalFrames?.N).toBe('15');
  expect(item?.ProcessedFrames?.N).toBe('15');

  // The MediaConvert endpoint lists and describes the job the ingress function created.
  const mediaConvert = new MediaConvertClient(adminConfig(cloud.endpoints.mediaconvert));
  const { Jobs = [] } = await mediaConvert.send(new ListJobsCommand({ Order: 'DESCENDING', MaxResults: 5 }));
  const job = Jobs.find((candidate) => candidate.Id === item?.MediaConvertJobId?.S);
  expect(job).toMatchObject({ Status: 'COMPLETE', UserMetadata: expect.objectContaining({ videoId: 'trips/day 1/drive.mp4' }) });
  expect(job?.CreatedAt).toBeInstanceOf(Date);
  const { Job } = await mediaConvert.send(new GetJobCommand({ Id: job!.Id }));
  expect(Job?.Settings?.OutputGroups?.[0]?.Outputs?.[0]?.VideoDescription?.CodecSettings?.Codec).toBe('FRAME_CAPTURE');
  expect(Job?.OutputGroupDetails?.[0]?.OutputDetails?.[0]?.VideoDetails).toEqual({ WidthInPx: 64, HeightInPx: 64 });
});

test('the MediaConvert endpoint refuses settings it cannot honour with BadRequest, and unknown jobs with NotFound', async () => {
  const mediaConvert = new MediaConvertClient({ ...adminConfig(cloud.endpoints.mediaconvert), maxAttempts: 1 });
  const frameCaptureOnly = {
    Role: 'arn:aws:iam::000000000000:role/frames-mediaconvert',
    Settings: {
      Inputs: [{ FileInput: `s3://${cloud.resources.ingressBucket}/x.mp4` }],
      OutputGroups: [
        {
          OutputGroupSettings: { Type: 'FILE_GROUP_SETTINGS' as const, FileGroupSettings: { Destination: `s3://${cloud.resources.framesBucket}/x/frame` } },
          Outputs: [
            {
              ContainerSettings: { Container: 'RAW' as const },
              VideoDescription: {
                CodecSettings: {
                  Codec: 'FRAME_CAPTURE' as const,
                  FrameCaptureSettings: { FramerateNumerator: 1, FramerateDenominator: 1, MaxCaptures: 10, Quality: 80 },
                },
              },
            },
          ],
        },
      ],
    },
  };
  await expect(mediaConvert.send(new CreateJobCommand(frameCaptureOnly))).rejects.toMatchObject({
    name: 'BadRequestException',
    message: expect.stringMatching(/only frame capture/),
  });
  const withDeinterlacer = structuredClone(frameCaptureOnly) as typeof frameCaptureOnly & { Settings: { Inputs: Array<Record<string, unknown>> } };
  withDeinterlacer.Settings.Inputs[0].DeblockFilter = 'ENABLED';
  await expect(mediaConvert.send(new CreateJobCommand(withDeinterlacer))).rejects.toMatchObject({
    name: 'BadRequestException',
    message: expect.stringMatching(/deblockFilter is not supported/),
  });
  await expect(mediaConvert.send(new GetJobCommand({ Id: '123-nope' }))).rejects.toMatchObject({ name: 'NotFoundException' });
});

test('frames run uses the running cloud and leaves it running', async () => {
  const video = join(scratch.path, 'attach.mp4');
  await rampVideo(video, { seconds: 1, rate: '30' });

  const result = await frames(['run', video, '--fps', '10', '--json', '--data-dir', dataDir]);

  expect(result.code).toBe(0);
  expect(result.reports[0]).toMatchObject({ videoId: 'attach.mp4', status: 'COMPLETE', totalFrames: 10 });
  expect(child.exitCode).toBeNull();
  expect(JSON.parse(readFileSync(join(dataDir, CLOUD_FILE), 'utf8'))).toMatchObject({ pid: cloud.pid, shared: true });
});

test('Ctrl-C stops the cloud and removes its registration', async () => {
  expect(existsSync(join(dataDir, CLOUD_FILE))).toBe(true);
  // What a terminal does on Ctrl-C: SIGINT to the whole foreground group, npx and frames alike.
  process.kill(-child.pid!, 'SIGINT');
  await new Promise((resolve) => child.once('exit', resolve));
  await localUp.stop();
  expect(() => process.kill(cloud.pid, 0)).toThrow();
  expect(existsSync(join(dataDir, CLOUD_FILE))).toBe(false);
});
