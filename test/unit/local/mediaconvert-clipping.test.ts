import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobSettings } from '@aws-sdk/client-mediaconvert';
import { generateVideo } from '../../../cli/sample-video';
import { measureVideoStream } from '../../../local/ffmpeg';
import { captureCount, ffmpegArguments } from '../../../local/mediaconvert/ffmpeg-job';
import { ClippingError, type FrameTimeline, resolveClips, timecodeBaseOf, timelineOfPackets } from '../../../local/mediaconvert/input-clipping';
import { BadRequestError, type InputClip, planJob } from '../../../local/mediaconvert/job-settings';
import { scratchDirectory } from '../../integration/support/frames-cli';
import { type JobStateEvent, type MediaEndpoint, OUTPUT_BUCKET, startMediaEndpoint } from '../../integration/support/media-endpoint';
import { BUNDLED_FFMPEG } from '../../integration/support/media-matrix';

/**
 * MediaConvert's input clipping in the local endpoint: `Inputs[0].InputClippings` with the
 * ZEROBASED timecode source, both ends of a clip included. What matters to the pipeline, which
 * splits a long video into one job per segment: a job clipped to start on a capture instant that
 * is also a source frame writes exactly the JPEGs the whole-video job writes from that capture on.
 */
jest.setTimeout(120_000);

type Clipping = { StartTimecode?: string; EndTimecode?: string };

/** The pipeline's job (job-templates/frame-capture.json) on one input, in the SDK's PascalCase. */
function jobSettings(inputUri: string, prefix: string, capture: { numerator: number; denominator: number }, clippings?: Clipping[]): JobSettings {
  return {
    TimecodeConfig: { Source: 'ZEROBASED' },
    Inputs: [{ FileInput: inputUri, TimecodeSource: 'ZEROBASED', VideoSelector: { Rotate: 'AUTO' }, ...(clippings ? { InputClippings: clippings } : {}) }],
    OutputGroups: [
      {
        Name: 'Frames',
        OutputGroupSettings: { Type: 'FILE_GROUP_SETTINGS', FileGroupSettings: { Destination: `s3://${OUTPUT_BUCKET}/${prefix}/frames/frame` } },
        Outputs: [
          {
            ContainerSettings: { Container: 'RAW' },
            VideoDescription: {
              CodecSettings: {
                Codec: 'FRAME_CAPTURE',
                FrameCaptureSettings: { FramerateNumerator: capture.numerator, FramerateDenominator: capture.denominator, MaxCaptures: 10_000, Quality: 80 },
              },
            },
          },
        ],
      },
      {
        Name: 'Proxy',
        OutputGroupSettings: { Type: 'FILE_GROUP_SETTINGS', FileGroupSettings: { Destination: `s3://${OUTPUT_BUCKET}/${prefix}/proxy/proxy` } },
        Outputs: [
          {
            ContainerSettings: { Container: 'MP4', Mp4Settings: {} },
            VideoDescription: { Height: 90, CodecSettings: { Codec: 'H_264', H264Settings: { RateControlMode: 'QVBR', MaxBitrate: 400_000 } } },
          },
        ],
      },
    ],
  };
}

/** The same settings as the SDK puts them on the wire (lowerCamelCase), for planJob. */
function wire(settings: JobSettings): unknown {
  return JSON.parse(JSON.stringify(settings), function (key, value) {
    if (this && key && /^[A-Z]/.test(key)) {
      this[key[0].toLowerCase() + key.slice(1)] = value;
      return undefined;
    }
    return value;
  });
}

const planOf = (clippings: Clipping[], change?: (settings: JobSettings) => void) => {
  const settings = jobSettings('s3://frames-ingress/video.mp4', 'plan', { numerator: 5, denominator: 1 }, clippings);
  change?.(settings);
  return planJob({ role: 'arn:aws:iam::000000000000:role/frames-mediaconvert', settings: wire(settings) }).plan;
};
const refusal = (clippings: Clipping[], change?: (settings: JobSettings) => void): string => {
  try {
    planOf(clippings, change);
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    return (error as Error).message;
  }
  throw new Error('the job was accepted');
};

