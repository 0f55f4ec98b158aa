import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { parseProbe } from '../../local/ffmpeg';
import { scratchDirectory } from './support/frames-cli';
import { type CreateJobResult, type JobStateEvent, type MediaEndpoint, OUTPUT_BUCKET, startMediaEndpoint } from './support/media-endpoint';
import {
  BUNDLED_FFMPEG,
  MATRIX,
  type MatrixFile,
  type SourceFrames,
  durationMsOf,
  expectedCaptures,
  ffmpegBuilds,
  makeBusyVideo,
  makeMediaMatrix,
  sourceFrames,
  sourceIndexOf,
} from './support/media-matrix';

/**
 * The media matrix through the local MediaConvert endpoint (its REST API, the real SDK, the local
 * S3 store), with the pipeline's own job template, on every ffmpeg build present: the one `npm ci`
 * installs (always) and the system's (/usr/bin/ffmpeg, when there). Each build is pinned with
 * FRAMES_FFMPEG, as a person would. Every capture's pixels are checked against the source frame on
 * screen at its timestamp; the matrix (file, rate, expected, got, wrong frames) is printed per build.
 */
const scratch = scratchDirectory('media-matrix');
const at = (name: string) => join(scratch.path, name);
const BUSY = 'busy.mp4';
const BUSY_SECONDS = 4;
/** The job template's proxy cap (job-templates/frame-capture.json). */
const PROXY_MAX_BITRATE = 400_000;
const sources = new Map<string, SourceFrames>();
const printed: string[] = [];

beforeAll(async () => {
  await Promise.all([makeMediaMatrix(scratch.path), makeBusyVideo(at(BUSY), BUSY_SECONDS)]);
  for (const file of MATRIX) sources.set(file.name, await sourceFrames(at(file.name)));
});
afterAll(() => {
  scratch.remove();
  // The matrix, where the test log shows it.
  process.stdout.write(`${printed.join('\n')}\n`);
});

const rateText = ([n, d]: readonly [number, number]) => (d === 1 ? String(n) : `${n}/${d}`);
const cases = MATRIX.flatMap((file) => file.rates.map((rate) => ({ file, rate, id: `${file.name.replace(/\W/g, '-')}-${rate.join('-')}` })));

interface Outcome {
  readonly event: JobStateEvent;
  /** Each capture's source frame index, from its brightness; and its size. */
  readonly captures: ReadonlyArray<{ key: string; index: number; width: number; height: number }>;
  readonly proxy?: { readonly bytes: number; readonly hasAudio: boolean };
}

async function outcomeOf(endpoint: MediaEndpoint, job: CreateJobResult, prefix: string, file: Pick<MatrixFile, 'step'>): Promise<Outcome> {
  const event = await endpoint.finished(job.id);
  const frames = await endpoint.objects(`${prefix}/frames/`);
  const captures = await Promise.all(
    frames.map(async ({ key, body }) => {
      const image = sharp(body);
      const [{ channels }, { width, height }] = await Promise.all([image.stats(), image.metadata()]);
      return { key, index: sourceIndexOf(channels[0].mean, file.step), width: width!, height: height! };
    }),
  );
  const [proxy] = await endpoint.objects(`${prefix}/proxy/`);
  if (!proxy) return { event, captures };
  const probePath = at(`${prefix}-proxy.mp4`);
  writeFileSync(probePath, proxy.body);
  const probe = parseProbe(spawnSync(BUNDLED_FFMPEG.path, ['-hide_banner', '-i', probePath], { encoding: 'utf8' }).stderr);
  return { event, captures, proxy: { bytes: proxy.body.length, hasAudio: probe?.hasAudio ?? true } };
}

