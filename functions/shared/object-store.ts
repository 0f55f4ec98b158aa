import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { httpStatusOf } from './errors';

/** What the pipeline needs to know about an uploaded object before it submits a job. */
export type ObjectHead =
  | { readonly state: 'present'; readonly size: number; readonly metadata: Record<string, string> }
  /** The key now holds a different object (a newer upload): its own event will start its run. */
  | { readonly state: 'replaced' }
  | { readonly state: 'missing' };

export interface ObjectStore {
  /** Reads size and user metadata of the object version that has `etag`. */
  head(bucket: string, key: string, etag: string): Promise<ObjectHead>;
}

export class S3ObjectStore implements ObjectStore {
  constructor(private readonly s3: S3Client) {}

  async head(bucket: string, key: string, etag: string): Promise<ObjectHead> {
    try {
      const response = await this.s3.send(
        // If-Match pins the version the event is about: a key overwritten since answers 412.
        new HeadObjectCommand({ Bucket: bucket, Key: key, IfMatch: quoteETag(etag) }),
      );
      return {
        state: 'present',
        size: response.ContentLength ?? 0,
        metadata: response.Metadata ?? {},
      };
    } catch (error) {
      // HEAD responses have no body, so the status is the reliable signal, not the error name.
      const status = httpStatusOf(error);
      if (status === 412) return { state: 'replaced' };
      if (status === 404) return { state: 'missing' };
      throw error;
    }
  }
}

function quoteETag(etag: string): string {
  return etag.startsWith('"') ? etag : `"${etag}"`;
}