describe('InputClippings in CreateJob', () => {
  test('are planned: timecodes read as HH:MM:SS:FF, either end may be blank', () => {
    const plan = planOf([{ StartTimecode: '00:00:01:00', EndTimecode: '00:00:01:29' }, { StartTimecode: '01:02:03:04' }]);
    expect(plan.clippings).toEqual([
      {
        start: { text: '00:00:01:00', field: '/inputs/0/inputClippings/0/startTimecode', hours: 0, minutes: 0, seconds: 1, frames: 0 },
        end: { text: '00:00:01:29', field: '/inputs/0/inputClippings/0/endTimecode', hours: 0, minutes: 0, seconds: 1, frames: 29 },
      },
      { start: { text: '01:02:03:04', field: '/inputs/0/inputClippings/1/startTimecode', hours: 1, minutes: 2, seconds: 3, frames: 4 } },
    ]);
    expect(planOf([{ EndTimecode: '00:00:02:00' }]).clippings).toEqual([{ end: expect.objectContaining({ seconds: 2 }) }]);
    // None, or an empty list: the whole input.
    expect(planOf([]).clippings).toBeUndefined();
    expect(planOf(undefined as never).clippings).toBeUndefined();
  });

  test.each([
    ['not a timecode', [{ StartTimecode: '1:00' }], /^\/inputs\/0\/inputClippings\/0\/startTimecode: "1:00" is not a timecode; use HH:MM:SS:FF$/],
    ['a three-digit frame', [{ StartTimecode: '00:00:01:100' }], /^\/inputs\/0\/inputClippings\/0\/startTimecode: "00:00:01:100" is not a timecode/],
    ['60 minutes', [{ EndTimecode: '00:60:00:00' }], /^\/inputs\/0\/inputClippings\/0\/endTimecode: 00:60:00:00 has 60 minutes; minutes are 00 to 59$/],
    ['60 seconds', [{ StartTimecode: '00:00:00:00' }, { StartTimecode: '00:00:60:00' }], /^\/inputs\/0\/inputClippings\/1\/startTimecode: 00:00:60:00 has 60 seconds/],
    ['neither end', [{}], /^\/inputs\/0\/inputClippings\/0: Start timecode or End timecode may be left blank, but not both$/],
    ['the start after the end', [{ StartTimecode: '00:00:02:00', EndTimecode: '00:00:01:29' }], /^\/inputs\/0\/inputClippings\/0: the start timecode 00:00:02:00 is after the end timecode 00:00:01:29$/],
  ])("%s is a BadRequest naming the field, as MediaConvert's rules have it", (_name, clippings, message) => {
    expect(refusal(clippings)).toMatch(message);
  });

  test.each([
    ['a drop-frame timecode', [{ StartTimecode: '00:01:00;02' }], undefined, /^\/inputs\/0\/inputClippings\/0\/startTimecode: drop-frame timecodes \(00:01:00;02\) are not implemented locally/],
    [
      'clippings on a job with several inputs',
      [{ StartTimecode: '00:00:01:00' }],
      (s: JobSettings) => s.Inputs!.push({ ...s.Inputs![0], InputClippings: undefined, FileInput: 's3://frames-ingress/second.mp4' }),
      /^\/inputs\/0\/inputClippings: input clipping on a job with several inputs \(2\) is not implemented locally/,
    ],
    [
      'the EMBEDDED timecode source',
      [{ StartTimecode: '00:00:01:00' }],
      (s: JobSettings) => (s.Inputs![0].TimecodeSource = 'EMBEDDED'),
      /^\/inputs\/0\/timecodeSource: input clipping with timecode source EMBEDDED is not implemented locally; set TimecodeSource to ZEROBASED$/,
    ],
    [
      'no timecode source (MediaConvert then uses EMBEDDED)',
      [{ StartTimecode: '00:00:01:00' }],
      (s: JobSettings) => delete s.Inputs![0].TimecodeSource,
      /timecode source EMBEDDED \(the default\) is not implemented locally/,
    ],
    [
      'clips out of order',
      [{ StartTimecode: '00:00:02:00', EndTimecode: '00:00:02:29' }, { StartTimecode: '00:00:01:00', EndTimecode: '00:00:01:29' }],
      undefined,
      /^\/inputs\/0\/inputClippings\/1: clips that overlap or are out of order are not implemented locally/,
    ],
    ['overlapping clips', [{ StartTimecode: '00:00:01:00', EndTimecode: '00:00:02:00' }, { StartTimecode: '00:00:02:00' }], undefined, /inputClippings\/1: clips that overlap/],
    ['a clip after one that runs to the end', [{ StartTimecode: '00:00:01:00' }, { StartTimecode: '00:00:03:00' }], undefined, /inputClippings\/1: clips that overlap/],
  ])('%s is a BadRequest saying it is not implemented locally', (_name, clippings, change, message) => {
    expect(refusal(clippings, change)).toMatch(message);
  });
});

