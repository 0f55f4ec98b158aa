import { captureStride, inputClippingOf, planSegments, singleJobCaptures, sourceFrameAtCapture, timecodeBase, timecodeOfFrame } from '../../pipeline/segment-plan';

const rate = (numerator: number, denominator = 1) => ({ numerator, denominator });
const base = { constantFrameRate: true, maxCaptures: 1_000_000, minSegmentSeconds: 60, maxSegments: 20 };

/**
 * What one job captures, frame by frame: capture i at i·b/a seconds shows the source frame on
 * screen then, floor(i·b/a · p/q). A plan is right when every segment, clipped to start at its
 * first source frame and capturing from there, shows the same frames for the same indices.
 */
function singleJobFrame(index: number, source: { numerator: number; denominator: number }, capture: { numerator: number; denominator: number }): bigint {
  return (BigInt(index) * BigInt(capture.denominator) * BigInt(source.numerator)) / (BigInt(capture.numerator) * BigInt(source.denominator));
}
function segmentFrame(local: number, firstSourceFrame: number, source: { numerator: number; denominator: number }, capture: { numerator: number; denominator: number }): bigint {
  // The clipped input starts at its first frame: local time 0 is that frame.
  return BigInt(firstSourceFrame) + singleJobFrame(local, source, capture);
}

describe('where cuts may fall', () => {
  it.each([
    ['30 fps captured at 5 fps: every capture (0.2 s)', rate(30), rate(5), 1],
    ['30 fps captured at 30 fps: every capture', rate(30), rate(30), 1],
    ['29.97 fps captured at 5 fps: every 1,001 captures', rate(30000, 1001), rate(5), 1001],
    ['29.97 fps captured at 29.97 fps: every capture', rate(30000, 1001), rate(30000, 1001), 1],
    ['25 fps captured at 2/3 fps', rate(25), rate(2, 3), 2],
    ['23.976 fps captured at 1 fps: every 1,001 captures', rate(24000, 1001), rate(1), 1001],
    ['24 fps captured at 5 fps: every 5 captures (1 s)', rate(24), rate(5), 5],
  ])('%s', (_, source, capture, stride) => {
    expect(captureStride(source, capture)).toBe(stride);
    // The stride's captures are exactly on a source frame, and nothing shorter is.
    expect(() => sourceFrameAtCapture(stride, source, capture)).not.toThrow();
    for (let shorter = 1; shorter < stride; shorter += 1) expect(() => sourceFrameAtCapture(shorter, source, capture)).toThrow(RangeError);
  });
});

describe('a plan captures exactly what one job would', () => {
  it.each([
    ['the seed’s GoPro case: 65,010 frames at 29.97 fps captured at 29.97', rate(30000, 1001), 65_010, rate(30000, 1001)],
    ['36 min at 30 fps captured at 5 fps', rate(30), 36 * 60 * 30, rate(5)],
    ['36 min at 29.97 fps captured at 5 fps', rate(30000, 1001), 64_800, rate(5)],
    ['an hour at 25 fps captured at 1 fps', rate(25), 90_000, rate(1)],
    ['10 min at 60 fps captured at 24 fps', rate(60), 36_000, rate(24)],
  ])('%s', (_, source, frames, capture) => {
    const plan = planSegments({ ...base, sourceRate: source, sourceFrames: frames, captureRate: capture });
    expect(plan.kind).toBe('segmented');
    if (plan.kind !== 'segmented') return;
    expect(plan.captures).toBe(singleJobCaptures({ sourceRate: source, sourceFrames: frames, captureRate: capture, maxCaptures: base.maxCaptures }));
    // The segments tile the captures and the source frames, in order, without gap or overlap.
    expect(plan.segments[0]).toMatchObject({ firstCapture: 0, firstSourceFrame: 0 });
    expect(plan.segments.at(-1)!.endSourceFrame).toBe(frames);
    expect(plan.segments.reduce((sum, segment) => sum + segment.captures, 0)).toBe(plan.captures);
    for (const [index, segment] of plan.segments.entries()) {
      const next = plan.segments[index + 1];
      if (next) {
        expect(next.firstCapture).toBe(segment.firstCapture + segment.captures);
        expect(next.firstSourceFrame).toBe(segment.endSourceFrame);
      }
      expect(segment.firstCapture % plan.captureStride).toBe(0);
      // Every capture of the segment shows the frame the single job shows for that index.
      for (const local of [0, 1, Math.floor(segment.captures / 2), segment.captures - 1]) {
        expect(segmentFrame(local, segment.firstSourceFrame, source, capture)).toBe(singleJobFrame(segment.firstCapture + local, source, capture));
      }
      // And a segment's job makes exactly its captures: its clipped duration at the capture rate.
      expect(singleJobCaptures({ sourceRate: source, sourceFrames: segment.endSourceFrame - segment.firstSourceFrame, captureRate: capture, maxCaptures: base.maxCaptures })).toBe(segment.captures);
    }
    expect(plan.segments.length).toBeLessThanOrEqual(base.maxSegments);
    expect(plan.segments.length).toBeGreaterThanOrEqual(2);
  });

  it('stops at MaxCaptures as one job would: the last segment ends capturing there', () => {
    const plan = planSegments({ ...base, sourceRate: rate(30), sourceFrames: 108_000, captureRate: rate(30), maxCaptures: 10_000 });
    expect(plan.captures).toBe(10_000);
    if (plan.kind !== 'segmented') throw new Error('expected segments');
    expect(plan.segments.reduce((sum, segment) => sum + segment.captures, 0)).toBe(10_000);
    expect(plan.segments.at(-1)!.firstCapture + plan.segments.at(-1)!.captures).toBe(10_000);
  });
});

