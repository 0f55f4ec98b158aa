import template from '../../../job-templates/frame-capture.json';
import { BadRequestError, frameCaptureKey, jpegQscaleFor, planJob } from '../../../local/mediaconvert/job-settings';
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
  expect(plan.input).toEqual({ bucket: 'frames-ingress', key: 'trips/clip one.mp4', uri: 's3://frames-ingress/trips/clip one.mp4' });
  expect(plan.frameCaptures).toEqual([
    expect.objectContaining({ bucket: 'frames-frames', prefix: 'run/frames/', baseName: 'frame', nameModifier: '', framerateNumerator: 30000, framerateDenominator: 1001, maxCaptures: 500, quality: 80 }),
  ]);
  expect(plan.videos).toEqual([expect.objectContaining({ bucket: 'frames-frames', prefix: 'run/proxy/', baseName: 'proxy', height: 360, maxBitrate: 1_000_000 })]);
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
  ['two inputs', (s: any) => s.inputs.push(s.inputs[0]), /exactly one input/],
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
    inputPath: '/tmp/in',
    frames: { output: plan.frameCaptures[0], directory: '/tmp/frames' },
    video: { output: plan.videos[0], path: '/tmp/proxy.mp4' },
  });
  expect(args.filter((arg) => arg === '-i')).toHaveLength(1);
  const graph = args[args.indexOf('-filter_complex') + 1];
  expect(graph).toBe('[0:v:0]split=2[s0][s1];[s0]fps=30000/1001:round=up[frames];[s1]scale=-2:360:flags=fast_bilinear[video]');
  expect(args).toEqual(expect.arrayContaining(['-frames:v', '500', '-q:v', '8', '-start_number', '0', '/tmp/frames/frame.%07d.jpg']));
});
