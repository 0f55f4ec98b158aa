import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * The local S3 server's storage: each object's bytes in a file of its own under
 * `<directory>/<bucket>/data/`, named at random (so a key never becomes a path, whatever it holds,
 * and an overwrite never exposes a half-written file), and the bucket's index (key → size, ETag,
 * metadata) in memory, journaled to `<bucket>/journal.jsonl` so it survives a restart. Only the
 * index is in memory: a 65,000-frame video costs about 25 MB of it, its frames stay on disk.
 * Fields added to the record since (stored headers, part sizes) are optional, so every journal an
 * earlier version wrote loads as it was.
 */

export interface ObjectRecord {
  readonly key: string;
  readonly size: number;
  /** Quoted, as S3 returns it: `"<md5 hex>"`, or `"<md5 of part md5s>-<parts>"` for multipart. */
  readonly etag: string;
  readonly lastModified: string;
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * The other headers S3 stores with an object and returns with it (cache-control,
   * content-disposition, content-encoding, content-language, expires); absent when none were given
   * (and in journal lines written before they were kept).
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** Each part's size, for an object a multipart upload completed (absent in older journal lines). */
  readonly parts?: readonly number[];
  /** Data file, relative to the bucket's data directory. */
  readonly file: string;
}

export interface ObjectEvent {
  readonly type: 'ObjectCreated' | 'ObjectRemoved';
  /** S3's event name suffix: Put, CompleteMultipartUpload, Copy, Delete. */
  readonly reason: 'Put' | 'CompleteMultipartUpload' | 'Copy' | 'Delete';
  readonly bucket: string;
  /** The key as stored (not URL-encoded). */
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly sequencer: string;
  readonly time: string;
}

/** An S3 error: code and status as S3 answers them, and a message a person can act on. */
export class S3Error extends Error {
  override readonly name = 'S3Error';
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly resource?: string,
    /** Headers S3 sends with this error (Content-Range on a 416, say). */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}

export const noSuchBucket = (bucket: string) => new S3Error('NoSuchBucket', 404, `The bucket ${bucket} does not exist`, bucket);
export const noSuchKey = (key: string) => new S3Error('NoSuchKey', 404, `The key ${key} does not exist`, key);
const noSuchUpload = (uploadId: string) =>
  new S3Error('NoSuchUpload', 404, `The multipart upload ${uploadId} does not exist: it was completed, aborted or never created`, uploadId);
export const preconditionFailed = (condition: string) =>
  new S3Error('PreconditionFailed', 412, `At least one of the pre-conditions you specified did not hold (${condition})`);

/** The smallest part S3 accepts in a completed multipart upload, except for the last one. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

/**
 * A conditional write's preconditions (S3's If-Match and If-None-Match on PutObject, CopyObject and
 * CompleteMultipartUpload). They are checked before the body is read, and again when the object
 * is committed: a write that changed the key in between makes this one fail with 409
 * ConditionalRequestConflict, as S3 answers, and never overwrites it.
 */
export interface WritePrecondition {
  /** `*` (the key exists) or an ETag, quoted or not. */
  readonly ifMatch?: string;
  /** `*` (the key does not exist) or an ETag the current object must not have. */
  readonly ifNoneMatch?: string;
}

const unquote = (etag: string) => (etag.length > 1 && etag.startsWith('"') && etag.endsWith('"') ? etag.slice(1, -1) : etag);

/** True when `header` (an If-Match / If-None-Match list: `*`, or ETags, quoted or weak) names `etag`. */
export function etagMatches(header: string, etag: string): boolean {
  const bare = unquote(etag);
  for (const candidate of header.split(',')) {
    const trimmed = candidate.trim();
    if (trimmed === '*' || unquote(trimmed.startsWith('W/') ? trimmed.slice(2) : trimmed) === bare) return true;
  }
  return false;
}