describe('timecodes as frames of the input', () => {
  /** A constant-rate timeline: `frames` frames of `step` ticks each. */
  const constant = (frames: number, step: number, timeBase: [number, number]): FrameTimeline =>
    timelineOfPackets(timeBase, Array.from({ length: frames }, (_, i) => ({ at: i * step, duration: step })))!;
  const at30 = constant(120, 512, [1, 15_360]);
  const at2997 = constant(120, 1001, [1, 30_000]);
  const clip = (start?: string, end?: string): InputClip => {
    const field = (which: string) => `/inputs/0/inputClippings/0/${which}Timecode`;
    const parse = (text: string, which: string) => {
      const [hours, minutes, seconds, frames] = text.split(':').map(Number);
      return { text, field: field(which), hours, minutes, seconds, frames };
    };
    return { ...(start ? { start: parse(start, 'start') } : {}), ...(end ? { end: parse(end, 'end') } : {}) };
  };

  test('count frames in the nominal whole rate: 30 for 30 fps and for 29.97, 24 for 23.976, 25 for 25', () => {
    expect(timecodeBaseOf(at30)).toBe(30);
    expect(timecodeBaseOf(at2997)).toBe(30);
    expect(timecodeBaseOf(constant(48, 1001, [1, 24_000]))).toBe(24);
    expect(timecodeBaseOf(constant(50, 3600, [1, 90_000]))).toBe(25);
    // 60 fps in milliseconds: frames of 16 and 17 ms.
    expect(timecodeBaseOf(timelineOfPackets([1, 1000], Array.from({ length: 60 }, (_, i) => ({ at: Math.round((i * 1000) / 60), duration: 0 })))!)).toBe(60);
  });

  test('both ends are included: 00:00:01:00 to 00:00:01:29 at 30 fps is the 30 frames of the second second', () => {
    expect(resolveClips([clip('00:00:01:00', '00:00:01:29')], at30)).toEqual([{ startFrame: 30, endFrame: 59, ticks: 30 * 512, timeBase: [1, 15_360], durationMs: 1000 }]);
    // At 29.97 the same 30 frames last 1.001 s.
    expect(resolveClips([clip('00:00:01:00', '00:00:01:29')], at2997)[0]).toMatchObject({ startFrame: 30, endFrame: 59, ticks: 30_030, durationMs: 1001 });
    // One frame: start and end the same.
    expect(resolveClips([clip('00:00:02:12', '00:00:02:12')], at30)[0]).toMatchObject({ startFrame: 72, endFrame: 72, ticks: 512 });
  });

  test('a blank start is the first frame, a blank end the last (its own length included)', () => {
    expect(resolveClips([clip(undefined, '00:00:00:29'), clip('00:00:03:00')], at30)).toEqual([
      expect.objectContaining({ startFrame: 0, endFrame: 29, ticks: 30 * 512 }),
      expect.objectContaining({ startFrame: 90, endFrame: 119, ticks: 30 * 512 }),
    ]);
  });

  test('a clip whose end is past the last frame runs to the end of the input', () => {
    expect(resolveClips([clip('00:00:03:00', '00:10:00:00')], at30)[0]).toMatchObject({ startFrame: 90, endFrame: 119, durationMs: 1000 });
  });

  test('a clip that starts after the last frame fails the job, saying where the input ends', () => {
    expect(() => resolveClips([clip('00:00:04:00')], at30)).toThrow(ClippingError);
    expect(() => resolveClips([clip('00:00:04:00')], at30)).toThrow(
      '/inputs/0/inputClippings/0/startTimecode: 00:00:04:00 is frame 120, after the input\'s last frame 119 (120 frames at 30 frames a timecode second: the last timecode is 00:00:03:29)',
    );
  });

  test("a frame number at or above the input's rate fails the job, naming the field", () => {
    expect(() => resolveClips([clip('00:00:00:00', '00:00:01:30')], at2997)).toThrow(
      '/inputs/0/inputClippings/0/endTimecode: 00:00:01:30 names frame 30 of a second, but the input has 30 frames a second (frames 00 to 29)',
    );
    // 23.976 counts 24 frames a second: 00:00:00:23 is the last of the first second, 00:00:00:24 none.
    expect(resolveClips([clip('00:00:00:23')], constant(48, 1001, [1, 24_000]))[0]).toMatchObject({ startFrame: 23 });
    expect(() => resolveClips([clip('00:00:00:24')], constant(48, 1001, [1, 24_000]))).toThrow(/frame 24 of a second, but the input has 24/);
  });

  test('packets an MP4 edit list discards are no frames', () => {
    const timeline = timelineOfPackets([1, 15_360], [
      { at: -1024, duration: 512, discard: true },
      { at: -512, duration: 512, discard: true },
      ...Array.from({ length: 30 }, (_, i) => ({ at: i * 512, duration: 512 })),
    ])!;
    expect(timeline.starts).toHaveLength(30);
    expect(resolveClips([clip('00:00:00:00')], timeline)[0]).toMatchObject({ startFrame: 0, endFrame: 29, ticks: 30 * 512 });
  });

  test('captures of a clip: ceil(its duration × the capture rate)', () => {
    const [whole] = resolveClips([clip('00:00:00:00')], at30);
    const [middle] = resolveClips([clip('00:00:01:00', '00:00:02:11')], at30);
    const rate = (numerator: number, denominator = 1) => ({ framerateNumerator: numerator, framerateDenominator: denominator, maxCaptures: 10_000 });
    expect(captureCount([whole], rate(5))).toBe(20);
    expect(captureCount([middle], rate(5))).toBe(7);
    // 42 frames of 29.97 at 29.97: 42 captures, no float error.
    expect(captureCount(resolveClips([clip('00:00:01:00', '00:00:02:11')], at2997), rate(30_000, 1001))).toBe(42);
    expect(captureCount([middle], { ...rate(5), maxCaptures: 3 })).toBe(3);
  });
});