describe.each(ffmpegBuilds())('with the $name ffmpeg ($path)', (build) => {
  let endpoint: MediaEndpoint;
  const jobs = new Map<string, CreateJobResult>();
  const rows: string[] = [];

  beforeAll(async () => {
    process.env.FRAMES_FFMPEG = build.path;
    endpoint = await startMediaEndpoint({ maxConcurrentJobs: 2 });
    // Every job submitted at once: the endpoint runs two at a time, each test awaits its own.
    for (const { file, rate, id } of cases) {
      const uri = await endpoint.upload(at(file.name), `${id}/${file.name}`);
      jobs.set(id, await endpoint.submitCapture(uri, { fps: { numerator: rate[0], denominator: rate[1] } }, id));
    }
    const busy = await endpoint.upload(at(BUSY), `busy/${BUSY}`);
    jobs.set('busy', await endpoint.submitCapture(busy, { fps: { numerator: 1, denominator: 1 } }, 'busy'));
  });
  afterAll(async () => {
    delete process.env.FRAMES_FFMPEG;
    await endpoint?.stop();
    printed.push(
      `media matrix, ${build.name} ffmpeg (${build.path}):`,
      'file\trate\texpected\tgot\twrong frames\tdurationInMs expected / got\tproxy audio',
      ...rows,
    );
  });

  test.each(cases)('$file.name at $rate.0/$rate.1 fps', async ({ file, rate, id }) => {
    const { event, captures, proxy } = await outcomeOf(endpoint, jobs.get(id)!, id, file);
    const source = sources.get(file.name)!;
    const expected = expectedCaptures(source, rate);
    const wrong = captures.filter((capture, k) => capture.index !== expected[k]).length;
    const complete = event.detail.status === 'COMPLETE';
    const got = complete ? `${captures.length} (${captures[0]?.width}x${captures[0]?.height})` : `${event.detail.status} ${event.detail.errorCode}`;
    const reportedMs = complete ? event.detail.outputGroupDetails![0].outputDetails[0].durationInMs : '-';
    rows.push(
      [
        file.name,
        rateText(rate),
        file.refused ? 'ERROR 1010' : expected.length,
        got,
        file.refused ? '-' : wrong,
        `${file.refused ? '-' : Math.round(durationMsOf(source))} / ${reportedMs}`,
        proxy ? (proxy.hasAudio ? 'audio' : 'none') : '-',
      ].join('\t'),
    );

    if (file.refused) {
      // MediaConvert does not take it: an ERROR saying why, as for other unreadable inputs.
      expect(event.detail).toMatchObject({ status: 'ERROR', errorCode: 1010, errorMessage: expect.stringMatching(file.refused) });
      expect(captures).toEqual([]);
      return;
    }
    expect(event.detail.status).toBe('COMPLETE');
    // Exactly the documented captures, named from 0, each the source frame on screen at k·D/N.
    expect(captures.map((capture) => capture.key)).toEqual(expected.map((_, k) => `${id}/frames/frame.${String(k).padStart(7, '0')}.jpg`));
    expect({ wrong, indices: captures.map((capture) => capture.index) }).toEqual({ wrong: 0, indices: expected });
    expect(captures.every((capture) => capture.width === file.shown.width && capture.height === file.shown.height)).toBe(true);
    // The frames output first (the template's order), its last capture named, the video's own duration.
    const [framesDetail] = event.detail.outputGroupDetails![0].outputDetails;
    expect(framesDetail).toEqual({
      outputFilePaths: [`s3://${OUTPUT_BUCKET}/${captures.at(-1)!.key}`],
      durationInMs: Math.round(durationMsOf(source)),
      videoDetails: { widthInPx: file.shown.width, heightInPx: file.shown.height },
    });
    // The proxy has no AudioDescriptions, so no audio.
    expect(proxy).toMatchObject({ hasAudio: false });
  });

  test('the proxy of a busy video stays under its MaxBitrate and has no audio', async () => {
    const { event, proxy } = await outcomeOf(endpoint, jobs.get('busy')!, 'busy', { step: 3 });
    expect(event.detail.status).toBe('COMPLETE');
    const [, [proxyDetail]] = event.detail.outputGroupDetails!.map((group) => group.outputDetails);
    const bitsPerSecond = Math.round((proxy!.bytes * 8) / BUSY_SECONDS);
    rows.push(
      [`${BUSY} proxy`, '1', `<= ${PROXY_MAX_BITRATE / 1000} kb/s`, `${Math.round(bitsPerSecond / 1000)} kb/s`, '-', `${BUSY_SECONDS * 1000} / ${proxyDetail.durationInMs}`, proxy!.hasAudio ? 'audio' : 'none'].join('\t'),
    );
    expect(proxyDetail.durationInMs).toBe(BUSY_SECONDS * 1000);
    expect(proxy!.hasAudio).toBe(false);
    // The whole file, container included, within the cap.
    expect(bitsPerSecond).toBeLessThanOrEqual(PROXY_MAX_BITRATE);
    expect(statSync(at(BUSY)).size * 8 / BUSY_SECONDS).toBeGreaterThan(2 * PROXY_MAX_BITRATE);
  });
});
