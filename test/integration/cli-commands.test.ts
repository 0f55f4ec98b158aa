import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalCloudDescription } from '../../local/cloud/cloud-description';
import { type RunningLocalUp, frames, rampVideo, readResults, scratchDirectory, startLocalUp, takeDenials } from './support/frames-cli';
import { LOCAL_ADMIN_KEY } from '../../local/iam/local-principals';

/**
 * Every command of the CLI against a running local cloud, twice: as the local cloud (--data-dir),
 * and as a deployed stack named by a `cdktf deploy --outputs-file` file, reached through the
 * standard credential chain with the SDK's AWS_ENDPOINT_URL_<SERVICE> variables pointing at the
 * local endpoints. The deployed path differs from a real deployment only in those endpoints and
 * credentials.
 */
const scratch = scratchDirectory('cli-commands');
const dataDir = join(scratch.path, 'data');
const outputsFile = join(scratch.path, 'stack-outputs.json');
let localUp: RunningLocalUp;
let cloud: LocalCloudDescription;
let deployedEnv: NodeJS.ProcessEnv;
const video = join(scratch.path, 'drive.mp4');

/** No credentials anywhere: the chain must not find a profile, keys or an instance role. */
const NO_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  AWS_SESSION_TOKEN: '',
  AWS_PROFILE: '',
  AWS_CONFIG_FILE: join(scratch.path, 'no-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(scratch.path, 'no-credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
};

beforeAll(async () => {
  localUp = await startLocalUp(dataDir);
  ({ cloud } = localUp);
  writeFileSync(
    outputsFile,
    JSON.stringify({
      'frames-pipeline': {
        region: cloud.region,
        pipeline_name: 'frames',
        ingress_bucket: cloud.resources.ingressBucket,
        frames_bucket: cloud.resources.framesBucket,
        egress_bucket: cloud.resources.egressBucket,
        job_table: cloud.resources.jobTable,
      },
    }),
  );
  deployedEnv = {
    ...NO_CREDENTIALS,
    AWS_ACCESS_KEY_ID: cloud.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: cloud.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_S3: cloud.endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: cloud.endpoints.dynamodb,
    AWS_ENDPOINT_URL_EVENTBRIDGE: cloud.endpoints.events,
  };
  await rampVideo(video, { seconds: 3, rate: '30' });
});

afterAll(async () => {
  await localUp.stop();
  scratch.remove();
});

const local = (...args: string[]) => frames([...args, '--data-dir', dataDir]);
const deployed = (...args: string[]) => frames([...args, '--stack-outputs', outputsFile], { env: deployedEnv });

describe.each([
  ['the local cloud', local, 'local.mp4'],
  ['a deployed stack (outputs file, credential chain)', deployed, 'deployed.mp4'],
])('against %s', (_name, run, key) => {
  test('upload prints the video id; watch follows it to COMPLETE; status, list and results agree with estimate', async () => {
    const upload = await run('upload', video, '--key', `trips/${key}`, '--fps', '5', '--json');
    expect(upload.code).toBe(0);
    expect(JSON.parse(upload.stdout)).toEqual({
      videoId: `trips/${key}`,
      bucket: cloud.resources.ingressBucket,
      key: `trips/${key}`,
      bytes: readFileSync(video).length,
      overrides: { fps: '5' },
    });
    expect(upload.stderr).toContain(`trips/${key}: uploaded`);

    const watch = await run('watch', `trips/${key}`, '--json');
    expect(watch.code).toBe(0);
    expect(watch.reports).toEqual([expect.objectContaining({ videoId: `trips/${key}`, status: 'COMPLETE', totalFrames: 15, processedFrames: 15 })]);

    const status = await run('status', `trips/${key}`, '--json');
    expect(status.code).toBe(0);
    expect(status.reports[0]).toEqual(watch.reports[0]);

    const listed = await run('list', '--json');
    expect(listed.code).toBe(0);
    expect(listed.reports.map((report) => report.videoId)).toContain(`trips/${key}`);

    const out = join(scratch.path, `results-${key}`);
    const results = await run('results', `trips/${key}`, '--out', out);
    expect(results.code).toBe(0);
    expect(results.stdout).toContain(join(out, 'results.jsonl'));
    expect(readResults(join(out, 'results.jsonl')).map((line) => line.index)).toEqual([...Array(15).keys()]);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toEqual(expect.objectContaining({ videoId: `trips/${key}`, frames: expect.objectContaining({ total: 15, processed: 15 }) }));

    // The estimate's frame count is the pipeline's.
    const estimate = await frames(['estimate', video, '--fps', '5', '--json']);
    expect(estimate.code).toBe(0);
    expect(JSON.parse(estimate.stdout).estimate.frames).toBe(15);
  });

  test('an unknown video id exits 3 with what a video id is, for status, watch and results', async () => {
    for (const command of ['status', 'results']) {
      const result = await run(command, 'no/such.mp4');
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/No job for video id "no\/such\.mp4" in .*The video id is the uploaded object's key/);
    }
    const watch = await run('watch', 'no/such.mp4', '--wait', '1');
    expect(watch.code).toBe(3);
    expect(watch.stderr).toContain('No job for video id "no/such.mp4"');
  });
});

