import template from '../../../job-templates/frame-capture.json';
import { BadRequestError, frameCaptureKey, jpegQscaleFor, planJob, statusUpdateSecondsOf } from '../../../local/mediaconvert/job-settings';
import { notAMediaConvertInput, notAVideo, parseProbe } from '../../../local/ffmpeg';
import { captureCount, ffmpegArguments } from '../../../local/mediaconvert/ffmpeg-job';

/** The job template rendered as the SDK puts it on the wire: lowerCamelCase keys. */
function wireSettings(): Record<string, unknown> {
  const rendered = JSON.stringify(template.Settings)
    .replace('{{inputUri}}', 's3://frames-ingress/trips/clip one.mp4')
    .replace('{{framesDestination}}', 's3://frames-frames/run/frames/frame')
    .replace('{{proxyDestination}}', 's3://frames-frames/run/proxy/proxy')
    .replace('"{{fpsNumerator}}"', '30000')
    .replace('"{{fpsDenominator}}"', '1001')
    .replace('"{{maxCaptures}}"', '500')
    .replace('"{{quality}}"', '80');
  return JSON.parse(rendered, function (key, value) {
    if (this && key && /^[A-Z]/.test(key)) {
      this[key[0].toLowerCase() + key.slice(1)] = value;
      return undefined;
    }
    return value;
  }) as Record<string, unknown>;
}

const body = (settings = wireSettings()) => ({ role: 'arn:aws:iam::000000000000:role/frames-mediaconvert', settings, userMetadata: { pipeline: 'frames' } });

test("the pipeline's own job template is accepted and planned", () => {
  const { plan } = planJob(body());
  expect(plan.inputs).toEqual([{ bucket: 'frames-ingress', key: 'trips/clip one.mp4', uri: 's3://frames-ingress/trips/clip one.mp4' }]);
  expect(plan.frameCaptures).toEqual([
    expect.objectContaining({ bucket: 'frames-frames', prefix: 'run/frames/', baseName: 'frame', nameModifier: '', framerateNumerator: 30000, framerateDenominator: 1001, maxCaptures: 500, quality: 80 }),
  ]);
  expect(plan.videos).toEqual([expect.objectContaining({ bucket: 'frames-frames', prefix: 'run/proxy/', baseName: 'proxy', height: 180, maxBitrate: 400_000 })]);
});

test('frames are named as MediaConvert names them: base, modifier, seven digits from zero', () => {
  const output = { bucket: 'b', prefix: 'run/frames/', baseName: 'frame', nameModifier: '_x' };
  expect(frameCaptureKey(output, 0)).toBe('run/frames/frame_x.0000000.jpg');
  expect(frameCaptureKey(output, 1234567)).toBe('run/frames/frame_x.1234567.jpg');
});

test('a destination ending in / names outputs after the input file', () => {
  const settings = wireSettings() as { outputGroups: Array<{ outputGroupSettings: { fileGroupSettings: { destination: string } } }> };
  settings.outputGroups[0].outputGroupSettings.fileGroupSettings.destination = 's3://frames-frames/run/frames/';
  expect(planJob(body(settings as never)).plan.frameCaptures[0].baseName).toBe('clip one');
});

test.each([
  ['an unsupported input setting', (s: any) => (s.inputs[0].filterEnable = 'AUTO'), /filterEnable is not supported/],
  ['an input that is not in S3', (s: any) => (s.inputs[0].fileInput = 'https://example.com/a.mp4'), /must be an s3:\/\/ URI/],
  ['no input', (s: any) => (s.inputs = []), /a job needs an input/],
  ['a capture rate of zero', (s: any) => (s.outputGroups[0].outputs[0].videoDescription.codecSettings.frameCaptureSettings.framerateNumerator = 0), /framerateNumerator/],
  ['a quality of 101', (s: any) => (s.outputGroups[0].outputs[0].videoDescription.codecSettings.frameCaptureSettings.quality = 101), /quality/],
  ['an HLS group', (s: any) => (s.outputGroups[1].outputGroupSettings.type = 'HLS_GROUP_SETTINGS'), /type/],
  ['frame capture alone', (s: any) => s.outputGroups.pop(), /only frame capture/],
])('%s is a BadRequest naming the setting', (_name, change, message) => {
  const settings = wireSettings();
  change(settings);
  expect(() => planJob(body(settings))).toThrow(BadRequestError);
  expect(() => planJob(body(settings))).toThrow(message);
});

