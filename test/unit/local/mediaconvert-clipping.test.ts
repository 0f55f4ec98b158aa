import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobSettings } from '@aws-sdk/client-mediaconvert';
import { generateVideo } from '../../../cli/sample-video';
import { type FrameTimeline, type VideoPacket, measureFrameTimeline, measureVideoStream, probeMedia, runFfmpeg, timelineOfPackets } from '../../../local/ffmpeg';
import { captureCount, ffmpegArguments } from '../../../local/mediaconvert/ffmpeg-job';
import { ClippingError, inputSeek, resolveClips, timecodeBaseOf } from '../../../local/mediaconvert/input-clipping';
import { JpegSplitter } from '../../../local/mediaconvert/jpeg-stream';
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
/** The endpoint tests' inputs: 4 s at 30 and at 29.97 fps, 20 s at 30 fps, and the 30 fps one cut mid-GOP. */
type Input = '30' | '2997' | 'long' | 'cut';

/** The frames an ffmpeg run at the verbose level says it decoded from its first input's video. */
function framesDecoded(report: string): number {
  const decoded = /Input stream #0:0 \(video\): \d+ packets read \(\d+ bytes\); (\d+) frames decoded/.exec(report);
  if (!decoded) throw new Error(`ffmpeg said nothing of the frames it decoded: ${report.slice(-300)}`);
  return Number(decoded[1]);
}

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

