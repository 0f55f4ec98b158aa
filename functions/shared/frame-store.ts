import { GetObjectCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { errorName } from './errors';
import { frameIndexOf } from '../../pipeline/run-layout';

/** What a listing of a run's frames prefix shows. */
export interface FrameListing {
  /** Objects named like captures (`frame.NNNNNNN.jpg`). */
  readonly count: number;
  /** The first index the listing lacks (or holds twice), if the captures are not exactly 0..count-1. */
  readonly firstGap?: number;
}

/** The frames bucket, as the completion function and the frame worker read it. */
export interface FrameStore {
  /** Counts captures under a prefix with a paginated listing (1,000 keys a page). */
  listFrames(bucket: string, prefix: string): Promise<FrameListing>;
  /** A capture's bytes; undefined when it does not exist. */
  getFrame(bucket: string, key: string): Promise<Buffer | undefined>;
}

/** ListObjectsV2's largest page: 65,000 frames cost 65 calls. */
const LIST_PAGE_SIZE = 1000;

export class S3FrameStore implements FrameStore {
  constructor(private readonly s3: S3Client) {}

  async listFrames(bucket: string, prefix: string): Promise<FrameListing> {
    let count = 0;
    let firstGap: number | undefined;
    // Keys come back in UTF-8 binary order, which for 7-digit zero-padded indices is index order,
    // so capture n must be the n-th key: no key has to be kept in memory to find a gap.
    const pages = paginateListObjectsV2({ client: this.s3, pageSize: LIST_PAGE_SIZE }, { Bucket: bucket, Prefix: prefix });
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        const index = object.Key === undefined ? undefined : frameIndexOf(object.Key);
        if (index === undefined) continue;
        if (index !== count && firstGap === undefined) firstGap = Math.min(index, count);
        count += 1;
      }
    }
    return firstGap === undefined ? { count } : { count, firstGap };
  }

  async getFrame(bucket: string, key: string): Promise<Buffer | undefined> {
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!response.Body) return Buffer.alloc(0);
      return Buffer.from(await response.Body.transformToByteArray());
    } catch (error) {
      if (errorName(error) === 'NoSuchKey') return undefined;
      throw error;
    }
  }
}