describe('one job when segments cannot be cut well', () => {
  it('a variable frame rate', () => {
    expect(planSegments({ ...base, constantFrameRate: false, sourceRate: rate(30), sourceFrames: 108_000, captureRate: rate(5) })).toMatchObject({ kind: 'single', reason: expect.stringContaining('varies') });
  });

  it('a short video', () => {
    expect(planSegments({ ...base, sourceRate: rate(30), sourceFrames: 30 * 90, captureRate: rate(30) })).toMatchObject({ kind: 'single', captures: 2700, reason: expect.stringContaining('short') });
  });

  it('a grid that meets too rarely: 29.97 fps captured at 7 fps meets every 7,007 captures (1,001 s)', () => {
    expect(captureStride(rate(30000, 1001), rate(7))).toBe(7007);
    // 10 minutes: about 4,200 captures, and no cut instant inside them.
    expect(planSegments({ ...base, sourceRate: rate(30000, 1001), sourceFrames: 10 * 60 * 30, captureRate: rate(7) })).toMatchObject({ kind: 'single', reason: expect.stringContaining('every 7007 captures') });
    // 30 minutes: the one instant at 1,001 s makes two segments.
    const longer = planSegments({ ...base, sourceRate: rate(30000, 1001), sourceFrames: 30 * 60 * 30, captureRate: rate(7) });
    expect(longer.kind === 'segmented' && longer.segments.map((segment) => segment.firstCapture)).toEqual([0, 7007]);
  });

  it('a rate no timecode counts (12.5 fps, or 120 fps whose frame 119 has no two-digit FF): MediaConvert clips by HH:MM:SS:FF', () => {
    expect(timecodeBase(rate(25, 2))).toBeUndefined();
    expect(timecodeBase(rate(120))).toBeUndefined();
    expect(timecodeBase(rate(120000, 1001))).toBeUndefined();
    expect(planSegments({ ...base, sourceRate: rate(120), sourceFrames: 120 * 3600, captureRate: rate(1) })).toMatchObject({ kind: 'single' });
    expect(planSegments({ ...base, sourceRate: rate(25, 2), sourceFrames: 12.5 * 3600, captureRate: rate(25, 2) })).toMatchObject({ kind: 'single', reason: expect.stringContaining('no non-drop-frame timecode') });
  });

  it('an empty video', () => {
    expect(planSegments({ ...base, sourceRate: rate(30), sourceFrames: 0, captureRate: rate(30) })).toMatchObject({ kind: 'single', captures: 0 });
  });
});

describe('input clippings by non-drop-frame timecode', () => {
  it('counts whole-number rates in their own frames and NTSC rates in the nominal 24, 30 or 60', () => {
    expect([rate(25), rate(30), rate(24000, 1001), rate(30000, 1001), rate(60000, 1001), rate(50)].map(timecodeBase)).toEqual([25, 30, 24, 30, 60, 50]);
    expect(timecodeOfFrame(0, rate(30))).toBe('00:00:00:00');
    expect(timecodeOfFrame(29, rate(30))).toBe('00:00:00:29');
    expect(timecodeOfFrame(30 * 3661 + 7, rate(30))).toBe('01:01:01:07');
    // Non-drop-frame: frame 1,800 of 29.97 fps video is 00:01:00:00, 60.06 s into it.
    expect(timecodeOfFrame(1800, rate(30000, 1001))).toBe('00:01:00:00');
  });

  it("clips each segment from its first frame to its last (both inclusive); the last runs to the video's end", () => {
    const plan = planSegments({ ...base, sourceRate: rate(30), sourceFrames: 30 * 600, captureRate: rate(5), maxSegments: 4 });
    if (plan.kind !== 'segmented') throw new Error('expected segments');
    const clippings = plan.segments.map((segment) => inputClippingOf(segment, plan.segments.length, rate(30)));
    expect(clippings).toEqual([
      { StartTimecode: '00:00:00:00', EndTimecode: '00:02:29:29' },
      { StartTimecode: '00:02:30:00', EndTimecode: '00:04:59:29' },
      { StartTimecode: '00:05:00:00', EndTimecode: '00:07:29:29' },
      { StartTimecode: '00:07:30:00' },
    ]);
  });
});