test('a role that is not an IAM role ARN is a BadRequest', () => {
  expect(() => planJob({ ...body(), role: 'frames-mediaconvert' })).toThrow(/role: must be an IAM role ARN/);
});

test('quality maps linearly onto the JPEG quantiser: 100 → 2, 80 → 8, 1 → 31', () => {
  expect([100, 80, 50, 1].map(jpegQscaleFor)).toEqual([2, 8, 17, 31]);
});

test('one decode feeds both outputs: the input is split once into the capture and the proxy', () => {
  const { plan } = planJob(body());
  const args = ffmpegArguments({
    inputPaths: ['/tmp/in'],
    frames: { output: plan.frameCaptures[0] },
    video: { output: plan.videos[0], path: '/tmp/proxy.mp4' },
  });
  expect(args.filter((arg) => arg === '-i')).toHaveLength(1);
  const graph = args[args.indexOf('-filter_complex') + 1];
  expect(graph).toBe('[0:v:0]setpts=PTS-STARTPTS[v0];[v0]split=2[s0][s1];[s0]fps=30000/1001:round=up[frames];[s1]scale=-2:180:flags=fast_bilinear[video]');
  expect(args.join(' ')).toContain('-frames:v 500 -fps_mode passthrough -c:v mjpeg -q:v 8');
  // JPEGs are piped (split by JpegSplitter), progress reports go to fd 3.
  expect(args.join(' ')).toMatch(/-f image2pipe pipe:1 .*-f mp4 \/tmp\/proxy.mp4$/);
  expect(args.slice(0, 6)).toContain('pipe:3');
});

describe('stitched inputs (a KVS clip in pieces)', () => {
  const withInputs = (count: number) => {
    const settings = wireSettings() as { inputs: Array<Record<string, unknown>> };
    settings.inputs = Array.from({ length: count }, (_, i) => ({ ...settings.inputs[0], fileInput: `s3://frames-ingress/kvs-clips/run/piece.${i}.mp4` }));
    return body(settings as never);
  };

  test('are planned in order', () => {
    expect(planJob(withInputs(3)).plan.inputs.map((input) => input.key)).toEqual([
      'kvs-clips/run/piece.0.mp4',
      'kvs-clips/run/piece.1.mp4',
      'kvs-clips/run/piece.2.mp4',
    ]);
  });

  test('are refused above MediaConvert\'s 150 inputs a job', () => {
    expect(() => planJob(withInputs(151))).toThrow(/up to 150 inputs/);
  });

  test('each start at zero and are joined by the concat filter', () => {
    const { plan } = planJob(withInputs(2));
    const args = ffmpegArguments({ inputPaths: ['/tmp/a', '/tmp/b'], frames: { output: plan.frameCaptures[0] }, video: { output: plan.videos[0], path: '/tmp/proxy.mp4' } });
    expect(args[args.indexOf('-filter_complex') + 1]).toBe(
      '[0:v:0]setpts=PTS-STARTPTS[v0];[1:v:0]setpts=PTS-STARTPTS[v1];[v0][v1]concat=n=2:v=1:a=0[joined];' +
        '[joined]split=2[s0][s1];[s0]fps=30000/1001:round=up[frames];[s1]scale=-2:180:flags=fast_bilinear[video]',
    );
  });
});

