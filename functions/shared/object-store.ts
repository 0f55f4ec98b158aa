import { type Readable, Transform } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
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
  /**
   * Streams `body` into the object (multipart, a few parts in memory at a time); resolves with
   * the bytes written. A failed upload is aborted, so no partial object is ever left behind.
   */
  upload(bucket: string, key: string, body: Readable, contentType: string): Promise<number>;
  /** Bytes [start, end) of the object version that has `etag` (one ranged GET; the header probe's reads). */
  readRange(bucket: string, key: string, etag: string, start: number, end: number): Promise<Uint8Array>;
}

/** 8 MiB parts, two in flight: a 100 MB clip piece never holds more than about 16 MiB in memory. */
const UPLOAD_PART_BYTES = 8 * 1024 * 1024;
const UPLOAD_PARTS_IN_FLIGHT = 2;

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

  async upload(bucket: string, key: string, body: Readable, contentType: string): Promise<number> {
    let bytes = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    // A source that fails mid-stream must fail the upload, not end it early as if complete.
    body.once('error', (error) => counted.destroy(error));
    body.pipe(counted);
    await new Upload({
      client: this.s3,
      partSize: UPLOAD_PART_BYTES,
      queueSize: UPLOAD_PARTS_IN_FLIGHT,
      leavePartsOnError: false,
      params: { Bucket: bucket, Key: key, Body: counted, ContentType: contentType },
    }).done();
    return bytes;
  }

  async readRange(bucket: string, key: string, etag: string, start: number, end: number): Promise<Uint8Array> {
    const response = await this.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: quoteETag(etag), Range: `bytes=${start}-${end - 1}` }),
    );
    return response.Body ? response.Body.transformToByteArray() : new Uint8Array();
  }
}

function quoteETag(etag: string): string {
  return etag.startsWith('"') ? etag : `"${etag}"`;
}
