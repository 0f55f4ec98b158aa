import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { localClientConfig } from '../../local/cloud/connect';
import { LOCAL_ADMIN_KEY } from '../../local/iam/local-principals';
import { SCENES, failingProcessor, scenesVideo } from '../browser/support/report-fixture';
import { type RunningLocalUp, frames, scratchDirectory, startLocalUp } from './support/frames-cli';

/**
 * `frames run --report` and `frames report` as a person runs them: a generated video with two
 * scene cuts through a processor that fails every seventh frame from 3, on the local cloud and on
 * the same cloud reached as a deployed stack; then after its frames are gone.
 */
const scratch = scratchDirectory('report');
const dataDir = join(scratch.path, 'data');
const video = join(scratch.path, 'scenes.mp4');
let processor: string;

beforeAll(async () => {
  await scenesVideo(video);
  processor = failingProcessor(scratch.path);
});
afterAll(() => scratch.remove());

/** What makes a file self-contained: no address to fetch anything from, in any attribute. */
function expectSelfContained(html: string): void {
  expect(html).not.toMatch(/\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?\/\//i);
  expect(html).not.toMatch(/<link\b|@import|url\(\s*["']?https?:/i);
  expect(html).toContain(readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8').slice(0, 300));
}

function expectScenesReport(html: string, thumbnails: number): void {
  expectSelfContained(html);
  expect([...html.matchAll(/<img src="data:image\/jpeg;base64,[A-Za-z0-9+/=]+"/g)]).toHaveLength(thumbnails);
  for (const index of SCENES.failed) {
    // Listed with its error, and (with thumbnails) marked in the contact sheet.
    expect(html).toMatch(new RegExp(`<tr data-index="${index}"><td>${index}</td><td>[^<]+</td><td>RangeError: no detector output for frame ${index} \\(failed 3 of 3 attempts\\)</td></tr>`));
    if (thumbnails > 0) expect(html).toMatch(new RegExp(`<figure class="thumb[^"]*\\bfailed\\b[^"]*" id="frame-${index}"`));
  }
  expect(html).toContain(`<h2>Failed frames (${SCENES.failed.length})</h2>`);
  expect(html).toContain(`<h2>Scene cuts (${SCENES.cuts.length})</h2>`);
  for (const index of SCENES.cuts) {
    expect(html).toMatch(new RegExp(`<tr data-index="${index}"><td>${index}</td><td>0:0${index / 10}\\.000</td><td>\\d+ bits from frame ${index - 1}</td></tr>`));
    if (thumbnails > 0) expect(html).toMatch(new RegExp(`<figure class="thumb cut" id="frame-${index}"`));
  }
  const data = JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!);
  expect(data.chart.series.map((series: { key: string }) => series.key)).toEqual(['meanLuminance', 'sharpness', 'phash.distance']);
  expect(data.chart.frames).toHaveLength(SCENES.frames);
}

describe('a run with scene cuts and failed frames', () => {
  let reportPath: string;

  test('frames run --report writes the report beside the results and says where', async () => {
    const result = await frames(['run', video, '--fps', String(SCENES.fps), '--processor', processor, '--report', '--json', '--data-dir', dataDir]);
    expect(result.stderr).not.toMatch(/frames: |warning: /);
    expect(result.code).toBe(0);
    const [report] = result.reports as (typeof result.reports[number] & { report: string; reportBytes: number })[];
    expect(report).toMatchObject({ videoId: 'scenes.mp4', status: 'COMPLETE', totalFrames: SCENES.frames, failedFrames: SCENES.failed.length });
    reportPath = report.report;
    expect(reportPath).toBe(join(report.results!, '..', 'report.html'));
    expect(statSync(reportPath).size).toBe(report.reportBytes);
    expectScenesReport(readFileSync(reportPath, 'utf8'), SCENES.frames);
  });

  test('frames report writes the same from the job, with its path, size and counts; exit 2 and 3 as documented', async () => {
    const out = join(scratch.path, 'out', 'report.html');
    const result = await frames(['report', 'scenes.mp4', '--out', out, '--json', '--data-dir', dataDir]);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/frames: |warning: /);
    const written = JSON.parse(result.stdout);
    expect(written).toMatchObject({
      videoId: 'scenes.mp4',
      status: 'COMPLETE',
      report: out,
      bytes: statSync(out).size,
      frames: SCENES.frames,
      failedFrames: SCENES.failed.length,
      cuts: SCENES.cuts.length,
      thumbnails: { shown: SCENES.frames, missing: 0, leftOut: 0 },
      warnings: [],
    });
    expectScenesReport(readFileSync(out, 'utf8'), SCENES.frames);

    const text = await frames(['report', 'scenes.mp4', '--out', out, '--thumbnails', '10', '--data-dir', dataDir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^scenes\\.mp4: report written to ${out.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(\\d+\\.\\d KiB\\)\\n`));
    // 5 samples, then both sides of the 2 cuts, then failed frames, up to 10.
    expect([...readFileSync(out, 'utf8').matchAll(/<img src="data:/g)]).toHaveLength(10);

    expect((await frames(['report', 'no/such.mp4', '--data-dir', dataDir])).code).toBe(3);
    const usage = await frames(['report', 'scenes.mp4', '--thumbnails', 'many', '--data-dir', dataDir]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--thumbnails must be a whole number/);
  });

  test('frames watch on the finished run prints the command that makes its report', async () => {
    const result = await frames(['watch', 'scenes.mp4', '--data-dir', dataDir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`\n  report      npx frames report scenes.mp4 --data-dir ${dataDir}\n`);
  });

  describe('against a running cloud, locally and as a deployed stack', () => {
    let localUp: RunningLocalUp;
    let outputsFile: string;
    let deployedEnv: NodeJS.ProcessEnv;

    beforeAll(async () => {
      localUp = await startLocalUp(dataDir);
      const { cloud } = localUp;
      outputsFile = join(scratch.path, 'stack-outputs.json');
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
      // The standard credential chain and the SDK's endpoint variables: the deployed code path.
      deployedEnv = {
        AWS_PROFILE: '',
        AWS_CONFIG_FILE: join(scratch.path, 'no-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(scratch.path, 'no-credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ACCESS_KEY_ID: cloud.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: cloud.credentials.secretAccessKey,
        AWS_ENDPOINT_URL_S3: cloud.endpoints.s3,
        AWS_ENDPOINT_URL_DYNAMODB: cloud.endpoints.dynamodb,
      };
    });
    afterAll(() => localUp.stop());

    test("a deployed stack's report takes its thumbnails from the outputs' frames_bucket", async () => {
      const out = join(scratch.path, 'deployed.html');
      const result = await frames(['report', 'scenes.mp4', '--out', out, '--json', '--stack-outputs', outputsFile], { env: deployedEnv });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).thumbnails).toEqual({ shown: SCENES.frames, missing: 0, leftOut: 0 });
      expectScenesReport(readFileSync(out, 'utf8'), SCENES.frames);
    });

    test('after the frames expire: the charts and lists still, the thumbnails missing and why, and a warning', async () => {
      // The frames bucket's lifecycle deletes frames after framesRetentionDays; here they are deleted at once.
      // S3's own lifecycle expires frames: the local cloud's key stands in for it.
      const s3 = new S3Client(localClientConfig(localUp.cloud.endpoints.s3, LOCAL_ADMIN_KEY));
      const bucket = localUp.cloud.resources.framesBucket;
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'scenes.mp4' }));
      const frameKeys = (listed.Contents ?? []).map((object) => object.Key!).filter((key) => key.endsWith('.jpg'));
      expect(frameKeys.length).toBeGreaterThanOrEqual(SCENES.frames);
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: frameKeys.map((Key) => ({ Key })) } }));
      s3.destroy();

      const out = join(scratch.path, 'expired.html');
      const result = await frames(['report', 'scenes.mp4', '--out', out, '--data-dir', dataDir]);
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(
        new RegExp(`^warning: All ${SCENES.frames} thumbnails are missing: the frames are no longer in s3://${bucket}/scenes\\.mp4-[^ ]+/frames/\\. The frames bucket deletes frames 7 days after they are written \\(framesRetentionDays\\); this run's frames were written today\\.`),
      );
      expect(result.stdout).toContain(`thumbnails  0 shown, ${SCENES.frames} missing`);
      const html = readFileSync(out, 'utf8');
      expectScenesReport(html, 0);
      expect(html).toContain('No thumbnails: see the notes in the summary.');
      expect(html).toContain('thumbnails are missing: the frames are no longer in');
    });
  });
});

test('a FAILED run: frames run --report and frames report write its summary and error, and exit 1', async () => {
  const broken = join(scratch.path, 'broken.mp4');
  writeFileSync(broken, Buffer.from('this is not a video, whatever its name says'.repeat(100)));
  const run = await frames(['run', broken, '--report', '--data-dir', dataDir]);
  expect(run.code).toBe(1);
  const written = /^broken\.mp4: report written to (.+) \(\d+\.\d KiB\)$/m.exec(run.stdout);
  expect(written).not.toBeNull();
  const html = readFileSync(written![1]!, 'utf8');
  expectSelfContained(html);
  expect(html).toContain('<span class="status status-failed">FAILED</span>');
  expect(html).toContain('<strong>MEDIACONVERT_ERROR</strong>');
  expect(html).toContain('This run FAILED before it had results (MEDIACONVERT_ERROR)');

  const out = join(scratch.path, 'failed.html');
  const report = await frames(['report', 'broken.mp4', '--out', out, '--data-dir', dataDir]);
  expect(report.code).toBe(1);
  expect(report.stdout).toMatch(/\n {2}error {7}MEDIACONVERT_ERROR: /);
  expect(existsSync(out)).toBe(true);
});