describe('exact frames on every ffmpeg build', () => {
  const { plan } = planJob(body());
  const output = plan.frameCaptures[0];
  const spec = { inputPaths: ['/tmp/in'], frames: { output }, video: { output: plan.videos[0], path: '/tmp/proxy.mp4' } };

  test('each output passes the filtered frames through: -fps_mode where ffmpeg has it (5.1 and later)', () => {
    const args = ffmpegArguments({ ...spec, frameSync: 'fps_mode' }).join(' ');
    expect(args).toMatch(/-map \[frames\] -frames:v 500 -fps_mode passthrough .* -map \[video\] -fps_mode passthrough /);
    expect(args).not.toContain('-vsync');
  });

  test('-vsync, globally, where it has not (the bundled 2018 build)', () => {
    const args = ffmpegArguments({ ...spec, frameSync: 'vsync' });
    expect(args.slice(0, args.indexOf('-i'))).toEqual(['-hide_banner', '-nostdin', '-y', '-nostats', '-progress', 'pipe:3', '-vsync', 'passthrough']);
    expect(args).not.toContain('-fps_mode');
  });

  test('the capture stops at the count the video stream gives, not where ffmpeg 4 thinks the file ends', () => {
    expect(ffmpegArguments({ ...spec, frames: { output, captures: 60 } }).join(' ')).toContain('-map [frames] -frames:v 60 ');
  });

  // [ticks, time base] of each stitched input's video stream.
  const stream = (ticks: number, timeBase: [number, number]) => ({ ticks, timeBase }) as const;
  const rate = (numerator: number, denominator = 1, maxCaptures = 10_000_000) => ({ framerateNumerator: numerator, framerateDenominator: denominator, maxCaptures });
  test.each([
    ['2 s at 30 fps', [stream(30_720, [1, 15_360])], rate(30), 60],
    ['2 s at 7 fps', [stream(30_720, [1, 15_360])], rate(7), 14],
    ['60 NTSC frames at 30000/1001: exactly 60, no float error', [stream(60_060, [1, 30_000])], rate(30_000, 1001), 60],
    ['one frame of a 30 fps video at 30 fps', [stream(3000, [1, 90_000])], rate(30), 1],
    ['just over 2 s at 1 fps', [stream(2_001, [1, 1000])], rate(1), 3],
    ['a 1 fps source of 4 s at 30 fps', [stream(65_536, [1, 16_384])], rate(30), 120],
    ['2 s + 1.5 s stitched, in different time bases, at 2 fps', [stream(30_720, [1, 15_360]), stream(135_000, [1, 90_000])], rate(2), 7],
    ['capped at MaxCaptures', [stream(30_720, [1, 15_360])], rate(30, 1, 7), 7],
    ['no video at all', [stream(0, [1, 1000])], rate(30), 0],
  ])('captureCount: %s', (_, streams, settings, count) => {
    expect(captureCount(streams, settings)).toBe(count);
  });
});

describe('the proxy', () => {
  const { plan } = planJob(body());
  const args = ffmpegArguments({ inputPaths: ['/tmp/in'], frames: { output: plan.frameCaptures[0] }, video: { output: plan.videos[0], path: '/tmp/proxy.mp4' } });

  test('has no audio: the settings have no AudioDescriptions', () => {
    expect(args.join(' ')).not.toMatch(/:a|-c:a|-b:a|\[audio\]/);
  });

  test("keeps under MaxBitrate: x264's VBV at 95% of it, a one-second buffer starting nearly empty", () => {
    expect(args.join(' ')).toContain('-maxrate 380000 -bufsize 380000 -rc_init_occupancy 38000');
  });
});

describe('StatusUpdateInterval', () => {
  test.each([
    [undefined, 60],
    ['SECONDS_10', 10],
    ['SECONDS_12', 12],
    ['SECONDS_600', 600],
  ])('%s is %d s (SECONDS_60 when not given, as MediaConvert)', (interval, seconds) => {
    expect(statusUpdateSecondsOf(interval)).toBe(seconds);
    expect(planJob({ ...body(), statusUpdateInterval: interval }).plan.statusUpdateSeconds).toBe(seconds);
  });

  test.each(['SECONDS_5', 'SECONDS_45', 'SECONDS_900', '10', 'seconds_10', ''])('%j is a BadRequest naming the values MediaConvert takes', (interval) => {
    expect(() => planJob({ ...body(), statusUpdateInterval: interval })).toThrow(BadRequestError);
    expect(() => planJob({ ...body(), statusUpdateInterval: interval })).toThrow(/statusUpdateInterval: .* use one of SECONDS_10, SECONDS_12, .*SECONDS_600$/);
  });
});

