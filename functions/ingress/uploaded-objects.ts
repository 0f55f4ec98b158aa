import * as z from 'zod/mini';
import { PipelineError } from '../shared/errors';
import { ERROR_CODE } from '../../pipeline/job-record';

/** One uploaded object, as the events describe it, with its key still URL-encoded. */
export interface UploadedObject {
  readonly bucket: string;
  readonly encodedKey: string;
  readonly etag: string;
  readonly size: number;
  readonly sequencer: string;
  readonly versionId?: string;
}

const eventBridgeObjectCreated = z.object({
  source: z.literal('aws.s3'),
  'detail-type': z.literal('Object Created'),
  detail: z.object({
    bucket: z.object({ name: z.string().check(z.minLength(1)) }),
    object: z.object({
      key: z.string().check(z.minLength(1)),
      size: z.optional(z.number()),
      etag: z.string().check(z.minLength(1)),
      sequencer: z.string().check(z.minLength(1)),
      'version-id': z.optional(z.nullable(z.string())),
    }),
  }),
});

const s3NotificationRecords = z.object({
  Records: z.array(
    z.object({
      eventSource: z.literal('aws:s3'),
      eventName: z.string(),
      s3: z.object({
        bucket: z.object({ name: z.string().check(z.minLength(1)) }),
        object: z.object({
          key: z.string().check(z.minLength(1)),
          size: z.optional(z.number()),
          eTag: z.string().check(z.minLength(1)),
          sequencer: z.string().check(z.minLength(1)),
          versionId: z.optional(z.nullable(z.string())),
        }),
      }),
    }),
  ),
});

export class UnrecognisedEventError extends PipelineError {
  override readonly name = 'UnrecognisedEventError';

  constructor(message: string) {
    super(ERROR_CODE.unrecognisedEvent, message);
  }
}

/**
 * Reads the objects an event announces: an EventBridge "Object Created" event (how the stack wires
 * it) or classic S3 notification records (how the seed design wired it). Records of other kinds
 * (removals, restores) announce no upload and are skipped.
 */
export function uploadedObjectsOf(event: unknown): UploadedObject[] {
  const bridged = eventBridgeObjectCreated.safeParse(event);
  if (bridged.success) {
    const { bucket, object } = bridged.data.detail;
    return [
      {
        bucket: bucket.name,
        encodedKey: object.key,
        etag: object.etag,
        size: object.size ?? 0,
        sequencer: object.sequencer,
        versionId: object['version-id'] ?? undefined,
      },
    ];
  }
  const notification = s3NotificationRecords.safeParse(event);
  if (notification.success) {
    return notification.data.Records.filter((record) =>
      record.eventName.startsWith('ObjectCreated:'),
    ).map(({ s3 }) => ({
      bucket: s3.bucket.name,
      encodedKey: s3.object.key,
      etag: s3.object.eTag,
      size: s3.object.size ?? 0,
      sequencer: s3.object.sequencer,
      versionId: s3.object.versionId ?? undefined,
    }));
  }
  throw new UnrecognisedEventError(
    `Not an S3 "Object Created" event (EventBridge) or S3 notification: ${z.prettifyError(bridged.error)}`,
  );
}