/** Throws as S3 does when a write's precondition does not hold against `current` (undefined: no object). */
export function checkWritePrecondition(key: string, current: ObjectRecord | undefined, precondition: WritePrecondition | undefined): void {
  if (!precondition) return;
  if (precondition.ifMatch !== undefined) {
    if (!current) throw noSuchKey(key);
    if (!etagMatches(precondition.ifMatch, current.etag)) throw preconditionFailed('If-Match');
  }
  if (precondition.ifNoneMatch !== undefined && current && etagMatches(precondition.ifNoneMatch, current.etag)) {
    throw preconditionFailed('If-None-Match');
  }
}

export interface WriteOptions {
  readonly contentType?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  /** Stored headers returned with the object (see ObjectRecord.headers). */
  readonly headers?: Readonly<Record<string, string>>;
  /** A SHA-256 (hex) the body must have: the signed payload hash. */
  readonly sha256?: string;
  /** A Content-MD5 (base64) the body must have. */
  readonly md5Base64?: string;
  /** Checked again, atomically, as the object is committed (see WritePrecondition). */
  readonly precondition?: WritePrecondition;
}

/** What a copy takes from the request instead of the source (CopyObject with REPLACE). */
export interface CopyReplacement {
  readonly contentType?: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface UploadSummary {
  readonly key: string;
  readonly uploadId: string;
  readonly initiated: string;
}

export interface PartSummary {
  readonly partNumber: number;
  readonly etag: string;
  readonly size: number;
  readonly lastModified: string;
}

export interface ListOptions {
  readonly prefix?: string;
  readonly delimiter?: string;
  /** Keys after this one (ListObjectsV2 StartAfter, V1 Marker). */
  readonly after?: string;
  /** Also skip every key under this common prefix (a page that ended on it). */
  readonly afterPrefix?: boolean;
  readonly maxKeys: number;
}

export interface ListResult {
  readonly contents: ObjectRecord[];
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
  /** The last key or common prefix returned, for the next page. */
  readonly last?: { readonly value: string; readonly isPrefix: boolean };
}

interface UploadedPart {
  readonly etag: string;
  readonly size: number;
  readonly md5: Buffer;
  /** File name in the upload's directory: each upload of a part number writes a file of its own. */
  readonly file: string;
  readonly lastModified: string;
}

interface MultipartUpload {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly initiated: string;
  readonly parts: Map<number, UploadedPart>;
}

/** An upload completed recently: completing it again answers as the first time did (S3 does). */
interface CompletedUpload {
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
}
const REMEMBERED_COMPLETIONS = 1000;

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const JOURNAL = 'journal.jsonl';
const UPLOADS = '.uploads';

type JournalLine = { readonly put: ObjectRecord } | { readonly delete: string };

class Bucket {
  readonly objects = new Map<string, ObjectRecord>();
  /** The keys in S3's listing order, rebuilt lazily after an out-of-order insert or a delete. */
  private ordered: string[] = [];
  private orderedValid = true;
  journal!: WriteStream;

  constructor(
    readonly name: string,
    readonly directory: string,
    readonly created: string,
  ) {}

  get dataDirectory(): string {
    return join(this.directory, 'data');
  }

  /** Fills the index from the journal, without journaling again. */
  load(records: Iterable<ObjectRecord>): void {
    for (const record of records) this.objects.set(record.key, record);
    this.orderedValid = false;
  }

  set(record: ObjectRecord): ObjectRecord | undefined {
    const previous = this.objects.get(record.key);
    this.objects.set(record.key, record);
    if (!previous && this.orderedValid) {
      // Frames arrive in key order, so the common case appends.
      const last = this.ordered.at(-1);
      if (last === undefined || last < record.key) this.ordered.push(record.key);
      else this.orderedValid = false;
    }
    this.journal.write(`${JSON.stringify({ put: record } satisfies JournalLine)}\n`);
    return previous;
  }

  delete(key: string): ObjectRecord | undefined {
    const previous = this.objects.get(key);
    if (previous) {
      this.objects.delete(key);
      this.orderedValid = false;
      this.journal.write(`${JSON.stringify({ delete: key } satisfies JournalLine)}\n`);
    }
    return previous;
  }

