import template from '../../../job-templates/frame-capture.json';
import { BadRequestError, frameCaptureKey, jpegQscaleFor, planJob } from '../../../local/mediaconvert/job-settings';
import { notAVideo, parseProbe } from '../../../local/ffmpeg';
import { ffmpegArguments } from '../../../local/mediaconvert/ffmpeg-job';

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
  ['an unsupported input setting', (s: any) => (s.inputs[0].inputClippings = [{ startTimecode: '00:00:01:00' }]), /inputClippings is not supported/],
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
  expect(args.join(' ')).toContain('-frames:v 500 -c:v mjpeg -q:v 8');
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

  test('each start at zero and are joined by the concat filter, audio too when every input has it', () => {
    const { plan } = planJob(withInputs(2));
    const spec = { inputPaths: ['/tmp/a', '/tmp/b'], frames: { output: plan.frameCaptures[0] }, video: { output: plan.videos[0], path: '/tmp/proxy.mp4' } };
    const withAudio = ffmpegArguments({ ...spec, inputsHaveAudio: true });
    expect(withAudio[withAudio.indexOf('-filter_complex') + 1]).toMatch(
      /^\[0:v:0\]setpts=PTS-STARTPTS\[v0\];\[1:v:0\]setpts=PTS-STARTPTS\[v1\];\[0:a:0\]asetpts=PTS-STARTPTS\[a0\];\[1:a:0\]asetpts=PTS-STARTPTS\[a1\];\[v0\]\[v1\]concat=n=2:v=1:a=0\[joined\];\[a0\]\[a1\]concat=n=2:v=0:a=1\[audio\];\[joined\]split=2/,
    );
    expect(withAudio.join(' ')).toContain('-map [video] -map [audio]');
    const silent = ffmpegArguments({ ...spec, inputsHaveAudio: false });
    expect(silent[silent.indexOf('-filter_complex') + 1]).toContain('[v0][v1]concat=n=2:v=1:a=0[joined];');
    expect(silent.join(' ')).not.toContain('[audio]');
  });
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
      { durationMs: 60_020, hasAudio: true, audioCodec: 'aac', video: { codec: 'h264', pixelFormat: 'yuv420p', colorRange: 'tv', width: 1280, height: 720, frameRate: 30 } },
    ],
    [
      '    Stream #0:0[0x1](und): Video: hevc (Main 10) (hvc1 / 0x31637668), yuv420p10le(tv, bt2020nc/bt2020/smpte2084), 3840x2160, 40000 kb/s, 29.97 fps, 29.97 tbr',
      { durationMs: 60_020, hasAudio: false, video: { codec: 'hevc', pixelFormat: 'yuv420p10le', colorRange: 'tv', width: 3840, height: 2160, frameRate: 29.97 } },
    ],
    [
      '    Stream #0:0: Video: mjpeg (Baseline), yuvj420p(pc, bt470bg/unknown/unknown), 1279x719, 25 tbr, 25 tbn',
      { durationMs: 60_020, hasAudio: false, video: { codec: 'mjpeg', pixelFormat: 'yuvj420p', colorRange: 'pc', width: 1279, height: 719, frameRate: undefined } },
    ],
    ['    Stream #0:0(und): Audio: aac (LC), 44100 Hz, stereo, fltp', { durationMs: 60_020, hasAudio: true, audioCodec: 'aac', video: undefined }],
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
