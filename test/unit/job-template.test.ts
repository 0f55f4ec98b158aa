import { TemplateError, renderTemplate } from '../../functions/shared/job-template';
import { frameCaptureSettings } from '../../functions/ingress/submit-job';
import template from '../../job-templates/frame-capture.json';
import { statusUpdateSecondsOf } from '../../local/mediaconvert/job-settings';

describe('renderTemplate', () => {
  it('replaces whole-value placeholders with typed values', () => {
    const template = { a: '{{name}}', list: [{ n: '{{count}}' }], fixed: 'text', flag: true };
    expect(renderTemplate(template, { name: 'x', count: 3 })).toEqual({
      a: 'x',
      list: [{ n: 3 }],
      fixed: 'text',
      flag: true,
    });
  });

  it('does not change the template it was given', () => {
    const template = { a: '{{name}}' };
    renderTemplate(template, { name: 'x' });
    expect(template).toEqual({ a: '{{name}}' });
  });

  it('refuses a placeholder without a value', () => {
    expect(() => renderTemplate({ a: { b: '{{missing}}' } }, {})).toThrow(
      new TemplateError('Template placeholder {{missing}} at $.a.b has no value'),
    );
  });

  it('refuses a value no placeholder uses', () => {
    expect(() => renderTemplate({ a: '{{x}}' }, { x: 1, y: 2 })).toThrow('no placeholder for: y');
  });

  it('refuses placeholders embedded in text, which would invite text substitution', () => {
    expect(() => renderTemplate({ a: 's3://{{bucket}}/x' }, { bucket: 'b' })).toThrow(
      'a placeholder must be the whole value',
    );
  });
});

describe('the frame-capture template', () => {
  const capture = { fps: { numerator: 30000, denominator: 1001 }, quality: 90, maxCaptures: 500 };
  const render = (key: string) =>
    frameCaptureSettings(
      [`s3://in-bucket/${key}`],
      capture,
      'frames-bucket',
      'clip-abc/run1/frames/',
      'clip-abc/run1/proxy/',
    );

  it('renders to settings whose input is exactly the key, quotes and backslashes included', () => {
    const key = 'odd/"quoted" \\back\\slash\' {{not}} $dt$.mp4';
    const settings = render(key);
    expect(settings.Inputs?.[0].FileInput).toBe(`s3://in-bucket/${key}`);
    // Valid JSON that reads back to the same settings: nothing leaked into the structure.
    expect(JSON.parse(JSON.stringify(settings))).toEqual(settings);
  });

  it('captures JPEG frames at the requested rate, quality and cap into the frames prefix', () => {
    const [frames, proxy] = render('clip.mp4').OutputGroups!;
    expect(frames.OutputGroupSettings?.FileGroupSettings?.Destination).toBe(
      's3://frames-bucket/clip-abc/run1/frames/frame',
    );
    expect(frames.Outputs).toHaveLength(1);
    expect(frames.Outputs?.[0].ContainerSettings?.Container).toBe('RAW');
    expect(frames.Outputs?.[0].VideoDescription?.CodecSettings).toEqual({
      Codec: 'FRAME_CAPTURE',
      FrameCaptureSettings: {
        FramerateNumerator: 30000,
        FramerateDenominator: 1001,
        MaxCaptures: 500,
        Quality: 90,
      },
    });
    // The proxy MP4 is in its own group and prefix, so the frames prefix holds JPEGs only.
    expect(proxy.OutputGroupSettings?.FileGroupSettings?.Destination).toBe(
      's3://frames-bucket/clip-abc/run1/proxy/proxy',
    );
    expect(proxy.Outputs?.[0].ContainerSettings?.Container).toBe('MP4');
    expect(proxy.Outputs?.[0].VideoDescription?.CodecSettings?.Codec).toBe('H_264');
  });

  it('asks MediaConvert for a STATUS_UPDATE every 10 s, its shortest interval, so progress moves on a deployed stack', () => {
    // MediaConvert's default is one a minute: a job of a few minutes would show 0% until it ends.
    expect(template.StatusUpdateInterval).toBe('SECONDS_10');
    expect(statusUpdateSecondsOf(template.StatusUpdateInterval)).toBe(10);
  });
});
