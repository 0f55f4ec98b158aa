import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { runFfmpeg } from '../../local/ffmpeg';
import { ERROR_CODE } from '../../pipeline/job-record';
import { type RunningLocalUp, frames, rampVideo, scratchDirectory, startLocalUp } from '../integration/support/frames-cli';
import { expectCompleteAndExact, expectNothingRunning } from './support/run-integrity';

/**
 * Bad inputs, uploaded the way anyone can upload them (the S3 API, with any key and any metadata,
 * which `frames upload` would have refused), all at once into one `frames local up` cloud, next to
 * good videos with awkward keys. Each bad one must end FAILED with a stable code and a message a
 * person can act on, `frames watch` must exit non-zero for it, the good ones must complete with
 * exact counts, and nothing may be left running.
 */
const scratch = scratchDirectory('bad-inputs');
const dataDir = join(scratch.path, 'data');
let localUp: RunningLocalUp;
let s3: S3Client;
const upload = (key: string, body: Buffer, metadata: Record<string, string> = {}) =>
  s3.send(new PutObjectCommand({ Bucket: localUp.cloud.resources.ingressBucket, Key: key, Body: body, Metadata: metadata }));

interface BadInput {
  readonly key: string;
  readonly body: () => Buffer;
  readonly metadata?: Record<string, string>;
  readonly code: string;
  readonly message: RegExp;
}

let ramp: Buffer;
let audioOnly: Buffer;
let stillImage: Buffer;

beforeAll(async () => {
  const path = (name: string) => join(scratch.path, name);
  await Promise.all([
    rampVideo(path('ramp.mp4'), { seconds: 1, rate: '30' }),
    runFfmpeg(['-f', 'lavfi', '-i', 'sine=d=1', '-c:a', 'aac', path('audio.m4a')]),
    runFfmpeg(['-f', 'lavfi', '-i', 'testsrc=s=64x64', '-frames:v', '1', path('still.png')]),
  ]);
  [ramp, audioOnly, stillImage] = ['ramp.mp4', 'audio.m4a', 'still.png'].map((name) => readFileSync(path(name)));
  localUp = await startLocalUp(dataDir);
  const { cloud } = localUp;
  s3 = new S3Client({ endpoint: cloud.endpoints.s3, region: cloud.region, credentials: cloud.credentials, forcePathStyle: true });
});

afterAll(async () => {
  s3?.destroy();
  await localUp?.stop();
  scratch.remove();
});

const UNREADABLE = { code: ERROR_CODE.mediaConvertError, message: /error 1010: Unable to open input file.*upload it again/ };

const BAD_INPUTS: readonly BadInput[] = [
  { key: 'empty.mp4', body: () => Buffer.alloc(0), code: ERROR_CODE.emptyObject, message: /is empty \(0 bytes\); upload the complete video file/ },
  { key: 'noise.mp4', body: () => randomBytes(64 * 1024), ...UNREADABLE },
  // Written without faststart, as cameras do: the index (moov) is at the end, so half a file has none.
  { key: 'truncated.mp4', body: () => ramp.subarray(0, ramp.length / 2), ...UNREADABLE, message: /moov atom not found.*upload it again/ },
  { key: 'audio-only.mp4', body: () => audioOnly, ...UNREADABLE, message: /no video track \(it is audio only\)/ },
  { key: 'still-image.mp4', body: () => stillImage, ...UNREADABLE, message: /still image \(png_pipe\), not a video/ },
  { key: '.mp4', body: () => ramp, code: ERROR_CODE.invalidKey, message: /has no file name before its extension; rename it/ },
  { key: 'fps-zero.mp4', body: () => ramp, metadata: { fps: '0' }, code: ERROR_CODE.invalidOverride, message: /fps.*"0"/ },
  { key: 'fps-divide-by-zero.mp4', body: () => ramp, metadata: { fps: '30/0' }, code: ERROR_CODE.invalidOverride, message: /fps.*"30\/0"/ },
  { key: 'quality-101.mp4', body: () => ramp, metadata: { quality: '101' }, code: ERROR_CODE.invalidOverride, message: /quality.*101/ },
  { key: 'max-captures-negative.mp4', body: () => ramp, metadata: { 'max-captures': '-1' }, code: ERROR_CODE.invalidOverride, message: /max-captures.*-1/ },
  { key: 'fps-words.mp4', body: () => ramp, metadata: { fps: 'fast' }, code: ERROR_CODE.invalidOverride, message: /fps.*"fast"/ },
  {
    key: 'every-override-wrong.mp4',
    body: () => ramp,
    metadata: { fps: '-5', quality: 'high', 'max-captures': '0' },
    code: ERROR_CODE.invalidOverride,
    // Every problem at once, so a person fixes them in one go.
    message: /fps.*quality.*max-captures.*Fix the object metadata and upload the video again/,
  },
];

