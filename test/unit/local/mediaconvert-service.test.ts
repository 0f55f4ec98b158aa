import { join } from 'node:path';
import { GetJobCommand } from '@aws-sdk/client-mediaconvert';
import { frameCaptureSettings } from '../../../functions/ingress/submit-job';
import { runFfmpeg } from '../../../local/ffmpeg';
import { scratchDirectory } from '../../integration/support/frames-cli';
import { type JobStateEvent, type MediaEndpoint, OUTPUT_BUCKET, startMediaEndpoint } from '../../integration/support/media-endpoint';
import { BUNDLED_FFMPEG } from '../../integration/support/media-matrix';

/**
 * The local MediaConvert endpoint answers as MediaConvert: the job's lifecycle, its outputs'
 * order, its StatusUpdateInterval. Real jobs (the bundled ffmpeg, pinned) on small clips, through
 * the REST API with the real SDK.
 */
jest.setTimeout(60_000);

/** How long SECONDS_10 lasts here (the service option local mode sets to 2 s). */
const SECONDS_10_MS = 20;
const scratch = scratchDirectory('mediaconvert-service');
let endpoint: MediaEndpoint;
let clip: string;
const previousFfmpeg = process.env.FRAMES_FFMPEG;

beforeAll(async () => {
  process.env.FRAMES_FFMPEG = BUNDLED_FFMPEG.path;
  const path = join(scratch.path, 'clip.mp4');
  // 3 s of 160x90 at 30 fps: a job of half a second or more, long enough for a few status updates.
  await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=30:duration=3', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', path]);
  endpoint = await startMediaEndpoint({ statusUpdateIntervalMs: SECONDS_10_MS });
  clip = await endpoint.upload(path, 'clip.mp4');
});
afterAll(async () => {
  await endpoint?.stop();
  scratch.remove();
  if (previousFfmpeg === undefined) delete process.env.FRAMES_FFMPEG;
  else process.env.FRAMES_FFMPEG = previousFfmpeg;
});

const settings = (prefix: string) => frameCaptureSettings([clip], { fps: { numerator: 30, denominator: 1 }, quality: 80, maxCaptures: 1000 }, OUTPUT_BUCKET, `${prefix}/frames/`, `${prefix}/proxy/`);
const statuses = (events: readonly JobStateEvent[]) => events.map((event) => event.detail.status);
const at = (event: JobStateEvent) => (event.detail as unknown as { timestamp: number }).timestamp;

test('CreateJob answers with the job SUBMITTED; it then moves to PROGRESSING and COMPLETE', async () => {
  const job = await endpoint.createJob({ Settings: settings('lifecycle') });
  expect(job.status).toBe('SUBMITTED');
  const final = await endpoint.finished(job.id);
  expect(final.detail.status).toBe('COMPLETE');
  const seen = statuses(endpoint.eventsOf(job.id)).filter((status) => status !== 'STATUS_UPDATE');
  // MediaConvert sends no SUBMITTED event.
  expect(seen).toEqual(['PROGRESSING', 'COMPLETE']);
  const { Job } = await endpoint.client.send(new GetJobCommand({ Id: job.id }));
  expect(Job?.Status).toBe('COMPLETE');
});

test("outputGroupDetails follow the groups' order, and outputDetails each group's outputs' order", async () => {
  const base = settings('order');
  const [frames, proxy] = base.OutputGroups!;
  // One group holding the proxy, then the frame capture.
  const oneGroup = { ...base, OutputGroups: [{ ...proxy, Outputs: [proxy.Outputs![0], frames.Outputs![0]] }] };
  const job = await endpoint.createJob({ Settings: oneGroup });
  const final = await endpoint.finished(job.id);
  expect(final.detail.status).toBe('COMPLETE');
  const [group] = final.detail.outputGroupDetails!;
  expect(group.outputDetails.map((detail) => detail.outputFilePaths[0])).toEqual([
    `s3://${OUTPUT_BUCKET}/order/proxy/proxy.mp4`,
    `s3://${OUTPUT_BUCKET}/order/proxy/proxy.0000089.jpg`,
  ]);

  // Two groups, the proxy's first.
  const swapped = await endpoint.createJob({ Settings: { ...base, OutputGroups: [proxy, frames] } });
  const details = (await endpoint.finished(swapped.id)).detail.outputGroupDetails!;
  expect(details.map((each) => each.outputDetails[0].outputFilePaths[0])).toEqual([
    `s3://${OUTPUT_BUCKET}/order/proxy/proxy.mp4`,
    `s3://${OUTPUT_BUCKET}/order/frames/frame.0000089.jpg`,
  ]);
});

describe('StatusUpdateInterval', () => {
  /** The STATUS_UPDATE events of a finished job, as ms after its PROGRESSING event, and its length. */
  async function updatesOf(interval: 'SECONDS_10' | 'SECONDS_20' | 'SECONDS_600', prefix: string) {
    const job = await endpoint.createJob({ Settings: settings(prefix), StatusUpdateInterval: interval });
    expect(job.statusUpdateInterval).toBe(interval);
    await endpoint.finished(job.id);
    const events = endpoint.eventsOf(job.id);
    const start = at(events.find((event) => event.detail.status === 'PROGRESSING')!);
    return {
      updates: events.filter((event) => event.detail.status === 'STATUS_UPDATE').map((event) => at(event) - start),
      lastedMs: at(events.at(-1)!) - start,
      reported: (await endpoint.client.send(new GetJobCommand({ Id: job.id }))).Job?.StatusUpdateInterval,
    };
  }

  test.each([
    ['SECONDS_10', 1],
    ['SECONDS_20', 2],
    ['SECONDS_600', 60],
  ] as const)("is the job's own: %s sends a STATUS_UPDATE every %d × the local SECONDS_10, from PROGRESSING on", async (interval, tens) => {
    const { updates, lastedMs, reported } = await updatesOf(interval, `every-${tens}`);
    expect(reported).toBe(interval);
    const every = tens * SECONDS_10_MS;
    // One per interval while the job runs: timers fire late, never early, and the last one may be
    // cut short by the job's end. (A job takes a few hundred ms: SECONDS_600 usually sends none.)
    updates.forEach((ms, i) => expect(ms - (i === 0 ? 0 : updates[i - 1])).toBeGreaterThanOrEqual(every - 2));
    expect(updates.length).toBeLessThanOrEqual(Math.floor(lastedMs / every));
    if (interval === 'SECONDS_10') expect(updates.length).toBeGreaterThanOrEqual(1);
  });

  test('a value MediaConvert does not take is a BadRequestException', async () => {
    await expect(endpoint.createJob({ Settings: settings('bad'), StatusUpdateInterval: 'SECONDS_5' as never })).rejects.toMatchObject({
      name: 'BadRequestException',
      message: expect.stringMatching(/statusUpdateInterval: "SECONDS_5" is not a StatusUpdateInterval/),
    });
  });
});