  /**
   * Sorted keys. JavaScript compares UTF-16 code units where S3 compares UTF-8 bytes: the two
   * orders differ only between astral characters and U+E000..U+FFFF, which keys rarely mix.
   */
  keys(): string[] {
    if (!this.orderedValid) {
      this.ordered = [...this.objects.keys()].sort();
      this.orderedValid = true;
    }
    return this.ordered;
  }
}

/** First index in sorted `keys` whose key is greater than `after` (or ≥ `from`). */
function lowerBound(keys: readonly string[], value: string, inclusive: boolean): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (keys[middle] < value || (!inclusive && keys[middle] === value)) low = middle + 1;
    else high = middle;
  }
  return low;
}

export class ObjectStore {
  private readonly buckets = new Map<string, Bucket>();
  private readonly uploads = new Map<string, MultipartUpload>();
  private readonly completed = new Map<string, CompletedUpload>();
  /** Buckets being created, so two concurrent creations of one name cannot both succeed. */
  private readonly creating = new Set<string>();
  private sequence = 0;

  private constructor(
    private readonly directory: string,
    private readonly onEvent: (event: ObjectEvent) => void,
  ) {}

  /** Opens the store under `directory`, reloading its buckets, and creates `buckets` if missing. */
  static async open(directory: string, buckets: readonly string[], onEvent: (event: ObjectEvent) => void = () => undefined): Promise<ObjectStore> {
    const store = new ObjectStore(directory, onEvent);
    await mkdir(directory, { recursive: true });
    // Unfinished multipart uploads do not survive a restart (their state is in memory).
    await rm(join(directory, UPLOADS), { recursive: true, force: true });
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      if (entry.isDirectory() && !entry.name.startsWith('.')) await store.loadBucket(entry.name);
    }
    for (const name of buckets) if (!store.buckets.has(name)) await store.createBucket(name);
    return store;
  }

  async close(): Promise<void> {
    await Promise.all([...this.buckets.values()].map((bucket) => new Promise<void>((resolve) => bucket.journal.end(resolve))));
  }

  private async loadBucket(name: string): Promise<void> {
    const directory = join(this.directory, name);
    const bucket = new Bucket(name, directory, (await stat(directory)).birthtime.toISOString());
    const journalPath = join(directory, JOURNAL);
    const text = await readFile(journalPath, 'utf8').catch(() => '');
    const live = new Map<string, ObjectRecord>();
    for (const line of text.split('\n')) {
      if (!line) continue;
      let entry: JournalLine;
      try {
        entry = JSON.parse(line) as JournalLine;
      } catch {
        continue; // A line cut short by a crash: that write was never acknowledged as durable.
      }
      if ('put' in entry) live.set(entry.put.key, entry.put);
      else live.delete(entry.delete);
    }
    // Compact the journal to the live records, and drop data files no record points at (left by
    // a crash between writing an object and journaling it, or by an overwrite's old copy).
    const compacted = [...live.values()].map((record) => `${JSON.stringify({ put: record })}\n`).join('');
    await writeFile(`${journalPath}.tmp`, compacted);
    await rename(`${journalPath}.tmp`, journalPath);
    const referenced = new Set([...live.values()].map((record) => record.file));
    await Promise.all(SHARDS.map((shard) => mkdir(join(bucket.dataDirectory, shard), { recursive: true })));
    for (const shard of await readdir(bucket.dataDirectory)) {
      for (const file of await readdir(join(bucket.dataDirectory, shard))) {
        if (!referenced.has(`${shard}/${file}`)) await rm(join(bucket.dataDirectory, shard, file), { force: true });
      }
    }
    bucket.journal = createWriteStream(journalPath, { flags: 'a' });
    bucket.load(live.values());
    this.buckets.set(name, bucket);
  }

  listBuckets(): Array<{ name: string; created: string }> {
    return [...this.buckets.values()].map(({ name, created }) => ({ name, created })).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  async createBucket(name: string): Promise<void> {
    validateBucketName(name);
    if (this.buckets.has(name) || this.creating.has(name)) throw new S3Error('BucketAlreadyOwnedByYou', 409, `You already own the bucket ${name}`, name);
    this.creating.add(name);
    try {
      const directory = join(this.directory, name);
      await mkdir(join(directory, 'data'), { recursive: true });
      await writeFile(join(directory, JOURNAL), '', { flag: 'a' });
      await this.loadBucket(name);
    } finally {
      this.creating.delete(name);
    }
  }

  async deleteBucket(name: string): Promise<void> {
    const bucket = this.bucket(name);
    if (bucket.objects.size > 0) throw new S3Error('BucketNotEmpty', 409, `The bucket ${name} is not empty`, name);
    this.buckets.delete(name);
    // S3 discards the bucket's unfinished multipart uploads with it.
    for (const [uploadId, upload] of this.uploads) {
      if (upload.bucket === name) {
        this.uploads.delete(uploadId);
        await rm(this.uploadDirectory(uploadId), { recursive: true, force: true });
      }
    }
    await new Promise<void>((resolve) => bucket.journal.end(resolve));
    await rm(bucket.directory, { recursive: true, force: true });
  }

  bucket(name: string): Bucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw noSuchBucket(name);
    return bucket;
  }

  head(bucketName: string, key: string): ObjectRecord {
    const record = this.bucket(bucketName).objects.get(key);
    if (!record) throw noSuchKey(key);
    return record;
  }

  /** The current record of a key, or undefined (the bucket must exist). */
  find(bucketName: string, key: string): ObjectRecord | undefined {
    return this.bucket(bucketName).objects.get(key);
  }

  /** The object's bytes, `start` to `end` inclusive. */
  read(bucketName: string, record: ObjectRecord, range?: { start: number; end: number }): Readable {
    return createReadStream(join(this.bucket(bucketName).dataDirectory, record.file), range);
  }

  async put(bucketName: string, key: string, body: Readable | Buffer, options: WriteOptions = {}): Promise<ObjectRecord> {
    const bucket = this.bucket(bucketName);
    validateKey(key);
    checkWritePrecondition(key, bucket.objects.get(key), options.precondition);
    const written = await this.writeData(bucket, body, options);
    return this.commit(bucket, {
      key,
      size: written.size,
      etag: `"${written.md5.toString('hex')}"`,
      lastModified: new Date().toISOString(),
      contentType: options.contentType || DEFAULT_CONTENT_TYPE,
      metadata: options.metadata ?? {},
      ...(options.headers && Object.keys(options.headers).length ? { headers: options.headers } : {}),
      file: written.file,
    }, 'Put', options.precondition);
  }

  /**
   * Copies `source` (a record of `sourceBucket`, as the caller checked it) to `target`: a new object
   * with the source's bytes and a fresh ETag (S3's CopyObject makes a single-part object), with the
   * source's type, metadata and headers unless `replace` gives others.
   */
  async copy(
    sourceBucket: string,
    source: ObjectRecord,
    target: { bucket: string; key: string },
    options: { replace?: CopyReplacement; precondition?: WritePrecondition } = {},
  ): Promise<ObjectRecord> {
    const bucket = this.bucket(target.bucket);
    validateKey(target.key);
    checkWritePrecondition(target.key, bucket.objects.get(target.key), options.precondition);
    const written = await this.writeData(bucket, this.read(sourceBucket, source), {});
    const replace = options.replace;
    const headers = replace ? replace.headers : source.headers;
    return this.commit(bucket, {
      key: target.key,
      size: written.size,
      etag: `"${written.md5.toString('hex')}"`,
      lastModified: new Date().toISOString(),
      contentType: replace ? replace.contentType || DEFAULT_CONTENT_TYPE : source.contentType,
      metadata: replace ? replace.metadata : source.metadata,
      ...(headers && Object.keys(headers).length ? { headers } : {}),
      file: written.file,
    }, 'Copy', options.precondition);
  }

  /** Deletes a key; returns whether it was there (S3 answers 204 either way). */
  async delete(bucketName: string, key: string, ifMatch?: string): Promise<boolean> {
    const bucket = this.bucket(bucketName);
    if (ifMatch !== undefined) checkWritePrecondition(key, bucket.objects.get(key), { ifMatch });
    const previous = bucket.delete(key);
    if (!previous) return false;
    await rm(join(bucket.dataDirectory, previous.file), { force: true });
    this.emit('ObjectRemoved', 'Delete', bucket, previous);
    return true;
  }

  /**
   * A page of keys and common prefixes in S3's order: keys after `after`, and common prefixes
   * greater than it (a marker that is a common prefix skips that prefix, as S3 does, so paging by
   * it never returns the same prefix again).
   */
  list(bucketName: string, options: ListOptions): ListResult {
    const bucket = this.bucket(bucketName);
    const keys = bucket.keys();
    const prefix = options.prefix ?? '';
    const delimiter = options.delimiter;
    const after = options.after && options.after >= prefix ? options.after : undefined;
    let index = after === undefined ? lowerBound(keys, prefix, true) : lowerBound(keys, after, false);
    const contents: ObjectRecord[] = [];
    const commonPrefixes: string[] = [];
    let last: ListResult['last'];
    if (options.afterPrefix && after !== undefined) index = skipPrefix(keys, index, after);
    while (index < keys.length) {
      const key = keys[index];
      if (!key.startsWith(prefix)) break;
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (cut >= 0) {
        const common = key.slice(0, cut + delimiter!.length);
        if (after === undefined || common > after) {
          if (contents.length + commonPrefixes.length >= options.maxKeys) return { contents, commonPrefixes, isTruncated: true, last };
          commonPrefixes.push(common);
          last = { value: common, isPrefix: true };
        }
        index = skipPrefix(keys, index, common);
        continue;
      }
      if (contents.length + commonPrefixes.length >= options.maxKeys) return { contents, commonPrefixes, isTruncated: true, last };
      contents.push(bucket.objects.get(key)!);
      last = { value: key, isPrefix: false };
      index++;
    }
    return { contents, commonPrefixes, isTruncated: false, last };
  }

  createMultipartUpload(bucketName: string, key: string, options: WriteOptions): string {
    this.bucket(bucketName);
    validateKey(key);
    const uploadId = randomUUID().replace(/-/g, '');
    this.uploads.set(uploadId, {
      bucket: bucketName,
      key,
      contentType: options.contentType || DEFAULT_CONTENT_TYPE,
      metadata: options.metadata ?? {},
      ...(options.headers && Object.keys(options.headers).length ? { headers: options.headers } : {}),
      initiated: new Date().toISOString(),
      parts: new Map(),
    });
    return uploadId;
  }

  async uploadPart(bucketName: string, key: string, uploadId: string, partNumber: number, body: Readable, options: WriteOptions): Promise<string> {
    const upload = this.upload(bucketName, key, uploadId);
    validatePartNumber(partNumber);
    return (await this.storePart(upload, uploadId, partNumber, body, options)).etag;
  }

  /** UploadPartCopy: a part holding `range` (inclusive) of `source`, a record of `sourceBucket`. */
  async uploadPartCopy(
    bucketName: string,
    key: string,
    uploadId: string,
    partNumber: number,
    sourceBucket: string,
    source: ObjectRecord,
    range?: { start: number; end: number },
  ): Promise<{ etag: string; lastModified: string }> {
    const upload = this.upload(bucketName, key, uploadId);
    validatePartNumber(partNumber);
    const body = source.size === 0 ? Buffer.alloc(0) : this.read(sourceBucket, source, range);
    return this.storePart(upload, uploadId, partNumber, body, {});
  }

  listParts(bucketName: string, key: string, uploadId: string): PartSummary[] {
    const upload = this.upload(bucketName, key, uploadId);
    return [...upload.parts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partNumber, part]) => ({ partNumber, etag: part.etag, size: part.size, lastModified: part.lastModified }));
  }

  /** The bucket's unfinished uploads, by key then by when they began (ListMultipartUploads' order). */
  listUploads(bucketName: string): UploadSummary[] {
    this.bucket(bucketName);
    return [...this.uploads.entries()]
      .filter(([, upload]) => upload.bucket === bucketName)
      .map(([uploadId, upload]) => ({ key: upload.key, uploadId, initiated: upload.initiated }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.initiated < b.initiated ? -1 : a.initiated > b.initiated ? 1 : a.uploadId < b.uploadId ? -1 : 1));
  }

  async completeMultipartUpload(
    bucketName: string,
    key: string,
    uploadId: string,
    parts: ReadonlyArray<{ partNumber: number; etag: string }>,
    precondition?: WritePrecondition,
  ): Promise<ObjectRecord> {
    const completed = this.completed.get(uploadId);
    if (completed && completed.bucket === bucketName && completed.key === key) {
      const current = this.bucket(bucketName).objects.get(key);
      if (current && current.etag === completed.etag) return current;
    }
    const upload = this.upload(bucketName, key, uploadId);
    const bucket = this.bucket(bucketName);
    if (parts.length === 0) throw new S3Error('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema: CompleteMultipartUpload needs at least one part');
    const chosen = parts.map(({ partNumber, etag }, position) => {
      if (position > 0 && partNumber <= parts[position - 1].partNumber) {
        throw new S3Error('InvalidPartOrder', 400, 'The list of parts was not in ascending order. The parts list must be specified in order by part number.');
      }
      const part = upload.parts.get(partNumber);
      if (!part || unquote(part.etag) !== unquote(etag.trim())) {
        throw new S3Error('InvalidPart', 400, `One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag (part ${partNumber}, ETag ${etag}).`);
      }
      return { partNumber, ...part };
    });
    chosen.forEach((part, position) => {
      if (position < chosen.length - 1 && part.size < MIN_PART_BYTES) {
        throw new S3Error('EntityTooSmall', 400, `Your proposed upload is smaller than the minimum allowed size: part ${part.partNumber} has ${part.size} bytes; every part but the last needs at least ${MIN_PART_BYTES}`);
      }
    });
    checkWritePrecondition(key, bucket.objects.get(key), precondition);
    const directory = this.uploadDirectory(uploadId);
    const file = dataFileName();
    const target = join(bucket.dataDirectory, file);
    const output = createWriteStream(target);
    try {
      for (const part of chosen) {
        for await (const chunk of createReadStream(join(directory, part.file))) {
          if (!output.write(chunk)) await once(output, 'drain');
        }
      }
      await new Promise<void>((resolve, reject) => output.end((error?: Error | null) => (error ? reject(error) : resolve())));
    } catch (error) {
      output.destroy();
      await rm(target, { force: true });
      throw error;
    }
    const etag = `"${createHash('md5').update(Buffer.concat(chosen.map((part) => part.md5))).digest('hex')}-${chosen.length}"`;
    let record: ObjectRecord;
    try {
      record = await this.commit(bucket, {
        key,
        size: chosen.reduce((total, part) => total + part.size, 0),
        etag,
        lastModified: new Date().toISOString(),
        contentType: upload.contentType,
        metadata: upload.metadata,
        ...(upload.headers ? { headers: upload.headers } : {}),
        parts: chosen.map((part) => part.size),
        file,
      }, 'CompleteMultipartUpload', precondition);
    } catch (error) {
      await rm(target, { force: true });
      throw error;
    }
    this.uploads.delete(uploadId);
    await rm(directory, { recursive: true, force: true });
    this.completed.set(uploadId, { bucket: bucketName, key, etag });
    if (this.completed.size > REMEMBERED_COMPLETIONS) this.completed.delete(this.completed.keys().next().value!);
    return record;
  }

  /** Throws NoSuchUpload unless `uploadId` is an unfinished upload of this bucket and key. */
  assertUpload(bucketName: string, key: string, uploadId: string): void {
    this.upload(bucketName, key, uploadId);
  }

  async abortMultipartUpload(bucketName: string, key: string, uploadId: string): Promise<void> {
    this.upload(bucketName, key, uploadId);
    this.uploads.delete(uploadId);
    await rm(this.uploadDirectory(uploadId), { recursive: true, force: true });
  }

  /** Where an unfinished multipart upload keeps its parts. */
  private uploadDirectory(uploadId: string): string {
    return join(this.directory, UPLOADS, uploadId);
  }

  private upload(bucketName: string, key: string, uploadId: string): MultipartUpload {
    this.bucket(bucketName);
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.bucket !== bucketName || upload.key !== key) throw noSuchUpload(uploadId);
    return upload;
  }

  /** Writes a part to a file of its own, then makes it the part (the last upload of a number wins whole). */
  private async storePart(upload: MultipartUpload, uploadId: string, partNumber: number, body: Readable | Buffer, options: WriteOptions) {
    const directory = this.uploadDirectory(uploadId);
    await mkdir(directory, { recursive: true });
    const file = `${partNumber}.${randomUUID()}`;
    const written = await writeHashed(body, join(directory, file), options);
    if (this.uploads.get(uploadId) !== upload) {
      // Completed or aborted while this part was being written.
      await rm(join(directory, file), { force: true });
      throw noSuchUpload(uploadId);
    }
    const previous = upload.parts.get(partNumber);
    const part = { etag: `"${written.md5.toString('hex')}"`, size: written.size, md5: written.md5, file, lastModified: new Date().toISOString() };
    upload.parts.set(partNumber, part);
    if (previous) await rm(join(directory, previous.file), { force: true });
    return part;
  }

  private async writeData(bucket: Bucket, body: Readable | Buffer, options: WriteOptions) {
    const file = dataFileName();
    const written = await writeHashed(body, join(bucket.dataDirectory, file), options);
    return { ...written, file };
  }

  /**
   * Makes `record` the key's object. The precondition is checked again here, synchronously with the
   * index update, so a conditional write never replaces an object another write put there meanwhile.
   */
  private async commit(bucket: Bucket, record: ObjectRecord, reason: ObjectEvent['reason'], precondition?: WritePrecondition): Promise<ObjectRecord> {
    if (precondition) {
      try {
        checkWritePrecondition(record.key, bucket.objects.get(record.key), precondition);
      } catch {
        await rm(join(bucket.dataDirectory, record.file), { force: true });
        throw new S3Error('ConditionalRequestConflict', 409, 'A conflicting conditional operation is currently in progress against this resource. Try again.', record.key);
      }
    }
    if (!this.buckets.has(bucket.name)) {
      // The bucket was deleted while the body was being written.
      await rm(join(bucket.dataDirectory, record.file), { force: true });
      throw noSuchBucket(bucket.name);
    }
    const previous = bucket.set(record);
    if (previous) await rm(join(bucket.dataDirectory, previous.file), { force: true });
    this.emit('ObjectCreated', reason, bucket, record);
    return record;
  }

  /**
   * S3's sequencer: a hex string that grows with each event on a key, across restarts too (the
   * ingress function takes a repeated sequencer for a repeated delivery): the time, then a counter.
   */
  private nextSequencer(): string {
    this.sequence = (this.sequence + 1) % 0x1000000;
    return `${Date.now().toString(16).padStart(12, '0')}${this.sequence.toString(16).padStart(6, '0')}`.toUpperCase();
  }

  private emit(type: ObjectEvent['type'], reason: ObjectEvent['reason'], bucket: Bucket, record: ObjectRecord): void {
    this.onEvent({
      type,
      reason,
      bucket: bucket.name,
      key: record.key,
      size: record.size,
      etag: record.etag.replace(/"/g, ''),
      sequencer: this.nextSequencer(),
      time: new Date().toISOString(),
    });
  }
}