test("outputs keep their place in the settings, so the job's outputGroupDetails can follow it", () => {
  const settings = wireSettings() as { outputGroups: Array<{ outputs: unknown[] }> };
  // One group: the proxy first, then the frame capture.
  settings.outputGroups = [{ ...settings.outputGroups[0], outputs: [settings.outputGroups[1].outputs[0], settings.outputGroups[0].outputs[0]] }];
  const { plan } = planJob(body(settings as never));
  expect(plan.outputCounts).toEqual([2]);
  expect(plan.videos[0]).toMatchObject({ groupIndex: 0, outputIndex: 0 });
  expect(plan.frameCaptures[0]).toMatchObject({ groupIndex: 0, outputIndex: 1 });
});

describe('the full-range expansion for JPEG', () => {
  const { plan } = planJob(body());
  const argsFor = (inputPixels?: { pixelFormat: string; colorRange: 'pc' | 'tv' }) =>
    ffmpegArguments({ inputPaths: ['/tmp/in'], inputPixels, frames: { output: plan.frameCaptures[0] } });

  test('8-bit 4:2:0 limited-range input is expanded with a lookup table and written as full-range JPEG', () => {
    const args = argsFor({ pixelFormat: 'yuv420p', colorRange: 'tv' });
    expect(args[args.indexOf('-filter_complex') + 1]).toMatch(/^\[0:v:0\]setpts=PTS-STARTPTS\[v0\];\[v0\]fps=30000\/1001:round=up,lutyuv=y='clip\(\(val-16\)\*255\/219\+0\.5,0,255\)'/);
    expect(args.join(' ')).toContain('-strict unofficial -pix_fmt yuv420p -color_range pc');
  });

  test.each([
    ['full-range input', { pixelFormat: 'yuvj420p', colorRange: 'pc' as const }],
    ['10-bit input', { pixelFormat: 'yuv420p10le', colorRange: 'tv' as const }],
    ['4:2:2 input', { pixelFormat: 'yuv422p', colorRange: 'tv' as const }],
    ['an input not probed', undefined],
  ])('%s keeps ffmpeg\'s own conversion to yuvj420p', (_, pixels) => {
    const args = argsFor(pixels);
    expect(args[args.indexOf('-filter_complex') + 1]).not.toContain('lutyuv');
    expect(args.join(' ')).toContain('-pix_fmt yuvj420p');
  });
});

describe('probing what ffmpeg says of an input', () => {
  const header = 'Input #0, mov,mp4,m4a,3gp,3g2,mj2, from \'in.mp4\':\n  Duration: 00:01:00.02, start: 0.000000, bitrate: 2799 kb/s\n';
  test.each([
    [
      '    Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 1280x720 [SAR 1:1 DAR 16:9], 2721 kb/s, 30 fps, 30 tbr, 15360 tbn, 60 tbc (default)\n    Stream #0:1(und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 74 kb/s (default)',
      { durationMs: 60_020, videoStreams: 1, hasAudio: true, audioCodec: 'aac', video: { codec: 'h264', pixelFormat: 'yuv420p', colorRange: 'tv', width: 1280, height: 720, frameRate: 30 } },
    ],
    [
      '    Stream #0:0[0x1](und): Video: hevc (Main 10) (hvc1 / 0x31637668), yuv420p10le(tv, bt2020nc/bt2020/smpte2084), 3840x2160, 40000 kb/s, 29.97 fps, 29.97 tbr',
      { durationMs: 60_020, videoStreams: 1, hasAudio: false, video: { codec: 'hevc', pixelFormat: 'yuv420p10le', colorRange: 'tv', width: 3840, height: 2160, frameRate: 29.97 } },
    ],
    [
      '    Stream #0:0: Video: mjpeg (Baseline), yuvj420p(pc, bt470bg/unknown/unknown), 1279x719, 25 tbr, 25 tbn',
      { durationMs: 60_020, videoStreams: 1, hasAudio: false, video: { codec: 'mjpeg', pixelFormat: 'yuvj420p', colorRange: 'pc', width: 1279, height: 719, frameRate: undefined } },
    ],
    ['    Stream #0:0(und): Audio: aac (LC), 44100 Hz, stereo, fltp', { durationMs: 60_020, videoStreams: 0, hasAudio: true, audioCodec: 'aac', video: undefined }],
  ])('%#', (streams, expected) => {
    expect(parseProbe(header + streams)).toEqual({ container: 'mov,mp4,m4a,3gp,3g2,mj2', ...expected });
  });

  test('a file ffmpeg cannot open as media is undefined', () => {
    expect(parseProbe('in.mp4: Invalid data found when processing input')).toBeUndefined();
  });
});