describe('where a clipped job starts reading its input', () => {
  const MP4 = 'mov,mp4,m4a,3gp,3g2,mj2';
  /**
   * A stream of GOPs, each given as its frames' presentation times in decoding order (its keyframe
   * first), decoded `step` ticks apart from `firstDts` on.
   */
  const stream = (timeBase: [number, number], gops: number[][], step: number, firstDts: number): FrameTimeline => {
    const packets: VideoPacket[] = gops.flatMap((gop) => gop.map((at, i) => ({ at, duration: step, key: i === 0 })));
    return timelineOfPackets(timeBase, packets.map((packet, i) => ({ ...packet, dts: firstDts + i * step })))!;
  };
  const clipAt = (startFrame: number) => [{ startFrame }];

  // 30 fps in 1/15360 s (512 ticks a frame), a keyframe every 60 frames, with B-frames: each GOP
  // decoded I P B B …, presented I B B P …, decoding two frames ahead of presentation.
  const gopOf = (first: number) =>
    Array.from({ length: 60 }, (_, i) => (i === 0 ? first : i % 3 === 1 ? first + Math.min(i + 2, 59) : first + i - 1)).map((frame) => frame * 512);
  const x264 = stream([1, 15_360], Array.from({ length: 10 }, (_, gop) => gopOf(gop * 60)), 512, -1024);

  test('just before the first frame of the clip: halfway to the frame before, to the microsecond', () => {
    expect(x264.starts).toHaveLength(600);
    // Frame 456 is at 15.2 s, frame 455 at 15.1667 s: -ss 15.183333, and the first frame read is 456.
    expect(inputSeek(x264, clipAt(456), MP4)).toEqual({ seconds: '15.183333', frame: 456 });
    // A keyframe too (decoding starts there).
    expect(inputSeek(x264, clipAt(300), MP4)).toEqual({ seconds: '9.983333', frame: 300 });
    // 29.97 fps in 1/30000 s: frame 100 at 3.336667 s.
    const ntsc = stream([1, 30_000], [Array.from({ length: 90 }, (_, i) => i * 1001), Array.from({ length: 90 }, (_, i) => (90 + i) * 1001)], 1001, 0);
    expect(inputSeek(ntsc, clipAt(100), MP4)).toEqual({ seconds: '3.319983', frame: 100 });
  });

  test('not when there is nothing to skip (a clip in the first GOP), and not in a container that cannot seek to keyframes', () => {
    expect(inputSeek(x264, clipAt(0), MP4)).toBeUndefined();
    expect(inputSeek(x264, clipAt(59), MP4)).toBeUndefined();
    expect(inputSeek(x264, clipAt(60), MP4)).toBeDefined();
    expect(inputSeek(x264, clipAt(456), 'mpegts')).toBeUndefined();
    expect(inputSeek(x264, clipAt(456), 'matroska,webm')).toBeUndefined();
  });

  test('not in a time base too coarse to seek between two frames (1/30 s at 30 fps)', () => {
    const coarse = stream([1, 30], [Array.from({ length: 60 }, (_, i) => i), Array.from({ length: 60 }, (_, i) => 60 + i)], 1, 0);
    expect(inputSeek(coarse, clipAt(90), MP4)).toBeUndefined();
    // 1/120 s: 4 ticks a frame, T 2 ticks from each.
    const fine = stream([1, 120], [Array.from({ length: 60 }, (_, i) => 4 * i), Array.from({ length: 60 }, (_, i) => 4 * (60 + i))], 4, 0);
    expect(inputSeek(fine, clipAt(90), MP4)).toEqual({ seconds: '2.983333', frame: 90 });
  });

  test('back a few frames when a keyframe is decoded before T but presented after it, with frames presented after T decoded before it', () => {
    // 10 fps in milliseconds, GOPs of 10 frames decoded 4 frames ahead: the last frame of each GOP
    // (presented at x900) is decoded before the next keyframe, which is decoded at x600.
    const gop = (base: number) => [0, 400, 200, 100, 300, 900, 600, 500, 700, 800].map((at) => base + at);
    const deep = stream([1, 1000], [gop(0), gop(1000), gop(2000)], 100, -400);
    // Frame 19 (1.9 s) needs the GOP at 1 s; T = 1.85 s is after the next keyframe's decoding time
    // (1.6 s), where a seek could land. T = 1.55 s, before frame 16, cannot: frames 16 to 18 are
    // decoded and trimmed.
    expect(inputSeek(deep, clipAt(19), MP4)).toEqual({ seconds: '1.550000', frame: 16 });
    expect(inputSeek(deep, clipAt(16), MP4)).toEqual({ seconds: '1.550000', frame: 16 });
    expect(inputSeek(deep, clipAt(15), MP4)).toEqual({ seconds: '1.450000', frame: 15 });
  });

  test("not from a keyframe presented after the clip's first frame (an open GOP's leading pictures need the GOP before)", () => {
    // Each GOP after the first: an I-frame presented at x200, then the two frames before it.
    const open = (base: number) => [200, 0, 100, 300, 400, 500, 600, 700, 800, 900].map((at) => base + at);
    const leading = stream([1, 1000], [Array.from({ length: 10 }, (_, i) => i * 100), open(1000), open(2000), open(3000)], 100, -100);
    // Frame 30 (3 s) is decoded after the I-frame at 3.2 s: decoding starts at the one at 2.2 s,
    // and T moves back before the 3.2 s I-frame's decoding time (2.9 s).
    expect(inputSeek(leading, clipAt(30), MP4)).toEqual({ seconds: '2.850000', frame: 29 });
    // From the I-frame at 1.2 s only the first GOP is before it: nothing to skip.
    expect(inputSeek(leading, clipAt(10), MP4)).toBeUndefined();
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

  test('a seek reads the input from just before the clip: the trim counts frames from the seek', () => {
    const args = ffmpegArguments({ ...spec, clips: [{ startFrame: 456, endFrame: 599 }], seek: { seconds: '15.183333', frame: 456 } });
    expect(args.slice(args.indexOf('-ss'), args.indexOf('-i') + 2)).toEqual(['-ss', '15.183333', '-i', '/tmp/in']);
    expect(graph(args)).toMatch(/^\[0:v:0\]trim=start_frame=0:end_frame=144,setpts=PTS-STARTPTS\[v0\];/);
    // Several clips: one read, from before the first.
    const two = ffmpegArguments({ ...spec, clips: [{ startFrame: 300, endFrame: 329 }, { startFrame: 456, endFrame: 485 }], seek: { seconds: '9.950000', frame: 299 } });
    expect(graph(two)).toMatch(/\[c0\]trim=start_frame=1:end_frame=31,.*\[c1\]trim=start_frame=157:end_frame=187,/);
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
  const inputs: Record<Input, string> = { '30': '', '2997': '', long: '', cut: '' };
  const previousFfmpeg = process.env.FRAMES_FFMPEG;

  beforeAll(async () => {
    process.env.FRAMES_FFMPEG = BUNDLED_FFMPEG.path;
    // 4 s of 160x90 with a tone (cli/sample-video's H.264 with B-frames, so an MP4 edit list).
    await Promise.all([
      generateVideo(join(scratch.path, 'v30.mp4'), { seconds: 4, width: 160, height: 90, fps: '30' }),
      generateVideo(join(scratch.path, 'v2997.mp4'), { seconds: 4, width: 160, height: 90, fps: '30000/1001' }),
      // 20 s with a keyframe every 2 s (frames 0, 60, 120, …).
      generateVideo(join(scratch.path, 'long.mp4'), { seconds: 20, width: 160, height: 90, fps: '30' }),
    ]);
    // v30 cut mid-GOP with -c copy: the GOP from frame 0 is kept, and an edit list hides its first 12 frames.
    await runFfmpeg(['-ss', '0.4', '-i', join(scratch.path, 'v30.mp4'), '-c', 'copy', join(scratch.path, 'cut.mp4')]);
    // Two jobs at once, as local mode may run them: the segments of one video run side by side.
    endpoint = await startMediaEndpoint({ maxConcurrentJobs: 2 });
    inputs['30'] = await endpoint.upload(join(scratch.path, 'v30.mp4'), 'v30.mp4');
    inputs['2997'] = await endpoint.upload(join(scratch.path, 'v2997.mp4'), 'v2997.mp4');
    inputs.long = await endpoint.upload(join(scratch.path, 'long.mp4'), 'long.mp4');
    inputs.cut = await endpoint.upload(join(scratch.path, 'cut.mp4'), 'cut.mp4');
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

  async function run(input: Input, prefix: string, capture: { numerator: number; denominator: number }, clippings?: Clipping[]): Promise<Outcome> {
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

  /**
   * ffmpeg for the endpoint's jobs through a wrapper (FRAMES_FFMPEG) that runs a job's command (the
   * one with a filter graph) at the verbose level, whose last words say how many frames it
   * decoded, and keeps them with the command; other commands (probes) run as they are.
   */
  async function withDecodeReports<T>(body: () => Promise<T>): Promise<{ result: T; decodedBy: (jobId: string) => { frames: number; command: string } }> {
    const reports = join(scratch.path, `reports-${Date.now()}`);
    const wrapper = `${reports}.sh`;
    writeFileSync(
      wrapper,
      [
        '#!/bin/sh',
        `mkdir -p '${reports}'`,
        'case " $* " in',
        '  *" -filter_complex "*)',
        `    report="$(mktemp '${reports}/job-XXXXXX')"`,
        '    printf "%s\\n" "$*" > "$report"',
        `    '${BUNDLED_FFMPEG.path}' -loglevel verbose "$@" 2>>"$report"; code=$?`,
        '    cat "$report" >&2',
        '    exit $code ;;',
        'esac',
        `exec '${BUNDLED_FFMPEG.path}' "$@"`,
        '',
      ].join('\n'),
    );
    chmodSync(wrapper, 0o755);
    process.env.FRAMES_FFMPEG = wrapper;
    try {
      const result = await body();
      const texts = readdirSync(reports).map((name) => readFileSync(join(reports, name), 'utf8'));
      return {
        result,
        decodedBy: (jobId) => {
          const text = texts.find((each) => each.split('\n')[0].includes(`/${jobId}/`));
          if (!text) throw new Error(`no ffmpeg command of job ${jobId}`);
          return { frames: framesDecoded(text), command: text.split('\n')[0] };
        },
      };
    } finally {
      process.env.FRAMES_FFMPEG = BUNDLED_FFMPEG.path;
    }
  }

  test('a clip late in a long video is read from a seek just before it: byte for byte the same JPEGs, a fraction of the decode', async () => {
    // 20 s at 30 fps with a keyframe every 2 s, captured at 5 fps, cut at frames 300 (10 s, a
    // keyframe) and 456 (15.2 s, not one: the keyframe before it is frame 420).
    const capture = { numerator: 5, denominator: 1 };
    const tiles = [
      { clipping: { EndTimecode: '00:00:09:29' }, captures: 50 },
      { clipping: { StartTimecode: '00:00:10:00', EndTimecode: '00:00:15:05' }, captures: 26 },
      { clipping: { StartTimecode: '00:00:15:06' }, captures: 24 },
    ];
    const { result: outcomes, decodedBy } = await withDecodeReports(() =>
      Promise.all([run('long', 'long/whole', capture), ...tiles.map((tile, index) => run('long', `long/tile-${index}`, capture, [tile.clipping]))]),
    );
    const [unclipped, ...clipped] = outcomes;
    expect(unclipped.frames).toHaveLength(100);
    clipped.forEach((outcome, index) => {
      expect(outcome.event.detail.status).toBe('COMPLETE');
      expect(outcome.frames).toHaveLength(tiles[index].captures);
    });
    const joined = clipped.flatMap((outcome) => outcome.frames);
    joined.forEach((frame, i) => {
      if (!frame.body.equals(unclipped.frames[i].body)) throw new Error(`capture ${i}: ${frame.key} differs from ${unclipped.frames[i].key}`);
    });
    expect(new Set(joined.map((frame) => frame.body.toString('base64'))).size).toBe(100);

    const [whole, first, middle, last] = outcomes.map((outcome) => decodedBy(outcome.event.detail.jobId));
    expect(whole.frames).toBe(600);
    expect(whole.command).not.toContain(' -ss ');
    // The first tile is read from the start (nothing to skip), and ffmpeg stops after its last frame.
    expect(first.command).not.toContain(' -ss ');
    expect(first.frames).toBeLessThan(300 + 10);
    // The last: from its keyframe, frame 420 (36 frames decoded and dropped), to the end: 180
    // frames where reading from the start decoded all 600.
    expect(last.command).toContain(' -ss 15.183333 -i ');
    expect(last.frames).toBe(180);
    // The middle one starts on a keyframe, but ffmpeg moves its target back 3/23 s for a stream
    // with B-frames: it decodes from the keyframe before (frame 240), up to a few frames past its end.
    expect(middle.command).toContain(' -ss 9.983333 -i ');
    expect(middle.frames).toBeGreaterThanOrEqual(456 - 240);
    expect(middle.frames).toBeLessThan(456 - 240 + 10);
  });

  test('a video cut mid-GOP with -c copy: the frames its edit list hides are no frames, unclipped or clipped', async () => {
    const cut = join(scratch.path, 'cut.mp4');
    const timeline = await measureFrameTimeline(cut);
    // 120 packets, the first 12 hidden: 108 frames, 3.6 s.
    expect(timeline?.packets).toHaveLength(120);
    expect(timeline?.packets.filter((packet) => packet.discard)).toHaveLength(12);
    expect(await measureVideoStream(cut)).toEqual({ frames: 108, durationMs: 3600, ticks: 108 * 512, timeBase: [1, 15_360] });

    // A clip from its frame 60 (2 s, the source's frame 72) is read from a seek: the keyframe
    // before it is its frame 48 (the source's 60), after the hidden frames.
    expect(inputSeek(timeline!, [{ startFrame: 60 }], (await probeMedia(cut))!.container)).toEqual({ seconds: '1.983333', frame: 60 });

    const capture = { numerator: 5, denominator: 1 };
    const [source, unclipped, clipped] = await Promise.all([
      run('30', 'cut/source', capture),
      run('cut', 'cut/whole', capture),
      run('cut', 'cut/clip', capture, [{ StartTimecode: '00:00:02:00' }]),
    ]);
    // 3.6 s at 5 fps: 18 captures, the source's from 0.4 s on (its captures 2 to 19), byte for byte.
    expect(unclipped.event.detail.status).toBe('COMPLETE');
    expect(captureDetail(unclipped.event).durationInMs).toBe(3600);
    expect(unclipped.proxyFrames).toBe(108);
    expect(unclipped.frames.map((frame) => frame.body)).toEqual(source.frames.slice(2).map((frame) => frame.body));
    // The clip: 48 frames, 1.6 s, 8 captures, the whole cut's from its capture 10.
    expect(captureDetail(clipped.event).durationInMs).toBe(1600);
    expect(clipped.proxyFrames).toBe(48);
    expect(clipped.frames.map((frame) => frame.body)).toEqual(unclipped.frames.slice(10).map((frame) => frame.body));
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

describe('seeking, frame by frame (the bundled ffmpeg)', () => {
  const scratch = scratchDirectory('mediaconvert-seeking');
  afterAll(() => scratch.remove());

  /** Runs a job's ffmpeg command (ffmpegArguments): its JPEGs, one Buffer each, and the frames it decoded. */
  async function runCommand(args: readonly string[]): Promise<{ jpegs: Buffer[]; decoded: number }> {
    const child = spawn(BUNDLED_FFMPEG.path, ['-loglevel', 'verbose', ...args], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let report = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (report += chunk));
    (child.stdio[3] as NodeJS.ReadableStream).resume();
    const jpegs: Buffer[] = [];
    const split = child.stdout!.pipe(new JpegSplitter()).on('data', (jpeg: Buffer) => jpegs.push(jpeg));
    const [code] = await Promise.all([new Promise((resolve) => child.once('close', resolve)), new Promise((resolve) => split.once('end', resolve))]);
    if (code !== 0) throw new Error(`ffmpeg failed: ${report.slice(-500)}`);
    return { jpegs, decoded: framesDecoded(report) };
  }

  test('HEVC with open GOPs (x265), 8 B-frames, a keyframe a second at 10 fps: a clip from any frame gives the frames from it on, where ffmpeg alone loses some', async () => {
    const path = join(scratch.path, 'hevc.mp4');
    await runFfmpeg([
      '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=10:duration=5',
      '-c:v', 'libx265', '-x265-params', 'keyint=10:min-keyint=10:bframes=8:b-pyramid=1:log-level=error', path,
    ]);
    const [timeline, probe] = await Promise.all([measureFrameTimeline(path), probeMedia(path)]);
    const frames = timeline!.starts.length;
    expect(frames).toBe(50);
    // A capture a frame: capture k is frame k.
    const output = { ...planOf([{ StartTimecode: '00:00:00:00' }]).frameCaptures[0], framerateNumerator: 10 };
    const command = (startFrame: number, seek?: { seconds: string; frame: number }) =>
      ffmpegArguments({ inputPaths: [path], clips: [{ startFrame, endFrame: frames - 1 }], ...(seek ? { seek } : {}), frames: { output, captures: frames - startFrame }, frameSync: 'vsync' });
    const whole = await runCommand(command(0));
    expect(whole.jpegs).toHaveLength(frames);
    expect(whole.decoded).toBe(frames);

    const movedBack: number[] = [];
    for (let start = 1; start < frames; start++) {
      const seek = inputSeek(timeline!, [{ startFrame: start }], probe!.container);
      if (seek && seek.frame < start) movedBack.push(start);
      const { jpegs, decoded } = await runCommand(command(start, seek));
      expect({ start, captures: jpegs.length }).toEqual({ start, captures: frames - start });
      jpegs.forEach((jpeg, i) => {
        if (!jpeg.equals(whole.jpegs[start + i])) throw new Error(`from frame ${start} (${JSON.stringify(seek)}): capture ${i} is not frame ${start + i}`);
      });
      // Past the first GOP, decoding starts at most two GOPs before the clip.
      if (start >= 20) expect(decoded).toBeLessThanOrEqual(frames - start + 20);
    }
    // x265's GOPs are open: the 4 frames presented before each keyframe after the first (16 to 19
    // before frame 20) are decoded after it, from the GOP before. Decoding from 19 on must start at
    // frame 10, and the keyframe at frame 20 is decoded at 1.5 s, so the seek moves back to 1.45 s.
    expect(movedBack).toEqual([16, 17, 18, 19, 26, 27, 28, 29, 36, 37, 38, 39]);
    expect(inputSeek(timeline!, [{ startFrame: 19 }], probe!.container)).toEqual({ seconds: '1.450000', frame: 15 });
    // ffmpeg's own seek just before frame 19 lands on the keyframe at frame 20, and the decoder
    // drops the leading frames it cannot decode from there: frame 19 is lost.
    const [numerator, denominator] = timeline!.timeBase;
    const justBefore = (((timeline!.starts[18] + timeline!.starts[19]) / 2) * numerator) / denominator;
    const lost = await runCommand(command(19, { seconds: justBefore.toFixed(6), frame: 19 }));
    expect(lost.jpegs[0].equals(whole.jpegs[19])).toBe(false);
  });
});