/** Valid keys S3 encodes in its events in ways that trip naive decoding; each is the video id. */
const AWKWARD_KEYS = [
  'with space.mp4',
  'plus+sign.mp4',
  '100% real.mp4',
  `quote's "double".mp4`,
  'vidéo 日本語 🎥.mp4',
  'root-level.mp4',
  'trips/2026-11-21/day 1/front+rear.mp4',
];

/** `frames watch`: the CLI a person would use, with its exit code. */
async function watch(videoId: string) {
  const result = await frames(['watch', videoId, '--json', '--data-dir', dataDir]);
  expect(result.reports).toHaveLength(1);
  return { code: result.code, report: result.reports[0] };
}

/** `frames results`: downloads a COMPLETE run's results.jsonl; the report names where. */
let downloads = 0;
async function fetchResults(videoId: string) {
  const result = await frames(['results', videoId, '--json', '--out', join(scratch.path, `results-${downloads++}`), '--data-dir', dataDir]);
  expect({ videoId, code: result.code }).toEqual({ videoId, code: 0 });
  return result.reports[0];
}

test('bad inputs fail with stable codes and clear messages; awkward keys and a double upload still complete exactly', async () => {
  const twice = 'uploaded-twice.mp4';
  await Promise.all([
    ...BAD_INPUTS.map((input) => upload(input.key, input.body(), input.metadata)),
    ...AWKWARD_KEYS.map((key) => upload(key, ramp, { fps: '10' })),
    // The same file twice within a second: the later upload is the one that counts.
    upload(twice, ramp, { fps: '5' }).then(() => upload(twice, ramp, { fps: '10' })),
  ]);

  const outcomes: string[] = [];
  for (const input of BAD_INPUTS) {
    const { code, report } = await watch(input.key);
    outcomes.push(`${input.key}: ${report.status} ${report.error?.code}`);
    expect({ key: input.key, code, status: report.status, error: report.error?.code }).toEqual({
      key: input.key,
      code: 1,
      status: 'FAILED',
      error: input.code,
    });
    expect(report.error!.message).toMatch(input.message);
  }
  for (const key of AWKWARD_KEYS) {
    const { code, report } = await watch(key);
    expect({ key, code, videoId: report.videoId }).toEqual({ key, code: 0, videoId: key });
    expectCompleteAndExact(await fetchResults(key), 10);
  }
  const { code, report } = await watch(twice);
  expect(code).toBe(0);
  expect(report.fps).toBe('10/1');
  expectCompleteAndExact(await fetchResults(twice), 10);

  const listed = await expectNothingRunning(dataDir);
  expect(listed).toHaveLength(BAD_INPUTS.length + AWKWARD_KEYS.length + 1);
  process.stdout.write(`bad inputs tried: ${BAD_INPUTS.length} (+ ${AWKWARD_KEYS.length} awkward keys and a double upload that complete)\n${outcomes.join('\n')}\n`);
});