describe('the filter graph', () => {
  const plan = planOf([{ StartTimecode: '00:00:01:00', EndTimecode: '00:00:01:29' }]);
  const spec = { inputPaths: ['/tmp/in'], frames: { output: plan.frameCaptures[0], captures: 5 }, video: { output: plan.videos[0], path: '/tmp/proxy.mp4' } };
  const graph = (args: string[]) => args[args.indexOf('-filter_complex') + 1];

  test('cuts the clip by frame number before the capture and the proxy split: every output takes it', () => {
    expect(graph(ffmpegArguments({ ...spec, clips: [{ startFrame: 30, endFrame: 59 }] }))).toBe(
      '[0:v:0]trim=start_frame=30:end_frame=60,setpts=PTS-STARTPTS[v0];[v0]split=2[s0][s1];[s0]fps=5/1:round=up[frames];[s1]scale=-2:90:flags=fast_bilinear[video]',
    );
  });

  test('several clips are cut from one decode and joined end to end', () => {
    expect(graph(ffmpegArguments({ ...spec, clips: [{ startFrame: 0, endFrame: 29 }, { startFrame: 60, endFrame: 89 }] }))).toBe(
      '[0:v:0]split=2[c0][c1];[c0]trim=start_frame=0:end_frame=30,setpts=PTS-STARTPTS[v0];[c1]trim=start_frame=60:end_frame=90,setpts=PTS-STARTPTS[v1];' +
        '[v0][v1]concat=n=2:v=1:a=0[joined];[joined]split=2[s0][s1];[s0]fps=5/1:round=up[frames];[s1]scale=-2:90:flags=fast_bilinear[video]',
    );
  });
});

