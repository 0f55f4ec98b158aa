import type { AwsStub } from 'aws-sdk-client-mock';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

/**
 * S3 buckets in memory behind aws-sdk-client-mock, so the real adapters (the SDK's paginator,
 * lib-storage's Upload) run against them: PutObject, GetObject (NoSuchKey when absent), paged
 * ListObjectsV2 in key order, and multipart uploads.
 */
export class FakeBuckets {
  readonly objects = new Map<string, Buffer>();
  private readonly uploads = new Map<string, { key: string; parts: Map<number, Buffer> }>();

  constructor(s3: AwsStub<any, any, any>) {
    s3.on(PutObjectCommand).callsFake(async (input) => {
      this.objects.set(address(input.Bucket, input.Key), await bytesOf(input.Body));
      return { ETag: '"etag"' };
    });
    s3.on(GetObjectCommand).callsFake(async (input) => {
      const bytes = this.objects.get(address(input.Bucket, input.Key));
      if (!bytes) throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } });
      return {
        ContentLength: bytes.length,
        Body: {
          transformToByteArray: async () => new Uint8Array(bytes),
          transformToString: async () => bytes.toString('utf8'),
        },
      };
    });
    s3.on(ListObjectsV2Command).callsFake(async (input) => {
      const prefix = address(input.Bucket, input.Prefix ?? '');
      const keys = [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
      const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
      const pageSize = input.MaxKeys ?? 1000;
      const page = keys.slice(start, start + pageSize);
      const more = start + pageSize < keys.length;
      return {
        Contents: page.map((key) => ({ Key: key.slice(input.Bucket.length + 1) })),
        KeyCount: page.length,
        IsTruncated: more,
        ...(more ? { NextContinuationToken: String(start + pageSize) } : {}),
      };
    });
    s3.on(CreateMultipartUploadCommand).callsFake(async (input) => {
      const uploadId = `upload-${this.uploads.size + 1}`;
      this.uploads.set(uploadId, { key: address(input.Bucket, input.Key), parts: new Map() });
      return { UploadId: uploadId, Bucket: input.Bucket, Key: input.Key };
    });
    s3.on(UploadPartCommand).callsFake(async (input) => {
      this.uploads.get(input.UploadId)!.parts.set(input.PartNumber, await bytesOf(input.Body));
      return { ETag: `"part-${input.PartNumber}"` };
    });
    s3.on(CompleteMultipartUploadCommand).callsFake(async (input) => {
      const upload = this.uploads.get(input.UploadId)!;
      const parts = [...upload.parts.entries()].sort(([a], [b]) => a - b).map(([, bytes]) => bytes);
      this.objects.set(upload.key, Buffer.concat(parts));
      return { ETag: '"etag"' };
    });
    s3.on(AbortMultipartUploadCommand).callsFake(async (input) => {
      this.uploads.delete(input.UploadId);
      return {};
    });
  }

  put(bucket: string, key: string, body: string | Buffer): void {
    this.objects.set(address(bucket, key), Buffer.from(body));
  }

  text(bucket: string, key: string): string | undefined {
    return this.objects.get(address(bucket, key))?.toString('utf8');
  }

  keys(bucket: string, prefix = ''): string[] {
    const start = address(bucket, prefix);
    return [...this.objects.keys()].filter((key) => key.startsWith(start)).map((key) => key.slice(bucket.length + 1)).sort();
  }
}

const address = (bucket: string, key: string) => `${bucket}/${key}`;

async function bytesOf(body: unknown): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string' || body instanceof Uint8Array) return Buffer.from(body as string);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
