import { batchCountOf, frameBatchMessages } from '../../functions/completion/frame-batches';
import { storagePrefixForVideo } from '../../functions/ingress/video-key';
import { MAX_FRAME_MESSAGE_BYTES } from '../../pipeline/frame-message';
import { frameIndexOf, frameKey, frameTimestampMs, runLayout } from '../../pipeline/run-layout';

describe('frame naming', () => {
  it('names captures as MediaConvert does, 7 digits, 0-based, and reads the index back', () => {
    expect(frameKey('v/run/frames/', 0)).toBe('v/run/frames/frame.0000000.jpg');
    expect(frameIndexOf('s3://bucket/v/run/frames/frame.0000036.jpg')).toBe(36);
    expect(frameIndexOf('v/run/proxy/proxy.mp4')).toBeUndefined();
    expect(frameIndexOf('v/run/frames/frame.36.jpg')).toBeUndefined();
  });

  it('times captures from the first frame, one every denominator/numerator seconds', () => {
    expect(frameTimestampMs(0, { numerator: 30000, denominator: 1001 })).toBe(0);
    expect(frameTimestampMs(30, { numerator: 30000, denominator: 1001 })).toBe(1001);
    expect(frameTimestampMs(3, { numerator: 1, denominator: 2 })).toBe(6000);
  });

  it('keeps every object of a run under its run prefix', () => {
    const layout = runLayout('clip-0123456789ab/run1');
    expect(layout.batchResultsKey(12)).toBe('clip-0123456789ab/run1/batches/batch.000012.jsonl');
    expect(layout.resultsKey).toBe('clip-0123456789ab/run1/results.jsonl');
  });
});

describe('frameBatchMessages', () => {
  const plan = {
    videoId: 'v.mp4',
    runId: 'run1',
    bucket: 'frames',
    captureNamePrefix: 'v-0123456789ab/run1/frames/frame',
    fps: { numerator: 1, denominator: 1 },
  };

  it('covers every frame exactly once, in batches of the configured size', () => {
    const messages = [...frameBatchMessages({ ...plan, totalFrames: 65_000, framesPerBatch: 100 })];

    expect(messages).toHaveLength(650);
    expect(batchCountOf(65_000, 100)).toBe(650);
    expect(messages.flatMap((message) => message.frames.map((frame) => frame.index))).toEqual(
      Array.from({ length: 65_000 }, (_, index) => index),
    );
    expect(messages.map((message) => message.batch)).toEqual(Array.from({ length: 650 }, (_, batch) => batch));
  });

  it('stays under 256 KiB with the longest keys and the largest batches allowed', () => {
    const longest = storagePrefixForVideo(`${'x'.repeat(1000)}.mp4`);
    const [message] = frameBatchMessages({
      ...plan,
      videoId: 'v'.repeat(1024),
      captureNamePrefix: `${longest}/${'f'.repeat(20)}/frames/frame`,
      totalFrames: 1_000_000,
      framesPerBatch: 1000,
    });
    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThan(MAX_FRAME_MESSAGE_BYTES);
  });

  it('refuses to build a message SQS would refuse', () => {
    const huge = frameBatchMessages({ ...plan, captureNamePrefix: `${'p'.repeat(2000)}/frame`, totalFrames: 1000, framesPerBatch: 1000 });
    expect(() => [...huge]).toThrow(/over the 262144-byte message limit; lower processing.framesPerMessage/);
  });
});
