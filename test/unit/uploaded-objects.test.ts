import { UnrecognisedEventError, uploadedObjectsOf } from '../../functions/ingress/uploaded-objects';
import { fixture, objectCreatedEvent, s3NotificationEvent } from '../support/events';

describe('uploadedObjectsOf', () => {
  it('reads the documented EventBridge Object Created event', () => {
    expect(uploadedObjectsOf(fixture('s3-object-created-eventbridge'))).toEqual([
      {
        bucket: 'example-bucket',
        encodedKey: 'example-key',
        etag: 'b1946ac92492d2347c6235b4d2611184',
        size: 5,
        sequencer: '617f08299329d189',
        versionId: 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
      },
    ]);
  });

  it('reads a multipart upload the same way as a put', () => {
    const [object] = uploadedObjectsOf(objectCreatedEvent({ reason: 'CompleteMultipartUpload', etag: 'abc-12' }));
    expect(object.etag).toBe('abc-12');
  });

  it('reads every created object of classic S3 notification records, keys still encoded', () => {
    const objects = uploadedObjectsOf(
      s3NotificationEvent([{ key: 'a+b.mp4', sequencer: '01' }, { key: 'c.mp4', sequencer: '02' }]),
    );
    expect(objects.map((object) => [object.encodedKey, object.sequencer])).toEqual([
      ['a+b.mp4', '01'],
      ['c.mp4', '02'],
    ]);
  });

  it('skips records that announce no upload', () => {
    expect(uploadedObjectsOf(s3NotificationEvent([{}], 'ObjectRemoved:Delete'))).toEqual([]);
  });

  it.each([
    ['a MediaConvert event', fixture('mediaconvert-complete')],
    ['an event without a sequencer', (() => { const e = objectCreatedEvent(); delete e.detail.object.sequencer; return e; })()],
    ['nothing', undefined],
    ['a string', 'hello'],
  ])('refuses %s with a message naming what it expected', (_, event) => {
    expect(() => uploadedObjectsOf(event)).toThrow(UnrecognisedEventError);
    expect(() => uploadedObjectsOf(event)).toThrow(/Not an S3 "Object Created" event/);
  });
});