describe('inputs ffmpeg opens but MediaConvert would not take as video', () => {
  const probe = (container: string, streams: string) =>
    parseProbe(`Input #0, ${container}, from 'in.mp4':\n  Duration: N/A, bitrate: N/A\n${streams}`)!;
  const picture = '    Stream #0:0: Video: png, rgb24(pc), 64x64, 25 tbr, 25 tbn, 25 tbc';

  test.each([
    ['a PNG renamed .mp4', probe('png_pipe', picture), /still image \(png_pipe\)/],
    ['a JPEG renamed .mp4', probe('jpeg_pipe', picture.replace('png', 'mjpeg')), /still image \(jpeg_pipe\)/],
    ['an image sequence', probe('image2', picture), /still image \(image2\)/],
    ['audio only', probe('mov,mp4,m4a,3gp,3g2,mj2', '    Stream #0:0(und): Audio: aac (LC), 44100 Hz, mono, fltp'), /no video track \(it is audio only\)/],
  ])('%s is refused with the reason', (_, probed, reason) => {
    expect(notAVideo(probed)).toMatch(reason);
  });

  test('a video is not refused, whatever its container', () => {
    for (const container of ['mov,mp4,m4a,3gp,3g2,mj2', 'matroska,webm', 'mpegts', 'avi', 'h264']) {
      expect(notAVideo(probe(container, '    Stream #0:0: Video: h264 (High), yuv420p(tv), 64x64, 30 fps'))).toBeUndefined();
    }
  });
});

describe('several video streams, which MediaConvert does not support', () => {
  const header = "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'in.mp4':\n  Duration: 00:00:02.00, start: 0.000000, bitrate: 28 kb/s\n";
  const thumbnail = '    Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 160x90 [SAR 1:1 DAR 16:9], 11 kb/s, 30 fps, 30 tbr, 15360 tbn (default)';
  const main = '    Stream #0:1(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 1280x720 [SAR 1:1 DAR 16:9], 2000 kb/s, 30 fps, 30 tbr, 15360 tbn';

  test('a thumbnail track before the main one is refused, saying why, though ffmpeg would read the thumbnail', () => {
    const probe = parseProbe(`${header}${thumbnail}\n${main}`)!;
    expect(probe).toMatchObject({ videoStreams: 2, video: { width: 160, height: 90 } });
    expect(notAVideo(probe)).toBeUndefined();
    expect(notAMediaConvertInput(probe)).toMatch(/^the input has 2 video streams, and MediaConvert does not support inputs with several video streams; keep the one/);
  });

  test('cover art is no video stream', () => {
    const cover = '    Stream #0:2: Video: mjpeg (Baseline), yuvj420p(pc, bt470bg/unknown/unknown), 600x600, 90k tbr, 90k tbn (attached pic)';
    const probe = parseProbe(`${header}${main.replace('#0:1', '#0:0')}\n${cover}`)!;
    expect(probe.videoStreams).toBe(1);
    expect(notAMediaConvertInput(probe)).toBeUndefined();
  });

  test('an input that is no video is refused as before', () => {
    const probe = parseProbe(`${header}    Stream #0:0(und): Audio: aac (LC), 44100 Hz, mono, fltp`)!;
    expect(notAMediaConvertInput(probe)).toBe(notAVideo(probe));
  });
});
