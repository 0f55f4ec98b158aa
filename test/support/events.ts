import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The AWS event shapes in test/fixtures/events (documented examples), read fresh for every call. */
export function fixture<T = Record<string, any>>(name: string): T {
  const path = join(__dirname, '..', 'fixtures', 'events', `${name}.json`);
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export interface ObjectCreatedOptions {
  bucket?: string;
  /** As S3 sends it: URL-encoded, `+` for a space. */
  key?: string;
  etag?: string;
  size?: number;
  sequencer?: string;
  reason?: string;
}

/** An EventBridge "Object Created" event built on the documented fixture. */
export function objectCreatedEvent(options: ObjectCreatedOptions = {}) {
  const event = fixture('s3-object-created-eventbridge');
  event.detail.bucket.name = options.bucket ?? 'ingress-bucket';
  Object.assign(event.detail.object, {
    key: options.key ?? 'videos/drive.mp4',
    etag: options.etag ?? 'b1946ac92492d2347c6235b4d2611184',
    size: options.size ?? 1024,
    sequencer: options.sequencer ?? '617f08299329d189',
  });
  event.detail.reason = options.reason ?? 'PutObject';
  return event;
}

/** Classic S3 notification records, as the seed design wired S3 to Lambda. */
export function s3NotificationEvent(objects: ObjectCreatedOptions[], eventName = 'ObjectCreated:Put') {
  return {
    Records: objects.map((options) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-west-2',
      eventTime: '2026-11-21T00:00:00.000Z',
      eventName,
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: options.bucket ?? 'ingress-bucket', arn: 'arn:aws:s3:::ingress-bucket' },
        object: {
          key: options.key ?? 'videos/drive.mp4',
          size: options.size ?? 1024,
          eTag: options.etag ?? 'b1946ac92492d2347c6235b4d2611184',
          sequencer: options.sequencer ?? '617f08299329d189',
        },
      },
    })),
  };
}