/** The index just past every key that starts with `prefix` (keys from `index` on are sorted). */
function skipPrefix(keys: readonly string[], index: number, prefix: string): number {
  const lastUnit = prefix.charCodeAt(prefix.length - 1);
  if (prefix.length === 0 || lastUnit === 0xffff) {
    while (index < keys.length && keys[index].startsWith(prefix)) index++;
    return index;
  }
  return Math.max(index, lowerBound(keys, prefix.slice(0, -1) + String.fromCharCode(lastUnit + 1), true));
}

function validatePartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
    throw new S3Error('InvalidArgument', 400, 'Part number must be an integer between 1 and 10000, inclusive');
  }
}

/**
 * S3's rules for general purpose bucket names: 3-63 characters; lower-case letters, digits, dots
 * and hyphens; labels (between dots) that begin and end with a letter or digit; not an IP address;
 * none of the reserved prefixes and suffixes.
 */
function validateBucketName(name: string): void {
  const valid =
    /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/.test(name) &&
    name.length >= 3 &&
    name.length <= 63 &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !/^(?:xn--|sthree-|amzn-s3-demo-)/.test(name) &&
    !/(?:-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name);
  if (!valid) {
    throw new S3Error('InvalidBucketName', 400, `The specified bucket is not valid: ${name} (3-63 lower-case letters, digits, dots and hyphens, each part between dots beginning and ending with a letter or digit, not an IP address)`, name);
  }
}

