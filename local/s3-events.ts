import { randomUUID } from 'node:crypto';
import type { ObjectEvent } from './s3/object-store';

/**
 * Encodes a key the way S3 writes it into event notifications: form-URL-encoding with `+` for a
 * space, `/` left as is. The ingress function decodes as for real S3, so local mode must encode
 * exactly as S3 does or keys with spaces, `+` or `%` would diverge.
 */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/')
    .replace(/[!'()]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** EventBridge's `reason` for each way an object is created. */
const REASONS: Record<string, string> = { Put: 'PutObject', CompleteMultipartUpload: 'CompleteMultipartUpload', Copy: 'CopyObject' };

/**
 * The EventBridge "Object Created" event S3 sends for a bucket with EventBridge notifications on
 * (the ingress bucket), from a local S3 server event; undefined for events that are not creations.
 */
export function objectCreatedEvent(event: ObjectEvent, identity: { region: string; account: string }) {
  if (event.type !== 'ObjectCreated') return undefined;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: identity.account,
    time: event.time,
    region: identity.region,
    resources: [`arn:aws:s3:::${event.bucket}`],
    detail: {
      version: '0',
      bucket: { name: event.bucket },
      object: { key: encodeS3EventKey(event.key), size: event.size, etag: event.etag, sequencer: event.sequencer },
      'request-id': randomUUID(),
      requester: identity.account,
      'source-ip-address': '127.0.0.1',
      reason: REASONS[event.reason],
    },
  };
}
