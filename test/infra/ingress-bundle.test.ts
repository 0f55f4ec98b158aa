import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type FunctionBundle, bundleFunction } from '../../pipeline/bundle';
import { FUNCTIONS } from '../../pipeline/definition';
import { objectCreatedEvent } from '../support/events';
import { type LocalDynamo, startLocalDynamo } from '../support/dynalite';
import { HttpStub, type StubResponse } from '../support/http-stub';

const run = promisify(execFile);

/**
 * The size the deployed ingress bundle must stay under (issue "Cloud stack and ingress": 600 KB).
 * Raised by 40 KB for issue 19: the ingress function finishes runs it rejects, so it announces
 * them with the EventBridge client (16 KB minified), which took the bundle to 620 KB. Every other
 * byte is still the SDK clients it calls; a bundle that grows past this needs a reason here too.
 * Raised to 860 KB for issue 20: the ingress reads the video's MP4/MOV header to plan segments,
 * with GPAC's parser, mp4box (about 190 KB minified: its box parsers; its "simple" build lacks
 * stts and elst, the two boxes the plan needs). Loaded once per cold start of a function that
 * runs once per video.
 */
const INGRESS_BUNDLE_BUDGET_BYTES = 860 * 1000;

let bundle: FunctionBundle;
beforeAll(() => {
  bundle = bundleFunction(FUNCTIONS.ingress.entry, join(mkdtempSync(join(tmpdir(), 'frames-bundle-')), 'ingress'));
});

it(`keeps the ingress bundle under ${INGRESS_BUNDLE_BUDGET_BYTES / 1000} KB minified`, () => {
  expect(bundle.bytes).toBeLessThan(INGRESS_BUNDLE_BUDGET_BYTES);
});

describe('the deployed bundle, run as Lambda runs it', () => {
  let dynamo: LocalDynamo;
  let s3: HttpStub;
  let mediaConvert: HttpStub;
  let endpoints: { s3: string; mediaConvert: string };

  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    await dynamo.createJobTable('jobs');
    s3 = new HttpStub((request): StubResponse =>
      request.method === 'GET'
        ? // The header probe's ranged read: not an MP4, so the plan is one job.
          { status: 206, headers: { 'content-length': '16', etag: '"etag-1"' }, body: Buffer.from('not an mp4 file!') }
        : { status: 200, headers: { 'content-length': '4096', etag: '"etag-1"', 'x-amz-meta-fps': '5' } },
    );
    mediaConvert = new HttpStub(() => ({ status: 201, body: { job: { id: 'job-42', role: 'r', settings: {} } } }));
    endpoints = { s3: await s3.start(), mediaConvert: await mediaConvert.start() };
  });
  afterAll(async () => {
    await Promise.all([dynamo.stop(), s3.stop(), mediaConvert.stop()]);
  });

  it('submits a job and records it, signing every call with the environment credentials', async () => {
    // Only endpoints and credentials differ from Lambda: the handler does not know where it runs.
    const env = {
      PATH: process.env.PATH,
      AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'AKIDBUNDLETEST',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'session',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: endpoints.s3,
      AWS_ENDPOINT_URL_MEDIACONVERT: endpoints.mediaConvert,
      JOB_TABLE_NAME: 'jobs',
      FRAMES_BUCKET_NAME: 'frames-bucket',
      INGRESS_BUCKET_NAME: 'ingress-bucket',
      MEDIACONVERT_ROLE_ARN: 'arn:aws:iam::111122223333:role/mc',
      PIPELINE_NAME: 'frames',
      DEFAULT_CAPTURE_FPS: '1',
      DEFAULT_CAPTURE_QUALITY: '80',
      DEFAULT_MAX_CAPTURES: '1000',
      FRAMES_PER_MESSAGE: '100',
      MAX_SEGMENTS: '10',
      MIN_SEGMENT_SECONDS: '30',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    };
    const invoke = `require(${JSON.stringify(join(bundle.directory, 'index.js'))})
      .handler(JSON.parse(process.argv[1]))
      .then((result) => process.stdout.write(JSON.stringify(result)), (error) => { console.error(error); process.exit(1); });`;
    const event = objectCreatedEvent({ key: 'trip+one.mp4', etag: 'etag-1' });

    const { stdout } = await run(process.execPath, ['-e', invoke, JSON.stringify(event)], { env });

    expect(JSON.parse(stdout)).toEqual([expect.objectContaining({ outcome: 'submitted', videoId: 'trip one.mp4', jobId: 'job-42' })]);
    const record = await dynamo.documents.send(
      new (await import('@aws-sdk/lib-dynamodb')).GetCommand({ TableName: 'jobs', Key: { VideoId: 'trip one.mp4' } }),
    );
    expect(record.Item).toMatchObject({ Status: 'SUBMITTED', MediaConvertJobId: 'job-42', FpsNumerator: 5 });
    expect(s3.requests[0]).toMatchObject({ method: 'HEAD', url: '/ingress-bucket/trip%20one.mp4' });
    expect(s3.requests[1]).toMatchObject({ method: 'GET', url: expect.stringMatching(/^\/ingress-bucket\/trip%20one\.mp4/) });
    expect(s3.requests[1].headers).toMatchObject({ range: 'bytes=0-4095', 'if-match': '"etag-1"' });
    expect(record.Item).toMatchObject({ ExtractionPlan: 'one job: not an MP4/MOV file (it does not start with an ISO box)' });
    expect(JSON.parse(mediaConvert.requests[0].body).settings.inputs[0].fileInput).toBe('s3://ingress-bucket/trip one.mp4');
    for (const request of [...s3.requests, ...mediaConvert.requests]) {
      expect(request.headers.authorization).toContain('Credential=AKIDBUNDLETEST/');
      expect(request.headers['x-amz-security-token']).toBe('session');
    }
  });

  it('fails its cold start naming the missing setting', async () => {
    const attempt = run(process.execPath, ['-e', `require(${JSON.stringify(join(bundle.directory, 'index.js'))})`], {
      env: { PATH: process.env.PATH },
    });
    await expect(attempt).rejects.toMatchObject({ stderr: expect.stringContaining('Environment variable JOB_TABLE_NAME is not set') });
  });
});
