import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { errorName } from './errors';

/** Where per-batch results are kept and where the fan-in writes a run's results. */
export interface ResultsStore {
  putText(bucket: string, key: string, text: string, contentType: string): Promise<void>;
  /** The object's text; undefined when it does not exist. */
  getText(bucket: string, key: string): Promise<string | undefined>;
  /**
   * Writes an object of unknown, possibly large size from chunks as they come (multipart, 5 MiB
   * parts), so a 1,000,000-line results file never sits in memory whole.
   */
  putStream(bucket: string, key: string, chunks: AsyncIterable<string>, contentType: string): Promise<void>;
}

export class S3ResultsStore implements ResultsStore {
  constructor(private readonly s3: S3Client) {}

  async putText(bucket: string, key: string, text: string, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: contentType }));
  }

  async getText(bucket: string, key: string): Promise<string | undefined> {
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await response.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      if (errorName(error) === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async putStream(
    bucket: string,
    key: string,
    chunks: AsyncIterable<string>,
    contentType: string,
  ): Promise<void> {
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: bucket, Key: key, Body: Readable.from(chunks), ContentType: contentType },
      // lib-storage aborts the multipart upload itself when a part fails.
      leavePartsOnError: false,
    });
    await upload.done();
  }
}
