import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_STACK_CONFIG,
  InvalidStackConfigError,
  loadStackConfig,
  resolveStackConfig,
} from '../../pipeline/stack-config';

describe('resolveStackConfig', () => {
  it('gives the defaults when nothing is overridden', () => {
    expect(resolveStackConfig()).toEqual(DEFAULT_STACK_CONFIG);
  });

  it.each(['xn--video', 'sthree-frames', 'amzn-s3-demo-a'])('refuses the name prefix %s, which S3 reserves for bucket names', (namePrefix) => {
    expect(() => resolveStackConfig({ namePrefix })).toThrow(/namePrefix: must not start with xn--, sthree-, amzn-s3-demo-/);
  });

  it('accepts name prefixes that only resemble the reserved ones', () => {
    for (const namePrefix of ['xn-video', 'sthree', 'amzn-s3-demo']) expect(resolveStackConfig({ namePrefix }).namePrefix).toBe(namePrefix);
  });

  it('merges capture overrides field by field', () => {
    const config = resolveStackConfig({ capture: { quality: 95 } });
    expect(config.capture).toEqual({ ...DEFAULT_STACK_CONFIG.capture, quality: 95 });
  });

  it('names every bad field, with the same words the upload overrides use', () => {
    const attempt = () =>
      resolveStackConfig({
        namePrefix: 'Frames_Pipeline',
        capture: { fps: { numerator: 30, denominator: 0 }, quality: 0 },
        logRetentionDays: 10,
        videoSuffixes: ['mp4'],
        region: 'Ireland',
      });
    expect(attempt).toThrow(InvalidStackConfigError);
    expect(attempt).toThrow(/namePrefix: must be 2-20 characters/);
    expect(attempt).toThrow(/capture\.fps: fps "30\/0" has a zero denominator/);
    expect(attempt).toThrow(/capture\.quality:/);
    expect(attempt).toThrow(/logRetentionDays: must be one of CloudWatch's values/);
    expect(attempt).toThrow(/videoSuffixes\.0: must look like ".mp4"/);
    expect(attempt).toThrow(/region: must be an AWS region/);
  });

  it('refuses fields it does not know, so a typo is not silently ignored', () => {
    expect(() => resolveStackConfig({ framesRetentionDay: 3 } as never)).toThrow(/framesRetentionDay/);
  });
});

describe('loadStackConfig', () => {
  const directory = mkdtempSync(join(tmpdir(), 'frames-config-'));

  it('uses the defaults when the file does not exist', () => {
    expect(loadStackConfig(join(directory, 'absent.json'))).toEqual(DEFAULT_STACK_CONFIG);
  });

  it('applies the overrides of an existing file', () => {
    const path = join(directory, 'frames.config.json');
    writeFileSync(path, JSON.stringify({ namePrefix: 'dashcam', framesRetentionDays: 2 }));
    expect(loadStackConfig(path)).toMatchObject({ namePrefix: 'dashcam', framesRetentionDays: 2 });
  });

  it('says which file is broken', () => {
    const path = join(directory, 'broken.json');
    writeFileSync(path, '{ "namePrefix": ');
    expect(() => loadStackConfig(path)).toThrow(`${path} is not valid JSON`);
    writeFileSync(path, '[1]');
    expect(() => loadStackConfig(path)).toThrow('must hold a JSON object of overrides');
  });
});

describe('processing settings', () => {
  it('merge field by field and keep the default processor', () => {
    const config = resolveStackConfig({ processing: { maxConcurrency: 200 } });
    expect(config.processing).toEqual({ ...DEFAULT_STACK_CONFIG.processing, maxConcurrency: 200 });
  });

  it('name every bad field: a missing processor file, batches too small for the item limit, a timeout SQS cannot hide', () => {
    const attempt = () =>
      resolveStackConfig({ processing: { processor: 'processors/missing.ts', framesPerMessage: 10, workerTimeoutSeconds: 7200 } });
    expect(attempt).toThrow(/processing\.processor: no such file/);
    expect(attempt).toThrow(/processing\.framesPerMessage:/);
    expect(attempt).toThrow(/processing\.workerTimeoutSeconds:/);
  });
});
