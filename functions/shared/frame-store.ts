import { GetObjectCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { errorName } from './errors';
import { captureIndexOf, frameIndexOf } from '../../pipeline/run-layout';

/** What a listing of one frame-capture output's captures shows. */
export interface FrameListing {
  /** Objects named exactly `<namePrefix>.NNNNNNN.jpg`. */
  readonly count: number;
  /** The first index the listing lacks (or holds twice), if the captures are not exactly 0..count-1. */
  readonly firstGap?: number;
}

/** Objects under a prefix named like a capture of any output (`<name>.NNNNNNN.jpg`). */
export interface StrayCaptures {
  readonly count: number;
  readonly firstKey?: string;
  /** The last in key order: for one output's captures, the highest index. */
  readonly lastKey?: string;
}

/** The frames bucket, as the completion function and the frame worker read it. */
export interface FrameStore {
  /**
   * Counts the captures named `<namePrefix>.NNNNNNN.jpg` with a paginated listing of `namePrefix`
   * (1,000 keys a page). Anything else the listing holds (the proxy MP4 MediaConvert may write
   * beside them, another base name or modifier) is not counted.
   */
  listFrames(bucket: string, namePrefix: string): Promise<FrameListing>;
  /** Counts objects under `prefix` named like a capture of any base name and modifier (paginated). */
  findCaptures(bucket: string, prefix: string): Promise<StrayCaptures>;
  /** A capture's bytes; undefined when it does not exist. */
  getFrame(bucket: string, key: string): Promise<Buffer | undefined>;
}

/** ListObjectsV2's largest page: 65,000 frames cost 65 calls. */
const LIST_PAGE_SIZE = 1000;

export class S3FrameStore implements FrameStore {
  constructor(private readonly s3: S3Client) {}

  async listFrames(bucket: string, namePrefix: string): Promise<FrameListing> {
    let count = 0;
    let firstGap: number | undefined;
    // Keys come back in UTF-8 binary order, which for one name prefix and 7-digit zero-padded
    // indices is index order, so capture n must be the n-th match: no key has to be kept in memory
    // to find a gap.
    for await (const key of this.keys(bucket, namePrefix)) {
      const index = captureIndexOf(key, namePrefix);
      if (index === undefined) continue;
      if (index !== count && firstGap === undefined) firstGap = Math.min(index, count);
      count += 1;
    }
    return firstGap === undefined ? { count } : { count, firstGap };
  }

  async findCaptures(bucket: string, prefix: string): Promise<StrayCaptures> {
    let count = 0;
    let firstKey: string | undefined;
    let lastKey: string | undefined;
    for await (const key of this.keys(bucket, prefix)) {
      if (frameIndexOf(key) === undefined) continue;
      firstKey ??= key;
      lastKey = key;
      count += 1;
    }
    return firstKey === undefined ? { count } : { count, firstKey, lastKey };
  }

  private async *keys(bucket: string, prefix: string): AsyncGenerator<string> {
    const pages = paginateListObjectsV2({ client: this.s3, pageSize: LIST_PAGE_SIZE }, { Bucket: bucket, Prefix: prefix });
    for await (const page of pages) {
      for (const object of page.Contents ?? []) if (object.Key !== undefined) yield object.Key;
    }
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
