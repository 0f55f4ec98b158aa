import { jobStateChangedPattern, videoUploadedPattern } from '../../../pipeline/definition';
import { UnsupportedPatternError, matchesPattern } from '../../../local/event-pattern';
import { encodeS3EventKey, objectCreatedEvent } from '../../../local/s3-events';
import completeFixture from '../../fixtures/events/mediaconvert-complete.json';
import s3Fixture from '../../fixtures/events/s3-object-created-eventbridge.json';

const withKey = (bucket: string, key: string) => ({
  ...s3Fixture,
  detail: { ...s3Fixture.detail, bucket: { name: bucket }, object: { ...s3Fixture.detail.object, key } },
});

describe('the stack\'s own patterns, applied locally', () => {
  const uploaded = videoUploadedPattern('frames-ingress', ['.mp4', '.mov']);

  test.each([
    ['clip.mp4', true],
    ['CLIP.MP4', true],
    ['trips/day+1/clip.MoV', true],
    ['notes.txt', false],
    ['clip.mp4.part', false],
  ])('upload of %s matches: %s', (key, expected) => {
    expect(matchesPattern(withKey('frames-ingress', key), uploaded)).toBe(expected);
  });

  test('an upload to another bucket does not match', () => {
    expect(matchesPattern(withKey('someone-else', 'clip.mp4'), uploaded)).toBe(false);
  });

  test('job state events match on status and the pipeline marker only', () => {
    const pattern = jobStateChangedPattern('frames');
    const event = (status: string, pipeline?: string) => ({
      ...completeFixture,
      detail: { ...completeFixture.detail, status, userMetadata: pipeline ? { pipeline } : {} },
    });
    expect(matchesPattern(event('COMPLETE', 'frames'), pattern)).toBe(true);
    expect(matchesPattern(event('STATUS_UPDATE', 'frames'), pattern)).toBe(true);
    expect(matchesPattern(event('PROGRESSING', 'frames'), pattern)).toBe(false);
    expect(matchesPattern(event('COMPLETE', 'other-stack'), pattern)).toBe(false);
    expect(matchesPattern(event('COMPLETE'), pattern)).toBe(false);
    expect(matchesPattern({ ...event('COMPLETE', 'frames'), 'detail-type': 'Something Else' }, pattern)).toBe(false);
  });
});

describe('operators', () => {
  test.each([
    [{ a: [{ prefix: 'vid' }] }, { a: 'video' }, true],
    [{ a: [{ prefix: { 'equals-ignore-case': 'VID' } }] }, { a: 'video' }, true],
    [{ a: [{ 'anything-but': ['x', 'y'] }] }, { a: 'z' }, true],
    [{ a: [{ 'anything-but': ['x', 'y'] }] }, { a: 'x' }, false],
    [{ a: [{ exists: false }] }, {}, true],
    [{ a: [{ exists: true }] }, {}, false],
    [{ a: [{ numeric: ['>', 0, '<=', 5] }] }, { a: 5 }, true],
    [{ a: [{ numeric: ['>', 0, '<=', 5] }] }, { a: 6 }, false],
    [{ a: ['x'] }, { a: ['y', 'x'] }, true],
    [{ a: [3] }, { a: '3' }, false],
  ])('%j against %j: %s', (pattern, event, expected) => {
    expect(matchesPattern(event, pattern)).toBe(expected);
  });

  test('an operator the router does not implement is an error, not a silent non-match', () => {
    expect(() => matchesPattern({ a: '10.0.0.1' }, { a: [{ cidr: '10.0.0.0/24' }] })).toThrow(UnsupportedPatternError);
  });
});

describe('S3 events from the local S3 server', () => {
  test.each([
    ['my clip.mp4', 'my+clip.mp4'],
    ['a+b.mp4', 'a%2Bb.mp4'],
    ['100%.mp4', '100%25.mp4'],
    ['trips/day 1/(1).mp4', 'trips/day+1/%281%29.mp4'],
    ['café.mp4', 'caf%C3%A9.mp4'],
  ])('key %s is URL-encoded as S3 sends it: %s', (key, encoded) => {
    expect(encodeS3EventKey(key)).toBe(encoded);
    // What the ingress function does with it gives the key back.
    expect(decodeURIComponent(encoded.replace(/\+/g, ' '))).toBe(key);
  });

  test('a completed multipart upload becomes an Object Created event with its reason', () => {
    const event = objectCreatedEvent(
      {
        type: 'ObjectCreated',
        reason: 'CompleteMultipartUpload',
        time: '2026-11-21T00:00:00.000Z',
        bucket: 'frames-ingress',
        key: 'big one.mp4',
        size: 3,
        etag: 'abc-2',
        sequencer: '1A2B',
      },
      { region: 'us-east-1', account: '000000000000' },
    );
    expect(event).toMatchObject({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      resources: ['arn:aws:s3:::frames-ingress'],
      detail: { bucket: { name: 'frames-ingress' }, object: { key: 'big+one.mp4', etag: 'abc-2', sequencer: '1A2B', size: 3 }, reason: 'CompleteMultipartUpload' },
    });
  });

  test('removals are not creations', () => {
    const record = { type: 'ObjectRemoved', reason: 'Delete', time: '', bucket: 'b', key: 'k', size: 0, etag: '', sequencer: '1' } as const;
    expect(objectCreatedEvent(record, { region: 'r', account: 'a' })).toBeUndefined();
  });
});
