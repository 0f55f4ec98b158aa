import { randomUUID } from 'node:crypto';
import type { S3rverRecord } from './s3-server';

/**
 * Encodes a key the way S3 writes it into event notifications: form-URL-encoding with `+` for a
 * space, `/` left as is. s3rver emits raw keys; the ingress function decodes as for real S3, so
 * local mode must encode exactly as S3 does or keys with spaces, `+` or `%` would diverge.
 */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/')
    .replace(/[!'()]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** s3rver names a completed multipart upload `ObjectCreated:Post`; S3 says CompleteMultipartUpload. */
const REASONS: Record<string, string> = {
  'ObjectCreated:Put': 'PutObject',
  'ObjectCreated:Post': 'CompleteMultipartUpload',
  'ObjectCreated:Copy': 'CopyObject',
  'ObjectCreated:CompleteMultipartUpload': 'CompleteMultipartUpload',
};

/**
 * The EventBridge "Object Created" event S3 sends for a bucket with EventBridge notifications on
 * (the ingress bucket), from an s3rver record; undefined for records that are not object creations.
 */
export function objectCreatedEvent(record: S3rverRecord, identity: { region: string; account: string }) {
  if (!record.eventName.startsWith('ObjectCreated:')) return undefined;
  const { bucket, object } = record.s3;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: identity.account,
    time: record.eventTime ?? new Date().toISOString(),
    region: identity.region,
    resources: [`arn:aws:s3:::${bucket.name}`],
    detail: {
      version: '0',
      bucket: { name: bucket.name },
      object: {
        key: encodeS3EventKey(object.key),
        size: object.size ?? 0,
        etag: object.eTag ?? '',
        sequencer: object.sequencer,
      },
      'request-id': randomUUID(),
      requester: identity.account,
      'source-ip-address': '127.0.0.1',
      reason: REASONS[record.eventName] ?? 'PutObject',
    },
  };
}