describe('clipped jobs on the local endpoint (the bundled ffmpeg)', () => {
  const scratch = scratchDirectory('mediaconvert-clipping');
  let endpoint: MediaEndpoint;
  const inputs: Record<'30' | '2997', string> = { '30': '', '2997': '' };
  const previousFfmpeg = process.env.FRAMES_FFMPEG;

  beforeAll(async () => {
    process.env.FRAMES_FFMPEG = BUNDLED_FFMPEG.path;
    // 4 s of 160x90 with a tone (cli/sample-video's H.264 with B-frames, so an MP4 edit list).
    await Promise.all([
      generateVideo(join(scratch.path, 'v30.mp4'), { seconds: 4, width: 160, height: 90, fps: '30' }),
      generateVideo(join(scratch.path, 'v2997.mp4'), { seconds: 4, width: 160, height: 90, fps: '30000/1001' }),
    ]);
    // Two jobs at once, as local mode may run them: the segments of one video run side by side.
    endpoint = await startMediaEndpoint({ maxConcurrentJobs: 2 });
    inputs['30'] = await endpoint.upload(join(scratch.path, 'v30.mp4'), 'v30.mp4');
    inputs['2997'] = await endpoint.upload(join(scratch.path, 'v2997.mp4'), 'v2997.mp4');
  });
  afterAll(async () => {
    await endpoint?.stop();
    scratch.remove();
    if (previousFfmpeg === undefined) delete process.env.FRAMES_FFMPEG;
    else process.env.FRAMES_FFMPEG = previousFfmpeg;
  });

  interface Outcome {
    readonly event: JobStateEvent;
    readonly frames: Array<{ key: string; body: Buffer }>;
    readonly proxyFrames?: number;
  }

  async function run(input: '30' | '2997', prefix: string, capture: { numerator: number; denominator: number }, clippings?: Clipping[]): Promise<Outcome> {
    const job = await endpoint.createJob({ Settings: jobSettings(inputs[input], prefix, capture, clippings) });
    const event = await endpoint.finished(job.id);
    const frames = await endpoint.objects(`${prefix}/frames/`);
    if (event.detail.status !== 'COMPLETE') return { event, frames };
    const [proxy] = await endpoint.objects(`${prefix}/proxy/`);
    const path = join(scratch.path, `${prefix.replace(/\//g, '-')}.mp4`);
    writeFileSync(path, proxy.body);
    return { event, frames, proxyFrames: (await measureVideoStream(path))?.frames };
  }

  /** What the COMPLETE event says of the frame capture output. */
  const captureDetail = (event: JobStateEvent) => event.detail.outputGroupDetails![0].outputDetails[0];
  const lastIndex = (event: JobStateEvent) => Number(/\.(\d{7})\.jpg$/.exec(captureDetail(event).outputFilePaths[0])![1]);

  test.each([
    {
      name: '30 fps captured at 5 fps, cut at source frames 30 and 72 (multiples of 6: captures 5 and 12)',
      input: '30' as const,
      capture: { numerator: 5, denominator: 1 },
      // Each tile: its clipping, and the clip's frames and capture count.
      tiles: [
        { clipping: { EndTimecode: '00:00:00:29' }, frames: 30, captures: 5, durationMs: 1000 },
        { clipping: { StartTimecode: '00:00:01:00', EndTimecode: '00:00:02:11' }, frames: 42, captures: 7, durationMs: 1400 },
        { clipping: { StartTimecode: '00:00:02:12' }, frames: 48, captures: 8, durationMs: 1600 },
      ],
      whole: { captures: 20, durationMs: 4000 },
    },
    {
      name: '29.97 fps captured at 29.97, cut at source frames 30 and 60 (every frame is on the grid)',
      input: '2997' as const,
      capture: { numerator: 30_000, denominator: 1001 },
      tiles: [
        { clipping: { StartTimecode: '00:00:00:00', EndTimecode: '00:00:00:29' }, frames: 30, captures: 30, durationMs: 1001 },
        // The inclusive end: 00:00:01:00 to 00:00:01:29 is 30 frames.
        { clipping: { StartTimecode: '00:00:01:00', EndTimecode: '00:00:01:29' }, frames: 30, captures: 30, durationMs: 1001 },
        { clipping: { StartTimecode: '00:00:02:00' }, frames: 60, captures: 60, durationMs: 2002 },
      ],
      whole: { captures: 120, durationMs: 4004 },
    },
  ])('$name: the clipped jobs together write the whole job’s JPEGs, byte for byte', async ({ input, capture, tiles, whole }) => {
    const prefix = `tiles-${input}`;
    const [unclipped, ...clipped] = await Promise.all([
      run(input, `${prefix}/whole`, capture),
      ...tiles.map((tile, index) => run(input, `${prefix}/tile-${index}`, capture, [tile.clipping])),
    ]);
    expect(unclipped.event.detail.status).toBe('COMPLETE');
    expect(unclipped.frames).toHaveLength(whole.captures);
    expect(captureDetail(unclipped.event).durationInMs).toBe(whole.durationMs);

    clipped.forEach((outcome, index) => {
      const tile = tiles[index];
      expect(outcome.event.detail.status).toBe('COMPLETE');
      // The COMPLETE event: the last capture's path (so the count) and the clip's duration, for both outputs.
      expect(lastIndex(outcome.event)).toBe(tile.captures - 1);
      expect(outcome.frames).toHaveLength(tile.captures);
      expect(outcome.event.detail.outputGroupDetails!.map((group) => group.outputDetails[0].durationInMs)).toEqual([tile.durationMs, tile.durationMs]);
      // The proxy is clipped too.
      expect(outcome.proxyFrames).toBe(tile.frames);
    });
    expect(tiles.reduce((sum, tile) => sum + tile.frames, 0)).toBe(unclipped.proxyFrames);

    // Capture i of the whole job is capture i - first of the tile holding it: the same source
    // frame through the same filters and encoder, so the same bytes.
    const joined = clipped.flatMap((outcome) => outcome.frames);
    expect(joined).toHaveLength(unclipped.frames.length);
    joined.forEach((frame, i) => {
      if (!frame.body.equals(unclipped.frames[i].body)) throw new Error(`capture ${i}: ${frame.key} differs from ${unclipped.frames[i].key}`);
    });
    // And not trivially: the test pattern moves, so the captures differ from one another.
    expect(new Set(joined.map((frame) => frame.body.toString('base64'))).size).toBe(joined.length);
  });

  test('several clips of one input are joined end to end', async () => {
    const capture = { numerator: 5, denominator: 1 };
    const [unclipped, two] = await Promise.all([
      run('30', 'two/whole', capture),
      run('30', 'two/clips', capture, [
        { StartTimecode: '00:00:00:00', EndTimecode: '00:00:00:29' },
        { StartTimecode: '00:00:02:00', EndTimecode: '00:00:02:29' },
      ]),
    ]);
    expect(two.event.detail.status).toBe('COMPLETE');
    expect(captureDetail(two.event).durationInMs).toBe(2000);
    expect(two.proxyFrames).toBe(60);
    const expected = [...unclipped.frames.slice(0, 5), ...unclipped.frames.slice(10, 15)].map((frame) => frame.body);
    expect(two.frames.map((frame) => frame.body)).toEqual(expected);
  });

  test.each([
    ['a clip that starts after the last frame', [{ StartTimecode: '00:00:04:00' }], /startTimecode: 00:00:04:00 is frame 120, after the input's last frame 119/],
    ['a frame number at the input rate', [{ StartTimecode: '00:00:00:30' }], /startTimecode: 00:00:00:30 names frame 30 of a second, but the input has 30 frames a second/],
  ])('%s ends the job in ERROR, with no output', async (name, clippings, message) => {
    const prefix = `error-${name.length}`;
    const { event, frames } = await run('30', prefix, { numerator: 5, denominator: 1 }, clippings);
    expect(event.detail).toMatchObject({ status: 'ERROR', errorCode: 1999, errorMessage: expect.stringMatching(message) });
    expect(frames).toHaveLength(0);
    expect(await endpoint.objects(`${prefix}/proxy/`)).toHaveLength(0);
  });
});