test('list is newest first, filters by status and limits', async () => {
  // --max-captures 0 is refused before anything is uploaded: exit 2.
  const refused = await frames(['upload', video, '--key', 'bad.mp4', '--max-captures', '0', '--data-dir', dataDir]);
  expect(refused.code).toBe(2);

  const broken = join(scratch.path, 'broken.mp4');
  writeFileSync(broken, 'not a video at all');
  expect((await local('upload', broken)).code).toBe(0);
  expect((await local('watch', 'broken.mp4')).code).toBe(1);

  const all = await local('list', '--json');
  const created = all.reports.map((report) => report.createdAt!);
  expect(created).toEqual([...created].sort().reverse());
  expect(all.reports[0]).toEqual(expect.objectContaining({ videoId: 'broken.mp4', status: 'FAILED' }));

  const failed = await local('list', '--status', 'failed', '--json');
  expect(failed.reports.map((report) => report.videoId)).toEqual(['broken.mp4']);
  expect((await local('list', '--limit', '1', '--json')).reports).toHaveLength(1);

  const text = await local('list');
  expect(text.stdout.split('\n')[0]).toMatch(/^CREATED\s+STATUS\s+FRAMES\s+VIDEO ID\s+ERROR$/);
  expect(text.stdout).toMatch(/FAILED\s+broken\.mp4\s+\w+/);

  const results = await local('results', 'broken.mp4');
  expect(results.code).toBe(1);
  expect(results.stderr).toContain('broken.mp4 FAILED, so it has no results');
});