function validateKey(key: string): void {
  if (key.length === 0) throw new S3Error('InvalidArgument', 400, 'An object key may not be empty');
  if (Buffer.byteLength(key) > 1024) throw new S3Error('KeyTooLongError', 400, 'An object key may be at most 1024 bytes of UTF-8');
}

/** Data files are spread over 256 directories (created with the bucket) so none holds 65,000. */
const SHARDS = Array.from({ length: 256 }, (_, index) => index.toString(16).padStart(2, '0'));

/** A fresh data file name, in the shard its first two hex digits name. */
function dataFileName(): string {
  const id = randomUUID();
  return `${id.slice(0, 2)}/${id}`;
}

/**
 * Bodies up to this size are gathered in memory and written with one synchronous call: for a
 * 36 KB frame that is about 0.05 ms, where a write stream's open/write/close round trips through
 * libuv's thread pool cost over a millisecond of CPU (measured, issue 4). Larger bodies stream.
 */
const SMALL_BODY_BYTES = 1024 * 1024;

/** Writes a body to `path`, hashing as it goes; removes the file when the body is refused. */
async function writeHashed(body: Readable | Buffer, path: string, options: WriteOptions): Promise<{ size: number; md5: Buffer }> {
  const md5 = createHash('md5');
  const sha256 = options.sha256 ? createHash('sha256') : undefined;
  let size = 0;
  const head: Buffer[] = [];
  let output: WriteStream | undefined;
  try {
    for await (const chunk of Buffer.isBuffer(body) ? [body] : (body as AsyncIterable<Buffer>)) {
      md5.update(chunk);
      sha256?.update(chunk);
      size += chunk.length;
      if (output) {
        if (!output.write(chunk)) await once(output, 'drain');
      } else if (size <= SMALL_BODY_BYTES) {
        head.push(chunk);
      } else {
        output = createWriteStream(path);
        for (const buffered of head) output.write(buffered);
        head.length = 0;
        if (!output.write(chunk)) await once(output, 'drain');
      }
    }
    if (output) await new Promise<void>((resolve, reject) => output!.end((error?: Error | null) => (error ? reject(error) : resolve())));
    else writeFileSync(path, head.length === 1 ? head[0] : Buffer.concat(head));
    const digest = md5.digest();
    if (options.md5Base64 !== undefined && digest.toString('base64') !== options.md5Base64) {
      throw new S3Error('BadDigest', 400, 'The Content-MD5 you specified did not match what we received');
    }
    if (sha256 && sha256.digest('hex') !== options.sha256) {
      throw new S3Error('XAmzContentSHA256Mismatch', 400, 'The provided x-amz-content-sha256 header does not match what was computed');
    }
    return { size, md5: digest };
  } catch (error) {
    output?.destroy();
    await rm(path, { force: true });
    throw error;
  }
}
