import { RejectedInputError } from '../../functions/shared/errors';
import {
  assertUsableVideoKey,
  decodeEventKey,
  normalizeSequencer,
  runIdForUpload,
  storagePrefixForVideo,
  videoIdForKey,
} from '../../functions/ingress/video-key';

describe('video id from an event key', () => {
  it.each([
    ['drive.mp4', 'drive.mp4'],
    ['my+trip.mp4', 'my trip.mp4'],
    ['my%2Btrip.mp4', 'my+trip.mp4'],
    ['100%25+speed.mp4', '100% speed.mp4'],
    ['caf%C3%A9/%E6%97%A5%E6%9C%AC.mp4', 'café/日本.mp4'],
    ['2026/11/21/gopro/GX010001.MP4', '2026/11/21/gopro/GX010001.MP4'],
    ['%22quoted%22+%5Cback%5Cslash.mp4', '"quoted" \\back\\slash.mp4'],
  ])('decodes %p to the video id %p', (encoded, videoId) => {
    expect(videoIdForKey(decodeEventKey(encoded)!)).toBe(videoId);
  });

  it('gives different keys different ids, even when they differ only by encoding', () => {
    const ids = ['a b.mp4', 'a+b.mp4', 'a%20b.mp4'].map((key) => videoIdForKey(decodeEventKey(encodeURIComponent(key))!));
    expect(new Set(ids).size).toBe(3);
  });

  it('refuses text that is not valid URL encoding', () => {
    expect(decodeEventKey('100%.mp4')).toBeUndefined();
  });
});

describe('usable video keys', () => {
  it.each(['clip.mp4', 'root.MOV', 'a/b/c/clip.mp4', ' spaced name .mp4', '"q".mp4', '日本.mp4'])(
    'accepts %p',
    (key) => {
      expect(() => assertUsableVideoKey(key)).not.toThrow();
    },
  );

  it.each([
    ['.mp4', /no file name before its extension/],
    ['folder/.mp4', /no file name before its extension/],
    ['folder/   .mp4', /no file name before its extension/],
    ['clip', /no file name before its extension/],
    ['bad\nname.mp4', /control character/],
    ['tab\tname.mp4', /control character/],
  ])('rejects %p with INVALID_KEY and a way out', (key, why) => {
    let caught: unknown;
    try {
      assertUsableVideoKey(key);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RejectedInputError);
    expect(caught).toMatchObject({ code: 'INVALID_KEY' });
    expect((caught as Error).message).toMatch(why);
    expect((caught as Error).message).toMatch(/rename/);
  });
});

describe('storage prefix', () => {
  it('is a readable ASCII slug of the key plus a hash of it', () => {
    expect(storagePrefixForVideo('dashcam/2024 trip/GX010001.MP4')).toMatch(
      /^dashcam_2024_trip_GX010001\.MP4-[0-9a-f]{12}$/,
    );
  });

  it('keeps keys that slug alike apart', () => {
    expect(storagePrefixForVideo('a b.mp4')).not.toBe(storagePrefixForVideo('a_b.mp4'));
  });

  it('never carries characters MediaConvert or a consumer could misread', () => {
    for (const key of ['$dt$.mp4', '"q"\\.mp4', '日本.mp4', '../../x.mp4', '%41.mp4']) {
      expect(storagePrefixForVideo(key)).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(storagePrefixForVideo(key)).not.toMatch(/^[._-]/);
    }
  });
});

describe('runs and sequencers', () => {
  it('gives a redelivered upload the same run and a re-upload a new one', () => {
    const first = runIdForUpload('bucket', 'clip.mp4', '0055AED6DCD90281E5');
    expect(runIdForUpload('bucket', 'clip.mp4', '0055AED6DCD90281E5')).toBe(first);
    expect(runIdForUpload('bucket', 'clip.mp4', '0055AED6DCD90281E6')).not.toBe(first);
    expect(first).toMatch(/^[0-9a-f]{20}$/);
  });

  it('orders sequencers of different lengths the way S3 documents (right-padded)', () => {
    const earlier = normalizeSequencer('0055AED6DCD90281E5');
    const later = normalizeSequencer('0055AED6DCD90281E6');
    const longerLater = normalizeSequencer('0055AED6DCD90281E501');
    expect(earlier < later).toBe(true);
    expect(earlier < longerLater).toBe(true);
    expect(normalizeSequencer('617f08299329d189')).toBe(normalizeSequencer('617F08299329D189'));
  });
});