test('a deployed stack without credentials, or that is not there, exits 3 saying what to do', async () => {
  const noCredentials = await frames(['status', 'trips/deployed.mp4', '--stack-outputs', outputsFile], {
    env: { ...NO_CREDENTIALS, AWS_ENDPOINT_URL_DYNAMODB: cloud.endpoints.dynamodb },
  });
  expect(noCredentials.code).toBe(3);
  expect(noCredentials.stderr).toContain('No AWS credentials found');

  const gone = join(scratch.path, 'gone.json');
  writeFileSync(gone, readFileSync(outputsFile, 'utf8').replace(cloud.resources.jobTable, 'destroyed-jobs'));
  // Someone whose identity may read any table (an account administrator): the table is not there.
  const asAdministrator = { ...deployedEnv, AWS_ACCESS_KEY_ID: LOCAL_ADMIN_KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_ADMIN_KEY.secretAccessKey };
  const missing = await frames(['list', '--stack-outputs', gone], { env: asAdministrator });
  expect(missing.code).toBe(3);
  expect(missing.stderr).toMatch(/Stack not found: .*names job table destroyed-jobs/);
  // The CLI user holds only its own stack's policy: another table is refused, as IAM refuses it, and said so.
  const refused = await frames(['list', '--stack-outputs', gone], { env: deployedEnv });
  expect(refused.code).toBe(3);
  expect(refused.stderr).toMatch(/may not do this \(AccessDeniedException: User: .*frames-cli is not authorized to perform: dynamodb:Query.*\). Attach the stack's CLI policy/);
  expect(takeDenials(scratch.path).map(({ principal, action }) => `${principal} ${action}`)).toEqual(
    expect.arrayContaining(['cli dynamodb:Query']),
  );

  const noFile = await frames(['status', 'x.mp4', '--stack-outputs', join(scratch.path, 'nowhere.json')]);
  expect(noFile.code).toBe(2);
  expect(noFile.stderr).toContain('Write it with: cdktf deploy --outputs-file');
});

test('FRAMES_STACK_OUTPUTS and ./stack-outputs.json find the stack; --local overrides them', async () => {
  const viaEnv = await frames(['status', 'trips/deployed.mp4', '--json'], { env: { ...deployedEnv, FRAMES_STACK_OUTPUTS: outputsFile } });
  expect(viaEnv.code).toBe(0);
  const viaFile = await frames(['status', 'trips/deployed.mp4', '--json'], { env: deployedEnv, cwd: scratch.path });
  expect(viaFile.code).toBe(0);
  expect(viaFile.reports[0].status).toBe('COMPLETE');
  // --local reads the local table on an empty data directory: no such job there.
  const forcedLocal = await frames(['status', 'trips/deployed.mp4', '--local', '--data-dir', join(scratch.path, 'empty')], { env: deployedEnv, cwd: scratch.path });
  expect(forcedLocal.code).toBe(3);
  expect(forcedLocal.stderr).toContain('the local job table in');
});

test('upload needs a running local cloud, and says how to start one', async () => {
  const result = await frames(['upload', video, '--data-dir', join(scratch.path, 'idle')]);
  expect(result.code).toBe(3);
  expect(result.stderr).toContain('No local cloud is running on');
  expect(result.stderr).toContain('frames local up');
});

test('estimate refuses what it cannot estimate, and prices with a table given by --prices', async () => {
  const noise = join(scratch.path, 'noise.mp4');
  writeFileSync(noise, Buffer.alloc(4096, 7));
  const notVideo = await frames(['estimate', noise]);
  expect(notVideo.code).toBe(2);
  expect(notVideo.stderr).toContain('is not a video ffmpeg can read');

  const unknownRegion = await frames(['estimate', video, '--region', 'mars-north-1']);
  expect(unknownRegion.code).toBe(2);
  expect(unknownRegion.stderr).toContain('no prices for mars-north-1');

  // A table of one's own: MediaConvert at ten times the price, the rest as in the repository's.
  const table = JSON.parse(readFileSync(join(__dirname, '../../cli/estimate/aws-prices.json'), 'utf8'));
  const mine = table.regions['us-east-1'];
  const base = JSON.parse((await frames(['estimate', video, '--fps', '5', '--ms-per-frame', '10', '--json'])).stdout);
  for (const rates of Object.values(mine.mediaconvert.perOutputMinute) as Record<string, number>[]) {
    for (const name of Object.keys(rates)) rates[name] *= 10;
  }
  const pricesFile = join(scratch.path, 'prices.json');
  writeFileSync(pricesFile, JSON.stringify({ ...table, asOf: '2027-01-01', regions: { 'eu-north-1': mine } }));
  const priced = await frames(['estimate', video, '--fps', '5', '--ms-per-frame', '10', '--region', 'eu-north-1', '--prices', pricesFile, '--json']);
  expect(priced.code).toBe(0);
  const result = JSON.parse(priced.stdout);
  expect(result.prices).toEqual(expect.objectContaining({ asOf: '2027-01-01', file: pricesFile }));
  expect(result.measured.processorMs).toBe(10);
  // The low end prices every output at the Basic rates this table multiplies by ten.
  expect(result.estimate.mediaConvert.usd.low).toBeCloseTo(base.estimate.mediaConvert.usd.low * 10, 10);

  const text = await frames(['estimate', video, '--fps', '5']);
  expect(text.stdout).toMatch(/frames\s+15 JPEGs/);
  expect(text.stdout).toMatch(/total\s+\$\d+\.\d{4}/);
  expect(text.stdout).toContain('prices of');
});
