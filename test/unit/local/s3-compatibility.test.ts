import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  type CompletedPart,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  type ListObjectsCommandInput,
  ListObjectsV2Command,
  type ListObjectsV2CommandInput,
  PutBucketAclCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/local-identity';
import { ObjectStore } from '../../../local/s3/object-store';
import { handleExpectations, s3RequestHandler } from '../../../local/s3/s3-api';
import { signRequest } from '../../../local/s3/sigv4';

/**
 * The public S3 compatibility suite, ceph/s3-tests (s3tests_boto3/functional/test_s3.py and
 * test_headers.py), ported to the JavaScript SDK against the local S3 server, for every operation
 * the server claims. Each test is named after the ceph test it ports; a comment marks where the
 * port departs from it (always towards what AWS documents, never towards leniency).
 *
 * Left out, because a one-user, unversioned store with ACLs disabled cannot pass them (each is
 * refused by name instead, see s3-server.test.ts):
 * - ACLs and public access (test_bucket_acl_*, test_object_acl_*, test_access_bucket_*,
 *   test_object_raw_get*, test_object_raw_authenticated_bucket_acl/object_acl,
 *   test_object_anon_put_write_access, test_bucket_list_objects_anonymous, test_bucket_recreate_*_acl,
 *   test_bucket_concurrent_set_canned_acl, test_object_copy_canned_acl, test_expected_bucket_owner,
 *   test_object_raw_authenticated*, test_object_acl_create_contentlength_none): the deployed buckets
 *   are BucketOwnerEnforced, so every grant beyond the owner's is AccessControlListNotSupported.
 * - A second user or tenant (test_bucket_create_exists_nonowner, test_object_copy_not_owned_*,
 *   test_list_multipart_upload_owner, test_list_buckets_anonymous, tenant and IAM tests).
 * - Versioning, delete markers and object lock (test_versioning_*, test_versioned_*,
 *   test_bucket_list_return_data_versioning, test_object_copy_versioned_*, test_multipart_copy_versioned,
 *   test_object_lock_*, test_delete_marker_*, test_*_current_if_match*, test_delete_object*_if_match*
 *   (marked fails_on_aws: directory buckets only at the time), test_versioning_concurrent_multi_object_delete).
 * - Bucket and object configuration the server does not implement: lifecycle, CORS, policies and
 *   policy status, tagging, website, logging, notification, replication, encryption configuration
 *   (test_put/get/delete_bucket_encryption_*, test_sse_s3_default_*), public access blocks,
 *   GetObjectAttributes, torrents, S3 Select, restore.
 * - SSE-C and SSE-KMS (test_encryption_*, test_sse_kms_*, test_*_sse_c_*): no keys to manage.
 * - Flexible checksums stored and returned (test_object_checksum_*, test_multipart_checksum_*,
 *   test_multipart_use_cksum_helper_*): the server decodes checksum trailers but neither verifies nor
 *   stores them.
 * - Browser POST uploads (test_post_object_*): not implemented.
 * - Signature Version 2 (test_headers.py's *_aws2 tests, the *_v2 CORS tests): refused as S3 refuses
 *   it where SigV2 is off.
 * - RGW extensions and tests marked fails_on_aws whose AWS answer is undocumented:
 *   test_account_usage, test_head_bucket_usage, test_bucket_head_extended, test_bucket_list_unordered,
 *   test_bucket_listv2_unordered, test_bucket_create_naming_bad_ip, test_atomic_dual_conditional_write_1mb,
 *   test_atomic_write_bucket_gone, test_bucket_get_location (skipped by ceph without an api_name).
 * - test_multipart_resend_first_finishes_last: completes with the same part number listed twice,
 *   whose outcome on AWS is undocumented.
 * - test_object_write_with_chunked_transfer_encoding: sends Content-Length and Transfer-Encoding
 *   together, which Node's HTTP parser refuses before any handler runs (chunked bodies without a
 *   Content-Length are answered as S3 documents: 411 MissingContentLength, tested below).
 */

jest.setTimeout(120_000);

const MB = 1024 * 1024;

interface LocalS3 {
  readonly endpoint: string;
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

async function startS3(): Promise<LocalS3> {
  const directory = mkdtempSync(join(tmpdir(), 'local-s3-compat-'));
  const store = await ObjectStore.open(directory, []);
  const handler = s3RequestHandler({ store, credentials: LOCAL_CREDENTIALS, region: LOCAL_REGION });
  const server: Server = createServer({ keepAliveTimeout: 30_000 }, handler);
  handleExpectations(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

let local: LocalS3;
let s3: S3Client;

const client = (overrides: Partial<ConstructorParameters<typeof S3Client>[0]> = {}, target: LocalS3 = local) =>
  new S3Client({
    endpoint: target.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...overrides,
  });

beforeAll(async () => {
  local = await startS3();
  s3 = client();
});

afterAll(async () => {
  s3.destroy();
  await local.stop();
});

/** A client whose requests carry extra headers (added before signing, as the ceph tests' before-call hooks do). */
function clientWithHeaders(headers: Record<string, string>): S3Client {
  const modified = client();
  modified.middlewareStack.add(
    (next) => async (args) => {
      const request = (args.request as { headers: Record<string, string> }).headers;
      for (const [name, value] of Object.entries(headers)) {
        for (const existing of Object.keys(request)) if (existing.toLowerCase() === name.toLowerCase()) delete request[existing];
        request[name.toLowerCase()] = value;
      }
      return next(args);
    },
    { step: 'build', name: 'compatExtraHeaders' },
  );
  return modified;
}

let bucketCounter = 0;
const runId = randomBytes(3).toString('hex');
const newBucketName = () => `compat-${runId}-${++bucketCounter}`;

async function newBucket(name = newBucketName()): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/** ceph's _create_objects: each object's body is its key. */
async function createObjects(keys: readonly string[], bucket?: string): Promise<string> {
  const name = bucket ?? (await newBucket());
  for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: name, Key: key, Body: key }));
  return name;
}

const keysOf = (response: { Contents?: Array<{ Key?: string }> }) => (response.Contents ?? []).map((object) => object.Key!);
const prefixesOf = (response: { CommonPrefixes?: Array<{ Prefix?: string }> }) => (response.CommonPrefixes ?? []).map((common) => common.Prefix!);

async function bodyOf(response: { Body?: unknown }): Promise<Buffer> {
  return Buffer.from(await (response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}
const textOf = async (response: { Body?: unknown }) => (await bodyOf(response)).toString('utf8');

interface SdkError {
  readonly name: string;
  readonly message: string;
  readonly $metadata: { readonly httpStatusCode?: number };
  readonly $response?: { readonly headers: Record<string, string> };
}

async function failure(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    return error as SdkError;
  }
  throw new Error('The request succeeded where S3 refuses it');
}

async function expectError(promise: Promise<unknown>, status: number, code?: string): Promise<SdkError> {
  const error = await failure(promise);
  expect({ status: error.$metadata?.httpStatusCode, code: code === undefined ? undefined : error.name }).toEqual({ status, code });
  return error;
}

/** ceph's generate_random: parts of partSize bytes, each a random 1 KiB of letters repeated. */
function generateRandom(size: number, partSize = 5 * MB): Buffer[] {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const parts: Buffer[] = [];
  for (let offset = 0; offset < size; offset += partSize) {
    const chunk = Buffer.from(Array.from(randomBytes(1024), (byte) => letters[byte % letters.length]).join(''));
    const length = Math.min(partSize, size - offset);
    const part = Buffer.alloc(length);
    for (let position = 0; position < length; position += chunk.length) chunk.copy(part, position, 0, Math.min(chunk.length, length - position));
    parts.push(part);
  }
  return parts;
}

/** ceph's _multipart_upload: returns the upload id, the data and the parts to complete with. */
async function multipartUpload(
  bucket: string,
  key: string,
  size: number,
  options: { partSize?: number; contentType?: string; metadata?: Record<string, string>; resendParts?: number[] } = {},
): Promise<{ uploadId: string; data: Buffer; parts: CompletedPart[] }> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: options.contentType, Metadata: options.metadata }));
  const parts: CompletedPart[] = [];
  const chunks = generateRandom(size, options.partSize);
  for (const [index, part] of chunks.entries()) {
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body: part }));
    parts.push({ ETag: ETag!.replace(/"/g, ''), PartNumber: index + 1 });
    if (options.resendParts?.includes(index)) {
      await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body: part }));
    }
  }
  return { uploadId: UploadId!, data: Buffer.concat(chunks), parts };
}

const complete = (bucket: string, key: string, uploadId: string, parts: CompletedPart[]) =>
  s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));

/** ceph's _create_key_with_random_content (7 MiB by default). */
async function createKeyWithRandomContent(key: string, size = 7 * MB, bucket?: string): Promise<string> {
  const name = bucket ?? (await newBucket());
  await s3.send(new PutObjectCommand({ Bucket: name, Key: key, Body: generateRandom(size, size)[0] ?? Buffer.alloc(0) }));
  return name;
}

const copySource = (bucket: string, key: string) => `${bucket}/${encodeURIComponent(key)}`;

/** ceph's _multipart_copy: UploadPartCopy of [0, size) in partSize ranges. */
async function multipartCopy(srcBucket: string, srcKey: string, destBucket: string, destKey: string, size: number, partSize = 5 * MB) {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: destBucket, Key: destKey }));
  const parts: CompletedPart[] = [];
  let partNumber = 1;
  for (let start = 0; start < size; start += partSize, partNumber++) {
    const end = Math.min(start + partSize - 1, size - 1);
    const response = await s3.send(new UploadPartCopyCommand({
      Bucket: destBucket, Key: destKey, UploadId, PartNumber: partNumber, CopySource: copySource(srcBucket, srcKey), CopySourceRange: `bytes=${start}-${end}`,
    }));
    parts.push({ ETag: response.CopyPartResult!.ETag, PartNumber: partNumber });
  }
  return { uploadId: UploadId!, parts };
}

/** ceph's _check_key_content: the destination holds the source's first bytes. */
async function checkKeyContent(srcKey: string, srcBucket: string, destKey: string, destBucket: string): Promise<void> {
  const source = await s3.send(new HeadObjectCommand({ Bucket: srcBucket, Key: srcKey }));
  const dest = await s3.send(new GetObjectCommand({ Bucket: destBucket, Key: destKey }));
  const destData = await bodyOf(dest);
  expect(source.ContentLength!).toBeGreaterThanOrEqual(dest.ContentLength!);
  const sourceData = await bodyOf(await s3.send(new GetObjectCommand({ Bucket: srcBucket, Key: srcKey, Range: `bytes=0-${dest.ContentLength! - 1}` })));
  expect(sourceData.equals(destData)).toBe(true);
}

/** ceph's _check_content_using_range. */
async function checkContentUsingRange(key: string, bucket: string, data: Buffer, step: number): Promise<void> {
  const size = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength!;
  for (let offset = 0; offset < size; offset += step) {
    const end = Math.min(offset + step, size) - 1;
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${offset}-${end}` }));
    expect(response.ContentLength).toBe(end - offset + 1);
    expect((await bodyOf(response)).equals(data.subarray(offset, end + 1))).toBe(true);
  }
}

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/**
 * A request signed with SigV4 (or not, with `sign: false`), headers exactly as given: for what the
 * SDK will not send (a missing Content-Length, an Expect header, a chunked body).
 */
async function rawRequest(
  method: string,
  path: string,
  options: { query?: Array<[string, string]>; headers?: Record<string, string>; body?: Buffer | Readable; sign?: boolean } = {},
): Promise<RawResponse> {
  const query = options.query ?? [];
  const headers: Record<string, string> = { host: local.host, ...options.headers };
  if (options.sign !== false) Object.assign(headers, signRequest({ method, path, query, headers }, LOCAL_CREDENTIALS, LOCAL_REGION));
  const search = query.length ? `?${new URLSearchParams(query).toString().replace(/\+/g, '%20')}` : '';
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port: local.port, method, path: `${path}${search}`, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    if (options.body instanceof Readable) options.body.pipe(outgoing);
    else outgoing.end(options.body);
  });
}

const errorCode = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

/** The response to a request written byte for byte on a socket (headers exactly as given, no body). */
async function socketRequest(method: string, path: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const lines = [`${method} ${path} HTTP/1.1`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`), 'Connection: close', '', ''];
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(local.port, '127.0.0.1', () => socket.write(lines.join('\r\n')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      resolve({ status: Number(text.split(' ')[1]), text });
    });
    socket.on('error', reject);
  });
}

/** A list request's raw XML: the SDK's parser drops element values that are only whitespace, like a \n delimiter. */
async function rawListXml(bucket: string, query: Array<[string, string]>): Promise<string> {
  const response = await rawRequest('GET', `/${bucket}`, { query, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  expect(response.status).toBe(200);
  return response.text;
}

// ---------------------------------------------------------------------------------------------
// Bucket listing (ListObjects and ListObjectsV2)
// ---------------------------------------------------------------------------------------------

async function validateBucketList(
  bucket: string, prefix: string, delimiter: string, marker: string, maxKeys: number,
  isTruncated: boolean, checkObjects: string[], checkPrefixes: string[], nextMarker: string | undefined,
): Promise<string | undefined> {
  const response = await s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: delimiter, Marker: marker, MaxKeys: maxKeys, Prefix: prefix }));
  expect(response.IsTruncated).toBe(isTruncated);
  expect(response.NextMarker).toBe(nextMarker);
  expect(keysOf(response)).toEqual(checkObjects);
  expect(prefixesOf(response)).toEqual(checkPrefixes);
  return response.NextMarker;
}

async function validateBucketListV2(
  bucket: string, prefix: string, delimiter: string, continuationToken: string | undefined, maxKeys: number,
  isTruncated: boolean, checkObjects: string[], checkPrefixes: string[], last = false,
): Promise<string | undefined> {
  const input: ListObjectsV2CommandInput = { Bucket: bucket, Delimiter: delimiter, MaxKeys: maxKeys, Prefix: prefix };
  if (continuationToken !== undefined) input.ContinuationToken = continuationToken;
  else input.StartAfter = '';
  const response = await s3.send(new ListObjectsV2Command(input));
  expect(response.IsTruncated).toBe(isTruncated);
  if (last) expect(response.NextContinuationToken).toBeUndefined();
  expect(keysOf(response)).toEqual(checkObjects);
  expect(prefixesOf(response)).toEqual(checkPrefixes);
  return response.NextContinuationToken;
}

const listV1 = (input: ListObjectsCommandInput) => s3.send(new ListObjectsCommand(input));
const listV2 = (input: ListObjectsV2CommandInput) => s3.send(new ListObjectsV2Command(input));

describe('bucket listing', () => {
  test('test_bucket_list_empty', async () => {
    expect(keysOf(await listV1({ Bucket: await newBucket() }))).toEqual([]);
  });

  test('test_bucket_list_distinct', async () => {
    const bucket1 = await newBucket();
    const bucket2 = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket1, Key: 'asdf', Body: 'str' }));
    expect(keysOf(await listV2({ Bucket: bucket2 }))).toEqual([]);
  });

  test('test_bucket_list_many', async () => {
    const bucket = await createObjects(['foo', 'bar', 'baz']);
    let response = await listV1({ Bucket: bucket, MaxKeys: 2 });
    expect(keysOf(response)).toEqual(['bar', 'baz']);
    expect(response.IsTruncated).toBe(true);
    response = await listV1({ Bucket: bucket, Marker: 'baz', MaxKeys: 2 });
    expect(keysOf(response)).toEqual(['foo']);
    expect(response.IsTruncated).toBe(false);
  });

  test('test_bucket_listv2_many', async () => {
    const bucket = await createObjects(['foo', 'bar', 'baz']);
    let response = await listV2({ Bucket: bucket, MaxKeys: 2 });
    expect(keysOf(response)).toEqual(['bar', 'baz']);
    expect(response.IsTruncated).toBe(true);
    response = await listV2({ Bucket: bucket, StartAfter: 'baz', MaxKeys: 2 });
    expect(keysOf(response)).toEqual(['foo']);
    expect(response.IsTruncated).toBe(false);
  });

  test('test_basic_key_count', async () => {
    const bucket = await newBucket();
    for (let j = 0; j < 5; j++) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: String(j) }));
    expect((await listV2({ Bucket: bucket })).KeyCount).toBe(5);
  });

  test('test_bucket_list_delimiter_basic', async () => {
    const bucket = await createObjects(['foo/bar', 'foo/bar/xyzzy', 'quux/thud', 'asdf']);
    const response = await listV1({ Bucket: bucket, Delimiter: '/' });
    expect(response.Delimiter).toBe('/');
    expect(keysOf(response)).toEqual(['asdf']);
    expect(prefixesOf(response)).toEqual(['foo/', 'quux/']);
  });

  test('test_bucket_listv2_delimiter_basic', async () => {
    const bucket = await createObjects(['foo/bar', 'foo/bar/xyzzy', 'quux/thud', 'asdf']);
    const response = await listV2({ Bucket: bucket, Delimiter: '/' });
    expect(response.Delimiter).toBe('/');
    expect(keysOf(response)).toEqual(['asdf']);
    expect(prefixesOf(response)).toEqual(['foo/', 'quux/']);
    expect(response.KeyCount).toBe(3);
  });

  test('test_bucket_listv2_encoding_basic', async () => {
    const bucket = await createObjects(['foo+1/bar', 'foo/bar/xyzzy', 'quux ab/thud', 'asdf+b']);
    const response = await listV2({ Bucket: bucket, Delimiter: '/', EncodingType: 'url' });
    expect(response.Delimiter).toBe('/');
    expect(keysOf(response)).toEqual(['asdf%2Bb']);
    expect(prefixesOf(response)).toEqual(['foo%2B1/', 'foo/', 'quux%20ab/']);
  });

  test('test_bucket_list_encoding_basic', async () => {
    const bucket = await createObjects(['foo+1/bar', 'foo/bar/xyzzy', 'quux ab/thud', 'asdf+b']);
    const response = await listV1({ Bucket: bucket, Delimiter: '/', EncodingType: 'url' });
    expect(response.Delimiter).toBe('/');
    expect(keysOf(response)).toEqual(['asdf%2Bb']);
    expect(prefixesOf(response)).toEqual(['foo%2B1/', 'foo/', 'quux%20ab/']);
  });

  test('test_bucket_list_delimiter_prefix', async () => {
    const bucket = await createObjects(['asdf', 'boo/bar', 'boo/baz/xyzzy', 'cquux/thud', 'cquux/bla']);
    let marker = await validateBucketList(bucket, '', '/', '', 1, true, ['asdf'], [], 'asdf');
    marker = await validateBucketList(bucket, '', '/', marker!, 1, true, [], ['boo/'], 'boo/');
    await validateBucketList(bucket, '', '/', marker!, 1, false, [], ['cquux/'], undefined);
    marker = await validateBucketList(bucket, '', '/', '', 2, true, ['asdf'], ['boo/'], 'boo/');
    await validateBucketList(bucket, '', '/', marker!, 2, false, [], ['cquux/'], undefined);
    marker = await validateBucketList(bucket, 'boo/', '/', '', 1, true, ['boo/bar'], [], 'boo/bar');
    await validateBucketList(bucket, 'boo/', '/', marker!, 1, false, [], ['boo/baz/'], undefined);
    await validateBucketList(bucket, 'boo/', '/', '', 2, false, ['boo/bar'], ['boo/baz/'], undefined);
  });

  test('test_bucket_listv2_delimiter_prefix', async () => {
    const bucket = await createObjects(['asdf', 'boo/bar', 'boo/baz/xyzzy', 'cquux/thud', 'cquux/bla']);
    let token = await validateBucketListV2(bucket, '', '/', undefined, 1, true, ['asdf'], []);
    token = await validateBucketListV2(bucket, '', '/', token, 1, true, [], ['boo/']);
    await validateBucketListV2(bucket, '', '/', token, 1, false, [], ['cquux/'], true);
    token = await validateBucketListV2(bucket, '', '/', undefined, 2, true, ['asdf'], ['boo/']);
    await validateBucketListV2(bucket, '', '/', token, 2, false, [], ['cquux/'], true);
    token = await validateBucketListV2(bucket, 'boo/', '/', undefined, 1, true, ['boo/bar'], []);
    await validateBucketListV2(bucket, 'boo/', '/', token, 1, false, [], ['boo/baz/'], true);
    await validateBucketListV2(bucket, 'boo/', '/', undefined, 2, false, ['boo/bar'], ['boo/baz/'], true);
  });

  test('test_bucket_listv2_delimiter_prefix_ends_with_delimiter', async () => {
    const bucket = await createObjects(['asdf/']);
    await validateBucketListV2(bucket, 'asdf/', '/', undefined, 1000, false, ['asdf/'], [], true);
  });

  test('test_bucket_list_delimiter_prefix_ends_with_delimiter', async () => {
    const bucket = await createObjects(['asdf/']);
    await validateBucketList(bucket, 'asdf/', '/', '', 1000, false, ['asdf/'], [], undefined);
  });

  test.each([
    ['test_bucket_list_delimiter_alt', 1, ['bar', 'baz', 'cab', 'foo'], 'a', ['foo'], ['ba', 'ca']],
    ['test_bucket_listv2_delimiter_alt', 2, ['bar', 'baz', 'cab', 'foo'], 'a', ['foo'], ['ba', 'ca']],
    ['test_bucket_list_delimiter_percentage', 1, ['b%ar', 'b%az', 'c%ab', 'foo'], '%', ['foo'], ['b%', 'c%']],
    ['test_bucket_listv2_delimiter_percentage', 2, ['b%ar', 'b%az', 'c%ab', 'foo'], '%', ['foo'], ['b%', 'c%']],
    ['test_bucket_list_delimiter_whitespace', 1, ['b ar', 'b az', 'c ab', 'foo'], ' ', ['foo'], ['b ', 'c ']],
    ['test_bucket_listv2_delimiter_whitespace', 2, ['b ar', 'b az', 'c ab', 'foo'], ' ', ['foo'], ['b ', 'c ']],
    ['test_bucket_list_delimiter_dot', 1, ['b.ar', 'b.az', 'c.ab', 'foo'], '.', ['foo'], ['b.', 'c.']],
    ['test_bucket_listv2_delimiter_dot', 2, ['b.ar', 'b.az', 'c.ab', 'foo'], '.', ['foo'], ['b.', 'c.']],
    ['test_bucket_list_delimiter_not_exist', 1, ['bar', 'baz', 'cab', 'foo'], '/', ['bar', 'baz', 'cab', 'foo'], []],
    ['test_bucket_listv2_delimiter_not_exist', 2, ['bar', 'baz', 'cab', 'foo'], '/', ['bar', 'baz', 'cab', 'foo'], []],
  ] as const)('%s', async (_name, version, keys, delimiter, expectedKeys, expectedPrefixes) => {
    const bucket = await createObjects(keys);
    const response = version === 1 ? await listV1({ Bucket: bucket, Delimiter: delimiter }) : await listV2({ Bucket: bucket, Delimiter: delimiter });
    expect(response.Delimiter).toBe(delimiter);
    expect(keysOf(response)).toEqual(expectedKeys);
    expect(prefixesOf(response)).toEqual(expectedPrefixes);
  });

  // The JavaScript SDK's XML parser turns an element holding only "\n" into "": the echoed
  // delimiter, prefix or marker is read from the raw XML, the keys through the SDK.
  test.each([
    ['test_bucket_list_delimiter_unreadable', 1, 'delimiter', 'Delimiter'],
    ['test_bucket_listv2_delimiter_unreadable', 2, 'delimiter', 'Delimiter'],
    ['test_bucket_list_prefix_unreadable', 1, 'prefix', 'Prefix'],
    ['test_bucket_listv2_prefix_unreadable', 2, 'prefix', 'Prefix'],
    ['test_bucket_list_marker_unreadable', 1, 'marker', 'Marker'],
    ['test_bucket_listv2_startafter_unreadable', 2, 'start-after', 'StartAfter'],
  ] as const)('%s', async (_name, version, parameter, elementName) => {
    const keys = parameter === 'prefix' ? ['foo/bar', 'foo/baz', 'quux'] : ['bar', 'baz', 'cab', 'foo'];
    const bucket = await createObjects(keys);
    const input = parameter === 'delimiter' ? { Delimiter: '\x0a' } : parameter === 'prefix' ? { Prefix: '\x0a' } : parameter === 'marker' ? { Marker: '\x0a' } : { StartAfter: '\x0a' };
    const response = version === 1 ? await listV1({ Bucket: bucket, ...input }) : await listV2({ Bucket: bucket, ...input });
    expect(keysOf(response)).toEqual(parameter === 'prefix' ? [] : keys);
    expect(prefixesOf(response)).toEqual([]);
    expect(response.IsTruncated).toBe(false);
    const query: Array<[string, string]> = [[parameter, '\x0a'], ...(version === 2 ? [['list-type', '2'] as [string, string]] : [])];
    expect(await rawListXml(bucket, query)).toContain(`<${elementName}>\n</${elementName}>`);
  });

  test('test_bucket_list_delimiter_prefix_underscore', async () => {
    const bucket = await createObjects(['_obj1_', '_under1/bar', '_under1/baz/xyzzy', '_under2/thud', '_under2/bla']);
    let marker = await validateBucketList(bucket, '', '/', '', 1, true, ['_obj1_'], [], '_obj1_');
    marker = await validateBucketList(bucket, '', '/', marker!, 1, true, [], ['_under1/'], '_under1/');
    await validateBucketList(bucket, '', '/', marker!, 1, false, [], ['_under2/'], undefined);
    marker = await validateBucketList(bucket, '', '/', '', 2, true, ['_obj1_'], ['_under1/'], '_under1/');
    await validateBucketList(bucket, '', '/', marker!, 2, false, [], ['_under2/'], undefined);
    marker = await validateBucketList(bucket, '_under1/', '/', '', 1, true, ['_under1/bar'], [], '_under1/bar');
    await validateBucketList(bucket, '_under1/', '/', marker!, 1, false, [], ['_under1/baz/'], undefined);
    await validateBucketList(bucket, '_under1/', '/', '', 2, false, ['_under1/bar'], ['_under1/baz/'], undefined);
  });

  test('test_bucket_listv2_delimiter_prefix_underscore', async () => {
    const bucket = await createObjects(['_obj1_', '_under1/bar', '_under1/baz/xyzzy', '_under2/thud', '_under2/bla']);
    let token = await validateBucketListV2(bucket, '', '/', undefined, 1, true, ['_obj1_'], []);
    token = await validateBucketListV2(bucket, '', '/', token, 1, true, [], ['_under1/']);
    await validateBucketListV2(bucket, '', '/', token, 1, false, [], ['_under2/'], true);
    token = await validateBucketListV2(bucket, '', '/', undefined, 2, true, ['_obj1_'], ['_under1/']);
    await validateBucketListV2(bucket, '', '/', token, 2, false, [], ['_under2/'], true);
    token = await validateBucketListV2(bucket, '_under1/', '/', undefined, 1, true, ['_under1/bar'], []);
    await validateBucketListV2(bucket, '_under1/', '/', token, 1, false, [], ['_under1/baz/'], true);
    await validateBucketListV2(bucket, '_under1/', '/', undefined, 2, false, ['_under1/bar'], ['_under1/baz/'], true);
  });

  test.each([
    ['test_bucket_list_delimiter_empty', 1, ''],
    ['test_bucket_listv2_delimiter_empty', 2, ''],
    ['test_bucket_list_delimiter_none', 1, undefined],
    ['test_bucket_listv2_delimiter_none', 2, undefined],
  ] as const)('%s', async (_name, version, delimiter) => {
    const keys = ['bar', 'baz', 'cab', 'foo'];
    const bucket = await createObjects(keys);
    const response = version === 1 ? await listV1({ Bucket: bucket, Delimiter: delimiter }) : await listV2({ Bucket: bucket, Delimiter: delimiter });
    expect(response.Delimiter).toBeUndefined();
    expect(keysOf(response)).toEqual(keys);
    expect(prefixesOf(response)).toEqual([]);
  });

  test('test_bucket_listv2_fetchowner_notempty', async () => {
    const bucket = await createObjects(['foo/bar', 'foo/baz', 'quux']);
    const response = await listV2({ Bucket: bucket, FetchOwner: true });
    expect(response.Contents![0].Owner).toBeDefined();
  });

  test('test_bucket_listv2_fetchowner_defaultempty', async () => {
    const bucket = await createObjects(['foo/bar', 'foo/baz', 'quux']);
    expect((await listV2({ Bucket: bucket })).Contents![0].Owner).toBeUndefined();
  });

  test('test_bucket_listv2_fetchowner_empty', async () => {
    const bucket = await createObjects(['foo/bar', 'foo/baz', 'quux']);
    expect((await listV2({ Bucket: bucket, FetchOwner: false })).Contents![0].Owner).toBeUndefined();
  });

  test('test_bucket_list_delimiter_not_skip_special', async () => {
    const keyNames = ['0/', ...Array.from({ length: 999 }, (_, index) => `0/${1000 + index}`)];
    const keyNames2 = ['1999', '1999#', '1999+', '2000'];
    const bucket = await newBucket();
    const all = [...keyNames, ...keyNames2];
    for (let start = 0; start < all.length; start += 20) {
      await Promise.all(all.slice(start, start + 20).map((key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }))));
    }
    const response = await listV1({ Bucket: bucket, Delimiter: '/' });
    expect(response.Delimiter).toBe('/');
    expect(keysOf(response)).toEqual(keyNames2);
    expect(prefixesOf(response)).toEqual(['0/']);
  });

  test.each([
    ['test_bucket_list_prefix_basic', 1, ['foo/bar', 'foo/baz', 'quux'], 'foo/', undefined, ['foo/bar', 'foo/baz'], []],
    ['test_bucket_listv2_prefix_basic', 2, ['foo/bar', 'foo/baz', 'quux'], 'foo/', undefined, ['foo/bar', 'foo/baz'], []],
    ['test_bucket_list_prefix_alt', 1, ['bar', 'baz', 'foo'], 'ba', undefined, ['bar', 'baz'], []],
    ['test_bucket_listv2_prefix_alt', 2, ['bar', 'baz', 'foo'], 'ba', undefined, ['bar', 'baz'], []],
    ['test_bucket_list_prefix_empty', 1, ['foo/bar', 'foo/baz', 'quux'], '', undefined, ['foo/bar', 'foo/baz', 'quux'], []],
    ['test_bucket_listv2_prefix_empty', 2, ['foo/bar', 'foo/baz', 'quux'], '', undefined, ['foo/bar', 'foo/baz', 'quux'], []],
    ['test_bucket_list_prefix_none', 1, ['foo/bar', 'foo/baz', 'quux'], '', undefined, ['foo/bar', 'foo/baz', 'quux'], []],
    ['test_bucket_listv2_prefix_none', 2, ['foo/bar', 'foo/baz', 'quux'], '', undefined, ['foo/bar', 'foo/baz', 'quux'], []],
    ['test_bucket_list_prefix_not_exist', 1, ['foo/bar', 'foo/baz', 'quux'], 'd', undefined, [], []],
    ['test_bucket_listv2_prefix_not_exist', 2, ['foo/bar', 'foo/baz', 'quux'], 'd', undefined, [], []],
    ['test_bucket_list_prefix_delimiter_basic', 1, ['foo/bar', 'foo/baz/xyzzy', 'quux/thud', 'asdf'], 'foo/', '/', ['foo/bar'], ['foo/baz/']],
    ['test_bucket_listv2_prefix_delimiter_basic', 2, ['foo/bar', 'foo/baz/xyzzy', 'quux/thud', 'asdf'], 'foo/', '/', ['foo/bar'], ['foo/baz/']],
    ['test_bucket_list_prefix_delimiter_alt', 1, ['bar', 'bazar', 'cab', 'foo'], 'ba', 'a', ['bar'], ['baza']],
    ['test_bucket_listv2_prefix_delimiter_alt', 2, ['bar', 'bazar', 'cab', 'foo'], 'ba', 'a', ['bar'], ['baza']],
    ['test_bucket_list_prefix_delimiter_prefix_not_exist', 1, ['b/a/r', 'b/a/c', 'b/a/g', 'g'], '/', 'd', [], []],
    ['test_bucket_listv2_prefix_delimiter_prefix_not_exist', 2, ['b/a/r', 'b/a/c', 'b/a/g', 'g'], '/', 'd', [], []],
    ['test_bucket_list_prefix_delimiter_delimiter_not_exist', 1, ['b/a/c', 'b/a/g', 'b/a/r', 'g'], 'b', 'z', ['b/a/c', 'b/a/g', 'b/a/r'], []],
    ['test_bucket_listv2_prefix_delimiter_delimiter_not_exist', 2, ['b/a/c', 'b/a/g', 'b/a/r', 'g'], 'b', 'z', ['b/a/c', 'b/a/g', 'b/a/r'], []],
    ['test_bucket_list_prefix_delimiter_prefix_delimiter_not_exist', 1, ['b/a/c', 'b/a/g', 'b/a/r', 'g'], 'y', 'z', [], []],
    ['test_bucket_listv2_prefix_delimiter_prefix_delimiter_not_exist', 2, ['b/a/c', 'b/a/g', 'b/a/r', 'g'], 'y', 'z', [], []],
  ] as const)('%s', async (_name, version, keys, prefix, delimiter, expectedKeys, expectedPrefixes) => {
    const bucket = await createObjects(keys);
    const response = version === 1 ? await listV1({ Bucket: bucket, Prefix: prefix, Delimiter: delimiter }) : await listV2({ Bucket: bucket, Prefix: prefix, Delimiter: delimiter });
    expect(response.Prefix ?? '').toBe(prefix);
    if (delimiter !== undefined) expect(response.Delimiter).toBe(delimiter);
    expect(keysOf(response)).toEqual(expectedKeys);
    expect(prefixesOf(response)).toEqual(expectedPrefixes);
  });

  const fourKeys = ['bar', 'baz', 'foo', 'quxx'];

  test('test_bucket_list_maxkeys_one', async () => {
    const bucket = await createObjects(fourKeys);
    let response = await listV1({ Bucket: bucket, MaxKeys: 1 });
    expect(response.IsTruncated).toBe(true);
    expect(keysOf(response)).toEqual(fourKeys.slice(0, 1));
    response = await listV1({ Bucket: bucket, Marker: fourKeys[0] });
    expect(response.IsTruncated).toBe(false);
    expect(keysOf(response)).toEqual(fourKeys.slice(1));
  });

  test('test_bucket_listv2_maxkeys_one', async () => {
    const bucket = await createObjects(fourKeys);
    let response = await listV2({ Bucket: bucket, MaxKeys: 1 });
    expect(response.IsTruncated).toBe(true);
    expect(keysOf(response)).toEqual(fourKeys.slice(0, 1));
    response = await listV2({ Bucket: bucket, StartAfter: fourKeys[0] });
    expect(response.IsTruncated).toBe(false);
    expect(keysOf(response)).toEqual(fourKeys.slice(1));
  });

  test('test_bucket_list_maxkeys_zero', async () => {
    const response = await listV1({ Bucket: await createObjects(fourKeys), MaxKeys: 0 });
    expect(response.IsTruncated).toBe(false);
    expect(keysOf(response)).toEqual([]);
  });

  test('test_bucket_listv2_maxkeys_zero', async () => {
    const response = await listV2({ Bucket: await createObjects(fourKeys), MaxKeys: 0 });
    expect(response.IsTruncated).toBe(false);
    expect(keysOf(response)).toEqual([]);
  });

  test('test_bucket_list_maxkeys_none', async () => {
    const response = await listV1({ Bucket: await createObjects(fourKeys) });
    expect(response.IsTruncated).toBe(false);
    expect(keysOf(response)).toEqual(fourKeys);
    expect(response.MaxKeys).toBe(1000);
  });

  test('test_bucket_listv2_maxkeys_none', async () => {
    const response = await listV2({ Bucket: await createObjects(fourKeys) });
    expect(response.IsTruncated).toBe(false);
    expect(keysOf(response)).toEqual(fourKeys);
    expect(response.MaxKeys).toBe(1000);
  });

  test('test_bucket_list_maxkeys_invalid', async () => {
    const bucket = await createObjects(fourKeys);
    const invalid = client();
    invalid.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { query: Record<string, string> }).query['max-keys'] = 'blah';
        return next(args);
      },
      { step: 'build', name: 'invalidMaxKeys' },
    );
    await expectError(invalid.send(new ListObjectsCommand({ Bucket: bucket })), 400, 'InvalidArgument');
  });

  test('test_bucket_list_marker_none', async () => {
    expect((await listV1({ Bucket: await createObjects(fourKeys) })).Marker).toBe('');
  });

  test('test_bucket_list_marker_empty', async () => {
    const response = await listV1({ Bucket: await createObjects(fourKeys), Marker: '' });
    expect(response.Marker).toBe('');
    expect(response.IsTruncated).toBe(false);
    expect(keysOf(response)).toEqual(fourKeys);
  });

  test('test_bucket_listv2_continuationtoken_empty', async () => {
    const response = await listV2({ Bucket: await createObjects(fourKeys), ContinuationToken: '' });
    expect(response.ContinuationToken).toBe('');
    expect(response.IsTruncated).toBe(false);
    expect(keysOf(response)).toEqual(fourKeys);
  });

  test('test_bucket_listv2_continuationtoken', async () => {
    const bucket = await createObjects(fourKeys);
    const first = await listV2({ Bucket: bucket, MaxKeys: 1 });
    const response = await listV2({ Bucket: bucket, ContinuationToken: first.NextContinuationToken });
    expect(response.ContinuationToken).toBe(first.NextContinuationToken);
    expect(response.IsTruncated).toBe(false);
    expect(keysOf(response)).toEqual(['baz', 'foo', 'quxx']);
  });

  test('test_bucket_listv2_both_continuationtoken_startafter', async () => {
    const bucket = await createObjects(fourKeys);
    const first = await listV2({ Bucket: bucket, StartAfter: 'bar', MaxKeys: 1 });
    const response = await listV2({ Bucket: bucket, StartAfter: 'bar', ContinuationToken: first.NextContinuationToken });
    expect(response.ContinuationToken).toBe(first.NextContinuationToken);
    expect(response.StartAfter).toBe('bar');
    expect(response.IsTruncated).toBe(false);
    expect(keysOf(response)).toEqual(['foo', 'quxx']);
  });

  test.each([
    ['test_bucket_list_marker_not_in_list', 1, 'blah', ['foo', 'quxx']],
    ['test_bucket_listv2_startafter_not_in_list', 2, 'blah', ['foo', 'quxx']],
    ['test_bucket_list_marker_after_list', 1, 'zzz', []],
    ['test_bucket_listv2_startafter_after_list', 2, 'zzz', []],
  ] as const)('%s', async (_name, version, marker, expected) => {
    const bucket = await createObjects(fourKeys);
    if (version === 1) {
      const response = await listV1({ Bucket: bucket, Marker: marker });
      expect(response.Marker).toBe(marker);
      expect(response.IsTruncated).toBe(false);
      expect(keysOf(response)).toEqual(expected);
    } else {
      const response = await listV2({ Bucket: bucket, StartAfter: marker });
      expect(response.StartAfter).toBe(marker);
      expect(response.IsTruncated).toBe(false);
      expect(keysOf(response)).toEqual(expected);
    }
  });

  // Ported without get_object_acl's DisplayName (S3 no longer returns display names): the owner's ID.
  test('test_bucket_list_return_data', async () => {
    const keyNames = ['bar', 'baz', 'foo'];
    const bucket = await createObjects(keyNames);
    const heads = new Map<string, { etag?: string; size?: number; lastModified?: Date }>();
    for (const key of keyNames) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      heads.set(key, { etag: head.ETag, size: head.ContentLength, lastModified: head.LastModified });
    }
    const response = await listV1({ Bucket: bucket });
    for (const object of response.Contents ?? []) {
      const head = heads.get(object.Key!)!;
      expect(object.ETag).toBe(head.etag);
      expect(object.Size).toBe(head.size);
      expect(object.Owner?.ID).toBeTruthy();
      expect(Math.floor(object.LastModified!.getTime() / 1000)).toBe(head.lastModified!.getTime() / 1000);
    }
  });

  test.each([['test_bucket_list_objects_anonymous_fail', ''], ['test_bucket_listv2_objects_anonymous_fail', '?list-type=2']])('%s', async (_name, query) => {
    const bucket = await newBucket();
    const response = await fetch(`${local.endpoint}/${bucket}${query}`);
    expect(response.status).toBe(403);
    expect(errorCode(await response.text())).toBe('AccessDenied');
  });

  test('test_bucket_notexist', async () => {
    await expectError(listV1({ Bucket: newBucketName() }), 404, 'NoSuchBucket');
  });

  test('test_bucketv2_notexist', async () => {
    await expectError(listV2({ Bucket: newBucketName() }), 404, 'NoSuchBucket');
  });

  test('test_bucket_list_special_prefix', async () => {
    const bucket = await createObjects(['_bla/1', '_bla/2', '_bla/3', '_bla/4', 'abcd']);
    expect(keysOf(await listV1({ Bucket: bucket }))).toHaveLength(5);
    expect(keysOf(await listV1({ Bucket: bucket, Prefix: '_bla/' }))).toHaveLength(4);
  });
});

// ---------------------------------------------------------------------------------------------
// Buckets
// ---------------------------------------------------------------------------------------------

describe('buckets', () => {
  test('test_bucket_delete_notexist', async () => {
    await expectError(s3.send(new DeleteBucketCommand({ Bucket: newBucketName() })), 404, 'NoSuchBucket');
  });

  test('test_bucket_delete_nonempty', async () => {
    const bucket = await createObjects(['foo']);
    await expectError(s3.send(new DeleteBucketCommand({ Bucket: bucket })), 409, 'BucketNotEmpty');
  });

  test('test_bucket_create_delete', async () => {
    const bucket = await newBucket();
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    await expectError(s3.send(new DeleteBucketCommand({ Bucket: bucket })), 404, 'NoSuchBucket');
  });

  test('test_bucket_head', async () => {
    const response = await s3.send(new HeadBucketCommand({ Bucket: await newBucket() }));
    expect(response.$metadata.httpStatusCode).toBe(200);
  });

  test('test_bucket_head_notexist', async () => {
    await expectError(s3.send(new HeadBucketCommand({ Bucket: newBucketName() })), 404);
  });

  const checkBadBucketName = (name: string) => expectError(s3.send(new CreateBucketCommand({ Bucket: name })), 400, 'InvalidBucketName');

  test('test_bucket_create_naming_bad_short_one', () => checkBadBucketName('a'));
  test('test_bucket_create_naming_bad_short_two', () => checkBadBucketName('aa'));

  test.each([60, 61, 62, 63])('test_bucket_create_naming_good_long_%i', async (length) => {
    const prefix = newBucketName();
    const response = await s3.send(new CreateBucketCommand({ Bucket: prefix + 'a'.repeat(length - prefix.length) }));
    expect(response.$metadata.httpStatusCode).toBe(200);
  });

  test('test_bucket_list_long_name', async () => {
    const prefix = newBucketName();
    const bucket = await newBucket(prefix + 'a'.repeat(61 - prefix.length));
    expect(keysOf(await listV1({ Bucket: bucket }))).toEqual([]);
  });

  test.each([
    ['test_bucket_create_naming_dns_underscore', 'foo_bar'],
    ['test_bucket_create_naming_dns_dash_at_end', 'foo-'],
    ['test_bucket_create_naming_dns_dot_dot', 'foo..bar'],
    ['test_bucket_create_naming_dns_dot_dash', 'foo.-bar'],
    ['test_bucket_create_naming_dns_dash_dot', 'foo-.bar'],
  ])('%s', async (_name, invalid) => {
    // ceph rewrites the URL past botocore's own validation; the JavaScript SDK sends what it is given.
    await checkBadBucketName(invalid);
  });

  test('test_bucket_create_naming_dns_long', async () => {
    const prefix = `compat-${runId}-`;
    const response = await s3.send(new CreateBucketCommand({ Bucket: prefix + 'a'.repeat(63 - prefix.length) }));
    expect(response.$metadata.httpStatusCode).toBe(200);
  });

  test('test_bucket_create_exists', async () => {
    const bucket = await newBucket();
    // us-east-1 answers 200 for a bucket you already own; every other region 409 BucketAlreadyOwnedByYou.
    const error = await s3.send(new CreateBucketCommand({ Bucket: bucket })).then(() => undefined, (caught: SdkError) => caught);
    if (error) expect({ status: error.$metadata.httpStatusCode, code: error.name }).toEqual({ status: 409, code: 'BucketAlreadyOwnedByYou' });
  });

  test('test_buckets_create_then_list', async () => {
    const names = Array.from({ length: 5 }, newBucketName);
    for (const name of names) await s3.send(new CreateBucketCommand({ Bucket: name }));
    const listed = (await s3.send(new ListBucketsCommand({}))).Buckets!.map((bucket) => bucket.Name);
    for (const name of names) expect(listed).toContain(name);
  });

  test('test_buckets_list_ctime', async () => {
    const before = Date.now() - 24 * 3600 * 1000;
    const names = Array.from({ length: 5 }, newBucketName);
    for (const name of names) await s3.send(new CreateBucketCommand({ Bucket: name }));
    for (const bucket of (await s3.send(new ListBucketsCommand({}))).Buckets!) {
      if (names.includes(bucket.Name!)) expect(bucket.CreationDate!.getTime()).toBeGreaterThanOrEqual(before);
    }
  });

  test('test_list_buckets_invalid_auth', async () => {
    await expectError(client({ credentials: { accessKeyId: 'AKIAINVALIDKEY', secretAccessKey: 'x' } }).send(new ListBucketsCommand({})), 403);
  });

  test('test_list_buckets_bad_auth', async () => {
    await expectError(client({ credentials: { ...LOCAL_CREDENTIALS, secretAccessKey: 'not-the-secret' } }).send(new ListBucketsCommand({})), 403);
  });

  // On an account of its own: the first listing expects no buckets at all.
  test('test_list_buckets_paginated', async () => {
    const fresh = await startS3();
    const own = client({}, fresh);
    try {
      let response = await own.send(new ListBucketsCommand({ MaxBuckets: 1 }));
      expect(response.Buckets ?? []).toHaveLength(0);
      expect(response.ContinuationToken).toBeUndefined();
      const bucket1 = newBucketName();
      await own.send(new CreateBucketCommand({ Bucket: bucket1 }));
      response = await own.send(new ListBucketsCommand({ MaxBuckets: 1 }));
      expect(response.Buckets!.map((bucket) => bucket.Name)).toEqual([bucket1]);
      expect(response.ContinuationToken).toBeUndefined();
      const bucket2 = newBucketName();
      await own.send(new CreateBucketCommand({ Bucket: bucket2 }));
      response = await own.send(new ListBucketsCommand({ MaxBuckets: 1 }));
      expect(response.Buckets!.map((bucket) => bucket.Name)).toEqual([bucket1]);
      const continuation = response.ContinuationToken;
      expect(continuation).toBeDefined();
      response = await own.send(new ListBucketsCommand({ MaxBuckets: 1, ContinuationToken: continuation }));
      expect(response.Buckets!.map((bucket) => bucket.Name)).toEqual([bucket2]);
      expect(response.ContinuationToken).toBeUndefined();
    } finally {
      own.destroy();
      await fresh.stop();
    }
  });

  test('test_bucket_create_naming_good_starts_alpha', async () => {
    expect((await s3.send(new CreateBucketCommand({ Bucket: `a${newBucketName()}foo` }))).$metadata.httpStatusCode).toBe(200);
  });

  test('test_bucket_create_naming_good_starts_digit', async () => {
    expect((await s3.send(new CreateBucketCommand({ Bucket: `0${newBucketName()}foo` }))).$metadata.httpStatusCode).toBe(200);
  });

  test('test_bucket_create_naming_good_contains_period', async () => {
    expect((await s3.send(new CreateBucketCommand({ Bucket: `${newBucketName()}aaa.111` }))).$metadata.httpStatusCode).toBe(200);
  });

  test('test_bucket_create_naming_good_contains_hyphen', async () => {
    expect((await s3.send(new CreateBucketCommand({ Bucket: `${newBucketName()}aaa-111` }))).$metadata.httpStatusCode).toBe(200);
  });

  test('test_bucket_recreate_not_overriding', async () => {
    const keyNames = ['mykey1', 'mykey2'];
    const bucket = await createObjects(keyNames);
    expect(keysOf(await listV1({ Bucket: bucket }))).toEqual(keyNames);
    await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => undefined);
    expect(keysOf(await listV1({ Bucket: bucket }))).toEqual(keyNames);
  });

  // The last step, put_object_acl private, is answered as a BucketOwnerEnforced bucket answers it.
  test('test_bucket_create_special_key_names', async () => {
    const keyNames = [' ', '"', '$', '%', '&', "'", '<', '>', '_', '_ ', '_ _', '__'];
    const bucket = await createObjects(keyNames);
    expect(keysOf(await listV1({ Bucket: bucket }))).toEqual(keyNames);
    for (const name of keyNames) {
      expect(await textOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: name })))).toBe(name);
      await expectError(s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: name, ACL: 'private' })), 400, 'AccessControlListNotSupported');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------------------------

describe('objects', () => {
  test('test_object_write_to_nonexist_bucket', async () => {
    await expectError(s3.send(new PutObjectCommand({ Bucket: 'whatchutalkinboutwillis', Key: 'foo', Body: 'foo' })), 404, 'NoSuchBucket');
  });

  test('test_object_read_not_exist', async () => {
    await expectError(s3.send(new GetObjectCommand({ Bucket: await newBucket(), Key: 'bar' })), 404, 'NoSuchKey');
  });

  test('test_object_requestid_matches_header_on_error', async () => {
    const bucket = await newBucket();
    const response = await rawRequest('GET', `/${bucket}/bar`);
    expect(response.status).toBe(404);
    const requestId = /<RequestId>([^<]*)<\/RequestId>/.exec(response.text)?.[1];
    expect(requestId).toBeTruthy();
    expect(requestId).toBe(response.headers['x-amz-request-id']);
  });

  test('test_multi_object_delete', async () => {
    const keyNames = ['key0', 'key1', 'key2'];
    const bucket = await createObjects(keyNames);
    expect(keysOf(await listV1({ Bucket: bucket }))).toHaveLength(3);
    for (let round = 0; round < 2; round++) {
      const response = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keyNames.map((Key) => ({ Key })) } }));
      expect(response.Deleted).toHaveLength(3);
      expect(response.Errors).toBeUndefined();
      expect((await listV1({ Bucket: bucket })).Contents).toBeUndefined();
    }
  });

  test('test_multi_objectv2_delete', async () => {
    const keyNames = ['key0', 'key1', 'key2'];
    const bucket = await createObjects(keyNames);
    expect(keysOf(await listV2({ Bucket: bucket }))).toHaveLength(3);
    for (let round = 0; round < 2; round++) {
      const response = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keyNames.map((Key) => ({ Key })) } }));
      expect(response.Deleted).toHaveLength(3);
      expect(response.Errors).toBeUndefined();
      expect((await listV2({ Bucket: bucket })).Contents).toBeUndefined();
    }
  });

  test.each([['test_multi_object_delete_key_limit', 1], ['test_multi_objectv2_delete_key_limit', 2]])('%s', async (_name, version) => {
    const keyNames = Array.from({ length: 1001 }, (_, index) => `key-${index}`);
    const bucket = await newBucket();
    for (let start = 0; start < keyNames.length; start += 25) {
      await Promise.all(keyNames.slice(start, start + 25).map((key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }))));
    }
    let count = 0;
    if (version === 1) {
      // botocore's list_objects paginator: the next marker, or the last key of a truncated page.
      let marker: string | undefined;
      for (;;) {
        const page = await listV1({ Bucket: bucket, Marker: marker });
        count += page.Contents?.length ?? 0;
        if (!page.IsTruncated) break;
        marker = page.NextMarker ?? page.Contents!.at(-1)!.Key;
      }
    }
    else for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket })) count += page.Contents?.length ?? 0;
    expect(count).toBe(1001);
    await expectError(s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keyNames.map((Key) => ({ Key })) } })), 400);
  });

  test('test_object_head_zero_bytes', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: '' }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'foo' }))).ContentLength).toBe(0);
  });

  test('test_object_write_check_etag', async () => {
    const response = await s3.send(new PutObjectCommand({ Bucket: await newBucket(), Key: 'foo', Body: 'bar' }));
    expect(response.$metadata.httpStatusCode).toBe(200);
    expect(response.ETag).toBe('"37b51d194a7513e45b56f6524f2d51f2"');
  });

  test('test_object_write_cache_control', async () => {
    const bucket = await newBucket();
    const cacheControl = 'public, max-age=14400';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'bar', CacheControl: cacheControl }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'foo' }))).CacheControl).toBe(cacheControl);
  });

  test('test_object_write_expires', async () => {
    const bucket = await newBucket();
    const expires = new Date(Math.floor(Date.now() / 1000) * 1000 + 6000 * 1000);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'bar', Expires: expires }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'foo' }));
    expect(new Date(head.ExpiresString!).getTime()).toBe(expires.getTime());
  });

  test('test_object_write_read_update_read_delete', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'bar' }));
    expect(await textOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'foo' })))).toBe('bar');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'soup' }));
    expect(await textOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'foo' })))).toBe('soup');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'foo' }));
  });

  async function setGetMetadata(metadata: string, bucket?: string): Promise<string | undefined> {
    const name = bucket ?? (await newBucket());
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'foo', Body: 'bar', Metadata: { meta1: metadata } }));
    return (await s3.send(new GetObjectCommand({ Bucket: name, Key: 'foo' }))).Metadata?.meta1;
  }

  test('test_object_set_get_metadata_none_to_good', async () => {
    expect(await setGetMetadata('mymeta')).toBe('mymeta');
  });

  test('test_object_set_get_metadata_none_to_empty', async () => {
    expect(await setGetMetadata('')).toBe('');
  });

  test('test_object_set_get_metadata_overwrite_to_empty', async () => {
    const bucket = await newBucket();
    expect(await setGetMetadata('oldmeta', bucket)).toBe('oldmeta');
    expect(await setGetMetadata('', bucket)).toBe('');
  });

  // The value goes out as UTF-8 bytes (as many clients send it) and comes back as S3 documents it
  // for non-ASCII metadata: RFC 2047-encoded (ceph's RGW-only expectation of raw bytes is not AWS's).
  test('test_object_set_get_unicode_metadata', async () => {
    const bucket = await newBucket();
    const value = 'Hello World\xe9';
    const headers = { host: local.host, 'x-amz-meta-meta1': value, 'content-length': '3', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
    const signed = signRequest({ method: 'PUT', path: `/${bucket}/foo`, query: [], headers }, LOCAL_CREDENTIALS, LOCAL_REGION);
    const put = await rawRequest('PUT', `/${bucket}/foo`, {
      headers: { ...headers, ...signed, 'x-amz-meta-meta1': Buffer.from(value, 'utf8').toString('latin1') },
      body: Buffer.from('bar'),
      sign: false,
    });
    expect(put.status).toBe(200);
    const got = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'foo' }))).Metadata!.meta1;
    expect(got).toBe(`=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`);
  });

  test('test_object_metadata_replaced_on_put', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'bar', Metadata: { meta1: 'bar' } }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'bar' }));
    expect((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'foo' }))).Metadata).toEqual({});
  });

  test('test_object_write_file', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: Buffer.from('bar') }));
    expect(await textOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'foo' })))).toBe('bar');
  });

  test('test_object_anon_put', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo' }));
    const response = await fetch(`${local.endpoint}/${bucket}/foo`, { method: 'PUT', body: 'foo' });
    expect(response.status).toBe(403);
    expect(errorCode(await response.text())).toBe('AccessDenied');
  });

  test('test_object_put_authenticated', async () => {
    const response = await s3.send(new PutObjectCommand({ Bucket: await newBucket(), Key: 'foo', Body: 'foo' }));
    expect(response.$metadata.httpStatusCode).toBe(200);
  });

  test('test_object_raw_put_authenticated_expired', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo' }));
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'foo' }), { expiresIn: 1, signingDate: new Date(Date.now() - 1000_000) });
    expect((await fetch(url, { method: 'PUT', body: 'foo' })).status).toBe(403);
  });

  // ceph creates the bucket and object public-read first; the response-* overrides are what it tests.
  test('test_object_raw_response_headers', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo' }));
    const response = await s3.send(new GetObjectCommand({
      Bucket: bucket, Key: 'foo', ResponseCacheControl: 'no-cache', ResponseContentDisposition: 'bla', ResponseContentEncoding: 'aaa',
      ResponseContentLanguage: 'esperanto', ResponseContentType: 'foo/bar', ResponseExpires: new Date('1994-10-29T19:43:31Z'),
    }));
    expect(response.$metadata.httpStatusCode).toBe(200);
    expect(response).toMatchObject({ ContentType: 'foo/bar', ContentDisposition: 'bla', ContentLanguage: 'esperanto', ContentEncoding: 'aaa', CacheControl: 'no-cache' });
  });

  // Presigned GETs of a private object (ceph makes it public-read first, which BucketOwnerEnforced refuses).
  test('test_object_raw_get_x_amz_expires_not_expired', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'foo' }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'foo' }), { expiresIn: 100000 });
    expect((await fetch(url)).status).toBe(200);
  });

  test('test_object_raw_get_x_amz_expires_out_range_zero', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'foo' }));
    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'foo' }), { expiresIn: 60 }));
    // The SDK refuses to presign for 0 s; a URL signed for 0 s, as botocore makes it, expires at once.
    const query: Array<[string, string]> = [...url.searchParams.entries()].filter(([name]) => name !== 'X-Amz-Signature').map(([name, value]) => [name, name === 'X-Amz-Expires' ? '0' : value]);
    expect((await fetch(await presignedWith(url, query))).status).toBe(403);
  });

  // S3's error table answers an out-of-range X-Amz-Expires with 400 AuthorizationQueryParametersError
  // (ceph's suite only checks for a refusal, as 403).
  test('test_object_raw_get_x_amz_expires_out_max_range', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'foo' }));
    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'foo' }), { expiresIn: 60 }));
    const query: Array<[string, string]> = [...url.searchParams.entries()].filter(([name]) => name !== 'X-Amz-Signature').map(([name, value]) => [name, name === 'X-Amz-Expires' ? '609901' : value]);
    const response = await fetch(await presignedWith(url, query));
    expect(response.status).toBe(400);
    expect(errorCode(await response.text())).toBe('AuthorizationQueryParametersError');
  });

  test('test_object_raw_get_x_amz_expires_out_positive_range', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'foo' }));
    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'foo' }), { expiresIn: 60 }));
    const query: Array<[string, string]> = [...url.searchParams.entries()].filter(([name]) => name !== 'X-Amz-Signature').map(([name, value]) => [name, name === 'X-Amz-Expires' ? '-7' : value]);
    const response = await fetch(await presignedWith(url, query));
    expect(response.status).toBe(400);
    expect(errorCode(await response.text())).toBe('AuthorizationQueryParametersError');
  });

  test('test_object_read_unreadable', async () => {
    const bucket = await newBucket();
    const error = await expectError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: '\xae\x8a-' })), 400);
    expect(error.message).toBe("Couldn't parse the specified URI.");
  });

  test.each([
    ['test_atomic_read_1mb', 1],
    ['test_atomic_read_4mb', 4],
    ['test_atomic_read_8mb', 8],
  ])('%s', async (_name, megabytes) => {
    const size = megabytes * MB;
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'testobj', Body: Buffer.alloc(size, 'A') }));
    const reader = client();
    const response = await reader.send(new GetObjectCommand({ Bucket: bucket, Key: 'testobj' }));
    const chunks: Buffer[] = [];
    let interrupted = false;
    for await (const chunk of response.Body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      if (!interrupted) {
        interrupted = true;
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'testobj', Body: Buffer.alloc(size, 'B') }));
      }
    }
    reader.destroy();
    expect(Buffer.concat(chunks).equals(Buffer.alloc(size, 'A'))).toBe(true);
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'testobj' })))).equals(Buffer.alloc(size, 'B'))).toBe(true);
  });

  /** ceph's FakeWriteFile with an interrupt: the body's last byte is sent after `interrupt` resolves. */
  function interruptedBody(size: number, character: string, interrupt: () => Promise<unknown>): Readable {
    return Readable.from((async function* () {
      yield Buffer.alloc(size - 1, character);
      await interrupt();
      yield Buffer.alloc(1, character);
    })());
  }

  test.each([
    ['test_atomic_write_1mb', 1],
    ['test_atomic_write_4mb', 4],
    ['test_atomic_write_8mb', 8],
  ])('%s', async (_name, megabytes) => {
    const size = megabytes * MB;
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'testobj', Body: Buffer.alloc(size, 'A') }));
    const verifyA = async () => expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'testobj' })))).equals(Buffer.alloc(size, 'A'))).toBe(true);
    await verifyA();
    const writer = client();
    await writer.send(new PutObjectCommand({ Bucket: bucket, Key: 'testobj', Body: interruptedBody(size, 'B', verifyA), ContentLength: size }));
    writer.destroy();
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'testobj' })))).equals(Buffer.alloc(size, 'B'))).toBe(true);
  });

  test.each([
    ['test_atomic_dual_write_1mb', 1],
    ['test_atomic_dual_write_4mb', 4],
    ['test_atomic_dual_write_8mb', 8],
  ])('%s', async (_name, megabytes) => {
    const size = megabytes * MB;
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'testobj' }));
    const writer = client();
    await writer.send(new PutObjectCommand({
      Bucket: bucket, Key: 'testobj', ContentLength: size,
      Body: interruptedBody(size, 'B', () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'testobj', Body: Buffer.alloc(size, 'A') }))),
    }));
    writer.destroy();
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'testobj' })))).equals(Buffer.alloc(size, 'B'))).toBe(true);
  });

  test('test_atomic_conditional_write_1mb', async () => {
    const size = MB;
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'testobj', Body: Buffer.alloc(size, 'A') }));
    const verifyA = async () => expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'testobj' })))).equals(Buffer.alloc(size, 'A'))).toBe(true);
    const writer = client();
    await writer.send(new PutObjectCommand({ Bucket: bucket, Key: 'testobj', IfMatch: '*', ContentLength: size, Body: interruptedBody(size, 'B', verifyA) }));
    writer.destroy();
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'testobj' })))).equals(Buffer.alloc(size, 'B'))).toBe(true);
  });

  test('test_atomic_multipart_upload_write', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'bar' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'foo' }));
    expect(await textOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'foo' })))).toBe('bar');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'foo', UploadId }));
    expect(await textOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'foo' })))).toBe('bar');
  });
});

// ---------------------------------------------------------------------------------------------
// Conditional requests
// ---------------------------------------------------------------------------------------------

describe('conditional requests', () => {
  async function fooBar(): Promise<{ bucket: string; etag: string }> {
    const bucket = await newBucket();
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'bar' }));
    return { bucket, etag: ETag! };
  }
  const getFoo = (bucket: string, extra: Partial<ConstructorParameters<typeof GetObjectCommand>[0]> = {}) =>
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'foo', ...extra }));

  test('test_get_object_ifmatch_good', async () => {
    const { bucket, etag } = await fooBar();
    expect(await textOf(await getFoo(bucket, { IfMatch: etag }))).toBe('bar');
  });

  test('test_get_object_ifmatch_failed', async () => {
    const { bucket } = await fooBar();
    await expectError(getFoo(bucket, { IfMatch: '"ABCORZ"' }), 412, 'PreconditionFailed');
  });

  test('test_get_object_ifnonematch_good', async () => {
    const { bucket, etag } = await fooBar();
    const error = await expectError(getFoo(bucket, { IfNoneMatch: etag }), 304);
    expect(error.$response?.headers.etag).toBe(etag);
  });

  test('test_get_object_ifnonematch_failed', async () => {
    const { bucket } = await fooBar();
    expect(await textOf(await getFoo(bucket, { IfNoneMatch: 'ABCORZ' }))).toBe('bar');
  });

  test('test_get_object_ifmodifiedsince_good', async () => {
    const { bucket } = await fooBar();
    expect(await textOf(await getFoo(bucket, { IfModifiedSince: new Date('Sat, 29 Oct 1994 19:43:31 GMT') }))).toBe('bar');
  });

  test('test_get_object_ifmodifiedsince_failed', async () => {
    const { bucket, etag } = await fooBar();
    const lastModified = (await getFoo(bucket)).LastModified!;
    const after = new Date(lastModified.getTime() + 1000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const error = await expectError(getFoo(bucket, { IfModifiedSince: after }), 304);
    expect(error.$response?.headers.etag).toBe(etag);
  });

  test('test_get_object_ifunmodifiedsince_good', async () => {
    const { bucket } = await fooBar();
    await expectError(getFoo(bucket, { IfUnmodifiedSince: new Date('Sat, 29 Oct 1994 19:43:31 GMT') }), 412, 'PreconditionFailed');
  });

  test('test_get_object_ifunmodifiedsince_failed', async () => {
    const { bucket } = await fooBar();
    expect(await textOf(await getFoo(bucket, { IfUnmodifiedSince: new Date('Sat, 29 Oct 2100 19:43:31 GMT') }))).toBe('bar');
  });

  const putWithHeader = (bucket: string, headers: Record<string, string>, body: string) => {
    const conditional = clientWithHeaders(headers);
    return conditional.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: body })).finally(() => conditional.destroy());
  };

  test('test_put_object_ifmatch_good', async () => {
    const { bucket, etag } = await fooBar();
    await putWithHeader(bucket, { 'If-Match': etag.replace(/"/g, '') }, 'zar');
    expect(await textOf(await getFoo(bucket))).toBe('zar');
  });

  test('test_put_object_ifmatch_failed', async () => {
    const { bucket } = await fooBar();
    await expectError(putWithHeader(bucket, { 'If-Match': '"ABCORZ"' }, 'zar'), 412, 'PreconditionFailed');
    expect(await textOf(await getFoo(bucket))).toBe('bar');
  });

  test('test_put_object_ifmatch_overwrite_existed_good', async () => {
    const { bucket } = await fooBar();
    await putWithHeader(bucket, { 'If-Match': '*' }, 'zar');
    expect(await textOf(await getFoo(bucket))).toBe('zar');
  });

  test('test_put_object_ifmatch_nonexisted_failed', async () => {
    const bucket = await newBucket();
    await expectError(putWithHeader(bucket, { 'If-Match': '*' }, 'bar'), 404, 'NoSuchKey');
    await expectError(getFoo(bucket), 404, 'NoSuchKey');
  });

  test('test_put_object_ifnonmatch_good', async () => {
    const { bucket } = await fooBar();
    await putWithHeader(bucket, { 'If-None-Match': 'ABCORZ' }, 'zar');
    expect(await textOf(await getFoo(bucket))).toBe('zar');
  });

  test('test_put_object_ifnonmatch_failed', async () => {
    const { bucket, etag } = await fooBar();
    await expectError(putWithHeader(bucket, { 'If-None-Match': etag.replace(/"/g, '') }, 'zar'), 412, 'PreconditionFailed');
    expect(await textOf(await getFoo(bucket))).toBe('bar');
  });

  test('test_put_object_ifnonmatch_nonexisted_good', async () => {
    const bucket = await newBucket();
    await putWithHeader(bucket, { 'If-None-Match': '*' }, 'bar');
    expect(await textOf(await getFoo(bucket))).toBe('bar');
  });

  test('test_put_object_ifnonmatch_overwrite_existed_failed', async () => {
    const { bucket } = await fooBar();
    await expectError(putWithHeader(bucket, { 'If-None-Match': '*' }, 'zar'), 412, 'PreconditionFailed');
    expect(await textOf(await getFoo(bucket))).toBe('bar');
  });

  test('test_put_object_if_match', async () => {
    const bucket = await newBucket();
    const key = 'obj';
    const put = (extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]>) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, ...extra }));
    const etag = (await put({ IfNoneMatch: '*' })).ETag!;
    await expectError(put({ IfNoneMatch: '*' }), 412, 'PreconditionFailed');
    await expectError(put({ IfNoneMatch: etag }), 412, 'PreconditionFailed');
    expect((await put({ IfNoneMatch: 'badetag' })).$metadata.httpStatusCode).toBe(200);
    await put({ IfMatch: etag });
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    await expectError(put({ IfMatch: '*' }), 404, 'NoSuchKey');
    await expectError(put({ IfMatch: 'badetag' }), 404, 'NoSuchKey');
    expect((await put({ IfNoneMatch: etag })).$metadata.httpStatusCode).toBe(200);
    expect((await put({ IfMatch: '*' })).$metadata.httpStatusCode).toBe(200);
    await expectError(put({ IfMatch: 'badetag' }), 412, 'PreconditionFailed');
    expect((await put({ IfMatch: etag })).$metadata.httpStatusCode).toBe(200);
  });

  test('test_copy_object_ifmatch_good', async () => {
    const { bucket, etag } = await fooBar();
    await s3.send(new CopyObjectCommand({ Bucket: bucket, CopySource: `${bucket}/foo`, CopySourceIfMatch: etag, Key: 'bar' }));
    expect(await textOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'bar' })))).toBe('bar');
  });

  test('test_copy_object_ifmatch_failed', async () => {
    const { bucket } = await fooBar();
    await expectError(s3.send(new CopyObjectCommand({ Bucket: bucket, CopySource: `${bucket}/foo`, CopySourceIfMatch: 'ABCORZ', Key: 'bar' })), 412, 'PreconditionFailed');
  });

  test('test_copy_object_ifnonematch_good', async () => {
    const { bucket, etag } = await fooBar();
    await expectError(s3.send(new CopyObjectCommand({ Bucket: bucket, CopySource: `${bucket}/foo`, CopySourceIfNoneMatch: etag, Key: 'bar' })), 412, 'PreconditionFailed');
  });

  test('test_copy_object_ifnonematch_failed', async () => {
    const { bucket } = await fooBar();
    await s3.send(new CopyObjectCommand({ Bucket: bucket, CopySource: `${bucket}/foo`, CopySourceIfNoneMatch: 'ABCORZ', Key: 'bar' }));
    expect(await textOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'bar' })))).toBe('bar');
  });
});

// ---------------------------------------------------------------------------------------------
// Copies
// ---------------------------------------------------------------------------------------------

describe('copies', () => {
  test('test_object_copy_zero_size', async () => {
    const bucket = await createObjects(['foo123bar']);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo123bar', Body: '' }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'bar321foo', CopySource: `${bucket}/foo123bar` }));
    expect((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'bar321foo' }))).ContentLength).toBe(0);
  });

  test('test_object_copy_16m', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'obj1', Body: Buffer.alloc(16 * MB) }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'obj2', CopySource: `${bucket}/obj1` }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'obj2' }))).ContentLength).toBe(16 * MB);
  });

  test('test_object_copy_same_bucket', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo123bar', Body: 'foo' }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'bar321foo', CopySource: `${bucket}/foo123bar` }));
    expect(await textOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'bar321foo' })))).toBe('foo');
  });

  test('test_object_copy_verify_contenttype', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo123bar', Body: 'foo', ContentType: 'text/bla' }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'bar321foo', CopySource: `${bucket}/foo123bar` }));
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'bar321foo' }));
    expect(await textOf(response)).toBe('foo');
    expect(response.ContentType).toBe('text/bla');
  });

  test('test_object_copy_to_itself', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo123bar', Body: 'foo' }));
    await expectError(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'foo123bar', CopySource: `${bucket}/foo123bar` })), 400, 'InvalidRequest');
  });

  test('test_object_copy_to_itself_with_metadata', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo123bar', Body: 'foo' }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'foo123bar', CopySource: `${bucket}/foo123bar`, Metadata: { foo: 'bar' }, MetadataDirective: 'REPLACE' }));
    expect((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'foo123bar' }))).Metadata).toEqual({ foo: 'bar' });
  });

  test('test_object_copy_diff_bucket', async () => {
    const bucket1 = await newBucket();
    const bucket2 = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket1, Key: 'foo123bar', Body: 'foo' }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket2, Key: 'bar321foo', CopySource: `${bucket1}/foo123bar` }));
    expect(await textOf(await s3.send(new GetObjectCommand({ Bucket: bucket2, Key: 'bar321foo' })))).toBe('foo');
  });

  test.each([3, MB])('test_object_copy_retaining_metadata (%i bytes)', async (size) => {
    const bucket = await newBucket();
    const metadata = { key1: 'value1', key2: 'value2' };
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo123bar', Metadata: metadata, ContentType: 'audio/ogg', Body: Buffer.alloc(size) }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'bar321foo', CopySource: `${bucket}/foo123bar` }));
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'bar321foo' }));
    expect(response).toMatchObject({ ContentType: 'audio/ogg', Metadata: metadata, ContentLength: size });
  });

  test.each([3, MB])('test_object_copy_replacing_metadata (%i bytes)', async (size) => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo123bar', Metadata: { key1: 'value1', key2: 'value2' }, ContentType: 'audio/ogg', Body: Buffer.alloc(size) }));
    const metadata = { key3: 'value3', key2: 'value2' };
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'bar321foo', CopySource: `${bucket}/foo123bar`, Metadata: metadata, MetadataDirective: 'REPLACE', ContentType: 'audio/mpeg' }));
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'bar321foo' }));
    expect(response).toMatchObject({ ContentType: 'audio/mpeg', Metadata: metadata, ContentLength: size });
  });

  test('test_object_copy_bucket_not_found', async () => {
    const bucket = await newBucket();
    await expectError(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'bar321foo', CopySource: `${bucket}-fake/foo123bar` })), 404);
  });

  test('test_object_copy_key_not_found', async () => {
    const bucket = await newBucket();
    await expectError(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'bar321foo', CopySource: `${bucket}/foo123bar` })), 404);
  });
});

// ---------------------------------------------------------------------------------------------
// Multipart uploads
// ---------------------------------------------------------------------------------------------

describe('multipart uploads', () => {
  test('test_multipart_upload_empty', async () => {
    const bucket = await newBucket();
    const { uploadId } = await multipartUpload(bucket, 'mymultipart', 0);
    await expectError(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mymultipart', UploadId: uploadId })), 400, 'MalformedXML');
  });

  test('test_multipart_upload_small', async () => {
    const bucket = await newBucket();
    const { uploadId, parts } = await multipartUpload(bucket, 'mymultipart', 1);
    await complete(bucket, 'mymultipart', uploadId, parts);
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mymultipart' }))).ContentLength).toBe(1);
    // Completing it again is answered as it was the first time.
    await complete(bucket, 'mymultipart', uploadId, parts);
  });

  test('test_multipart_copy_small', async () => {
    const srcBucket = await createKeyWithRandomContent('foo');
    const destBucket = await newBucket();
    const { uploadId, parts } = await multipartCopy(srcBucket, 'foo', destBucket, 'mymultipart', 1);
    await complete(destBucket, 'mymultipart', uploadId, parts);
    expect((await s3.send(new HeadObjectCommand({ Bucket: destBucket, Key: 'mymultipart' }))).ContentLength).toBe(1);
    await checkKeyContent('foo', srcBucket, 'mymultipart', destBucket);
  });

  test('test_multipart_copy_invalid_range', async () => {
    const bucket = await createKeyWithRandomContent('source', 5);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'dest' }));
    const error = await failure(s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'dest', UploadId, CopySource: `${bucket}/source`, CopySourceRange: 'bytes=0-21', PartNumber: 1 })));
    expect([400, 416]).toContain(error.$metadata.httpStatusCode);
    expect(error.name).toBe('InvalidRange');
  });

  test('test_multipart_copy_improper_range', async () => {
    const bucket = await createKeyWithRandomContent('source', 5);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'dest' }));
    for (const range of ['0-2', 'bytes=0', 'bytes=hello-world', 'bytes=0-bar', 'bytes=hello-', 'bytes=0-2,3-5']) {
      await expectError(s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'dest', UploadId, CopySource: `${bucket}/source`, CopySourceRange: range, PartNumber: 1 })), 400, 'InvalidArgument');
    }
  });

  test('test_multipart_copy_without_range', async () => {
    const srcBucket = await createKeyWithRandomContent('source', 10);
    const destBucket = await newBucket();
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: destBucket, Key: 'mymultipartcopy' }));
    const response = await s3.send(new UploadPartCopyCommand({ Bucket: destBucket, Key: 'mymultipartcopy', CopySource: `${srcBucket}/source`, PartNumber: 1, UploadId }));
    await complete(destBucket, 'mymultipartcopy', UploadId!, [{ ETag: response.CopyPartResult!.ETag, PartNumber: 1 }]);
    expect((await s3.send(new HeadObjectCommand({ Bucket: destBucket, Key: 'mymultipartcopy' }))).ContentLength).toBe(10);
    await checkKeyContent('source', srcBucket, 'mymultipartcopy', destBucket);
  });

  test('test_multipart_copy_special_names', async () => {
    const srcBucket = await newBucket();
    const destBucket = await newBucket();
    for (const srcKey of [' ', '_', '__', '?versionId']) {
      await createKeyWithRandomContent(srcKey, 7 * MB, srcBucket);
      const { uploadId, parts } = await multipartCopy(srcBucket, srcKey, destBucket, 'mymultipart', 1);
      await complete(destBucket, 'mymultipart', uploadId, parts);
      expect((await s3.send(new HeadObjectCommand({ Bucket: destBucket, Key: 'mymultipart' }))).ContentLength).toBe(1);
      await checkKeyContent(srcKey, srcBucket, 'mymultipart', destBucket);
    }
  });

  test('test_multipart_upload', async () => {
    const bucket = await newBucket();
    const objlen = 30 * MB;
    const metadata = { foo: 'bar' };
    const { uploadId, data, parts } = await multipartUpload(bucket, 'mymultipart', objlen, { contentType: 'text/bla', metadata });
    await complete(bucket, 'mymultipart', uploadId, parts);
    await complete(bucket, 'mymultipart', uploadId, parts);
    const listed = await listV2({ Bucket: bucket, Prefix: 'mymultipart' });
    expect(listed.Contents).toHaveLength(1);
    expect(listed.Contents![0].Size).toBe(objlen);
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mymultipart' }));
    expect(response).toMatchObject({ ContentType: 'text/bla', Metadata: metadata });
    const body = await bodyOf(response);
    expect(body.length).toBe(response.ContentLength);
    expect(body.equals(data)).toBe(true);
    await checkContentUsingRange('mymultipart', bucket, data, 1_000_000);
    await checkContentUsingRange('mymultipart', bucket, data, 10_000_000);
  });

  test('test_multipart_upload_resend_part', async () => {
    const bucket = await newBucket();
    for (const resendParts of [[0], [1], [2], [1, 2], [0, 1, 2, 3, 4, 5]]) {
      const metadata = { foo: 'bar' };
      const { uploadId, data, parts } = await multipartUpload(bucket, 'mymultipart', 30 * MB, { contentType: 'text/bla', metadata, resendParts });
      await complete(bucket, 'mymultipart', uploadId, parts);
      const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mymultipart' }));
      expect(response).toMatchObject({ ContentType: 'text/bla', Metadata: metadata });
      expect((await bodyOf(response)).equals(data)).toBe(true);
      await checkContentUsingRange('mymultipart', bucket, data, 10_000_000);
    }
  });

  test('test_multipart_upload_multiple_sizes', async () => {
    const bucket = await newBucket();
    for (const objlen of [5 * MB, 5 * MB + 100 * 1024, 5 * MB + 600 * 1024, 10 * MB + 100 * 1024, 10 * MB + 600 * 1024, 10 * MB]) {
      const { uploadId, parts } = await multipartUpload(bucket, 'mymultipart', objlen);
      await complete(bucket, 'mymultipart', uploadId, parts);
    }
  });

  test('test_multipart_copy_multiple_sizes', async () => {
    const srcBucket = await createKeyWithRandomContent('foo', 12 * MB);
    const destBucket = await newBucket();
    for (const size of [5 * MB, 5 * MB + 100 * 1024, 5 * MB + 600 * 1024, 10 * MB + 100 * 1024, 10 * MB + 600 * 1024, 10 * MB]) {
      const { uploadId, parts } = await multipartCopy(srcBucket, 'foo', destBucket, 'mymultipart', size);
      await complete(destBucket, 'mymultipart', uploadId, parts);
      await checkKeyContent('foo', srcBucket, 'mymultipart', destBucket);
    }
  });

  test('test_multipart_upload_size_too_small', async () => {
    const bucket = await newBucket();
    const { uploadId, parts } = await multipartUpload(bucket, 'mymultipart', 100 * 1024, { partSize: 10 * 1024 });
    await expectError(complete(bucket, 'mymultipart', uploadId, parts), 400, 'EntityTooSmall');
  });

  test('test_multipart_upload_contents', async () => {
    const bucket = await newBucket();
    const payload = Buffer.from(randomBytes(5).toString('hex').slice(0, 5).toUpperCase().repeat(MB));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mymultipart' }));
    const parts: CompletedPart[] = [];
    for (let partNumber = 1; partNumber <= 3; partNumber++) {
      const { ETag } = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mymultipart', UploadId, PartNumber: partNumber, Body: payload }));
      parts.push({ ETag, PartNumber: partNumber });
    }
    const lastPayload = Buffer.from('123'.repeat(MB));
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mymultipart', UploadId, PartNumber: 4, Body: lastPayload }));
    parts.push({ ETag, PartNumber: 4 });
    const result = await complete(bucket, 'mymultipart', UploadId!, parts);
    expect(result.ETag).toBeTruthy();
    const body = await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mymultipart' })));
    expect(body.equals(Buffer.concat([payload, payload, payload, lastPayload]))).toBe(true);
  });

  test('test_multipart_upload_overwrite_existing_object', async () => {
    const bucket = await newBucket();
    const payload = Buffer.from('12345'.repeat(MB));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'mymultipart', Body: payload }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mymultipart' }));
    const parts: CompletedPart[] = [];
    for (let partNumber = 1; partNumber <= 2; partNumber++) {
      const { ETag } = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mymultipart', UploadId, PartNumber: partNumber, Body: payload }));
      parts.push({ ETag, PartNumber: partNumber });
    }
    await complete(bucket, 'mymultipart', UploadId!, parts);
    const body = await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mymultipart' })));
    expect(body.equals(Buffer.concat([payload, payload]))).toBe(true);
  });

  test('test_abort_multipart_upload', async () => {
    const bucket = await newBucket();
    const { uploadId } = await multipartUpload(bucket, 'mymultipart', 10 * MB);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mymultipart', UploadId: uploadId }));
    expect((await listV2({ Bucket: bucket, Prefix: 'mymultipart' })).Contents).toBeUndefined();
  });

  test('test_abort_multipart_upload_not_found', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'mymultipart' }));
    await expectError(s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mymultipart', UploadId: '56788' })), 404, 'NoSuchUpload');
  });

  test('test_list_multipart_upload', async () => {
    const bucket = await newBucket();
    const ids = [
      (await multipartUpload(bucket, 'mymultipart', 5 * MB)).uploadId,
      (await multipartUpload(bucket, 'mymultipart', 6 * MB)).uploadId,
      (await multipartUpload(bucket, 'mymultipart2', 5 * MB)).uploadId,
    ];
    const listed = (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads!.map((upload) => upload.UploadId);
    for (const id of ids) expect(listed).toContain(id);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mymultipart', UploadId: ids[0] }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mymultipart', UploadId: ids[1] }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mymultipart2', UploadId: ids[2] }));
  });

  test('test_multipart_upload_missing_part', async () => {
    const bucket = await newBucket();
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mymultipart' }));
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mymultipart', UploadId, PartNumber: 1, Body: '\x00' }));
    await expectError(complete(bucket, 'mymultipart', UploadId!, [{ ETag, PartNumber: 9999 }]), 400, 'InvalidPart');
  });

  test('test_multipart_upload_incorrect_etag', async () => {
    const bucket = await newBucket();
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mymultipart' }));
    await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mymultipart', UploadId, PartNumber: 1, Body: '\x00' }));
    await expectError(complete(bucket, 'mymultipart', UploadId!, [{ ETag: 'ffffffffffffffffffffffffffffffff', PartNumber: 1 }]), 400, 'InvalidPart');
  });

  // Adapted to what S3 answers for GET ?partNumber (the object's ETag on every part, and 416
  // InvalidPartNumber past the last part) where ceph's suite asserts RGW's (each part's ETag, 400 InvalidPart).
  async function checkGetParts(partSizes: number[]): Promise<void> {
    const bucket = await newBucket();
    const key = 'mymultipart';
    const total = partSizes.reduce((sum, size) => sum + size, 0);
    const { uploadId, data, parts } = await multipartUpload(bucket, key, total, { partSize: 5 * MB, resendParts: partSizes.length > 2 ? [2] : [] });
    await expectError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 1 })), 404, 'NoSuchKey');
    const { ETag } = await complete(bucket, key, uploadId, parts);
    let offset = 0;
    for (const [index, size] of partSizes.entries()) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: index + 1 }));
      expect(head).toMatchObject({ PartsCount: partSizes.length, ETag, ContentLength: size });
      const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: index + 1 }));
      expect(response).toMatchObject({ PartsCount: partSizes.length, ETag, ContentLength: size, ContentRange: `bytes ${offset}-${offset + size - 1}/${total}` });
      expect(response.$metadata.httpStatusCode).toBe(206);
      expect((await bodyOf(response)).equals(data.subarray(offset, offset + size))).toBe(true);
      offset += size;
    }
    await expectError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 5 })), 416, 'InvalidPartNumber');
  }

  test('test_multipart_get_part', () => checkGetParts([5 * MB, 5 * MB, 5 * MB, MB]));
  test('test_multipart_single_get_part', () => checkGetParts([5 * MB]));

  test('test_non_multipart_get_part', async () => {
    const bucket = await newBucket();
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'singlepart', Body: 'body' }));
    await expectError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'singlepart', PartNumber: 2 })), 416, 'InvalidPartNumber');
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'singlepart', PartNumber: 1 }));
    expect(response.ETag).toBe(ETag);
    expect(await textOf(response)).toBe('body');
  });

  test('test_upload_part_copy_percent_encoded_key', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'anyfilename%25.txt', Body: 'foo', ContentType: 'text/plain' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'anyfile.txt', Body: 'foo', ContentType: 'text/plain' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'anyfile.txt' }));
    await failure(s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'anyfile.txt', PartNumber: 1, UploadId, CopySource: copySource(bucket, 'anyfilename%.txt') })));
    expect(await textOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'anyfile.txt' })))).toBe('foo');
  });
});

// ---------------------------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------------------------

describe('ranges', () => {
  const content = 'testcontent';

  test.each([
    ['test_ranged_request_response_code', 'bytes=4-7', content.slice(4, 8), 'bytes 4-7/11'],
    ['test_ranged_request_skip_leading_bytes_response_code', 'bytes=4-', content.slice(4), 'bytes 4-10/11'],
    ['test_ranged_request_return_trailing_bytes_response_code', 'bytes=-7', content.slice(-7), 'bytes 4-10/11'],
  ])('%s', async (_name, range, expected, contentRange) => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'testobj', Body: content }));
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'testobj', Range: range }));
    expect(await textOf(response)).toBe(expected);
    expect(response.ContentRange).toBe(contentRange);
    expect(response.$metadata.httpStatusCode).toBe(206);
  });

  test('test_ranged_big_request_response_code', async () => {
    const bucket = await newBucket();
    const data = generateRandom(8 * MB, 8 * MB)[0];
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'testobj', Body: data }));
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'testobj', Range: 'bytes=3145728-5242880' }));
    expect((await bodyOf(response)).equals(data.subarray(3145728, 5242881))).toBe(true);
    expect(response.ContentRange).toBe('bytes 3145728-5242880/8388608');
    expect(response.$metadata.httpStatusCode).toBe(206);
  });

  test.each([['test_ranged_request_invalid_range', content], ['test_ranged_request_empty_object', '']])('%s', async (_name, body) => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'testobj', Body: body }));
    await expectError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'testobj', Range: 'bytes=40-50' })), 416, 'InvalidRange');
  });
});

// ---------------------------------------------------------------------------------------------
// Server-side encryption with S3-managed keys (the deployed buckets' default)
// ---------------------------------------------------------------------------------------------

describe('SSE-S3', () => {
  test.each([
    ['test_sse_s3_encrypted_upload_1b', 1],
    ['test_sse_s3_encrypted_upload_1kb', 1024],
    ['test_sse_s3_encrypted_upload_1mb', MB],
    ['test_sse_s3_encrypted_upload_8mb', 8 * MB],
  ])('%s', async (_name, size) => {
    const bucket = await newBucket();
    const data = Buffer.alloc(size, 'A');
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'testobj', Body: data, ServerSideEncryption: 'AES256' }));
    expect(put.ServerSideEncryption).toBe('AES256');
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'testobj' }));
    expect(response.ServerSideEncryption).toBe('AES256');
    expect((await bodyOf(response)).equals(data)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// test_headers.py (the signature-independent tests)
// ---------------------------------------------------------------------------------------------

describe('headers', () => {
  async function putFooWithHeaders(headers: Record<string, string>, body = 'bar') {
    const bucket = await newBucket();
    const modified = clientWithHeaders(headers);
    try {
      return await modified.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: body }));
    } finally {
      modified.destroy();
    }
  }

  test('test_object_create_bad_md5_invalid_short', async () => {
    await expectError(putFooWithHeaders({ 'Content-MD5': 'YWJyYWNhZGFicmE=' }), 400, 'InvalidDigest');
  });

  test('test_object_create_bad_md5_bad', async () => {
    await expectError(putFooWithHeaders({ 'Content-MD5': 'rL0Y20xC+Fzt72VPzMSk2A==' }), 400, 'BadDigest');
  });

  test('test_object_create_bad_md5_empty', async () => {
    await expectError(putFooWithHeaders({ 'Content-MD5': '' }), 400, 'InvalidDigest');
  });

  test('test_object_create_bad_md5_none', async () => {
    expect((await putFooWithHeaders({})).$metadata.httpStatusCode).toBe(200);
  });

  test('test_object_create_bad_expect_mismatch', async () => {
    const bucket = await newBucket();
    const response = await rawRequest('PUT', `/${bucket}/foo`, { headers: { expect: '200', 'content-length': '3', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, body: Buffer.from('bar') });
    expect(response.status).toBe(200);
  });

  test('test_object_create_bad_expect_empty', async () => {
    const bucket = await newBucket();
    const response = await rawRequest('PUT', `/${bucket}/foo`, { headers: { expect: '', 'content-length': '3', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, body: Buffer.from('bar') });
    expect(response.status).toBe(200);
  });

  test('test_object_create_bad_expect_none', async () => {
    expect((await putFooWithHeaders({})).$metadata.httpStatusCode).toBe(200);
  });

  test('test_object_create_bad_contentlength_negative', async () => {
    const bucket = await newBucket();
    const response = await rawRequest('PUT', `/${bucket}/foo`, { headers: { 'content-length': '-1', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    expect(response.status).toBe(400);
  });

  test('test_object_create_bad_contentlength_none', async () => {
    const bucket = await newBucket();
    const headers: Record<string, string> = { host: local.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
    Object.assign(headers, signRequest({ method: 'PUT', path: `/${bucket}/foo`, query: [], headers }, LOCAL_CREDENTIALS, LOCAL_REGION));
    const response = await socketRequest('PUT', `/${bucket}/foo`, headers);
    expect(response.status).toBe(411);
    expect(errorCode(response.text)).toBe('MissingContentLength');
  });

  test.each([
    ['test_object_create_bad_contenttype_invalid', { 'Content-Type': 'text/plain' }],
    ['test_object_create_bad_contenttype_empty', { 'Content-Type': '' }],
    ['test_object_create_bad_contenttype_none', {}],
  ])('%s', async (_name, headers) => {
    expect((await putFooWithHeaders(headers)).$metadata.httpStatusCode).toBe(200);
  });

  test.each([
    ['test_object_create_bad_authorization_empty', 'PUT', 'foo', { authorization: '' }],
    ['test_object_create_bad_authorization_none', 'PUT', 'foo', {}],
    ['test_bucket_create_bad_authorization_empty', 'PUT', '', { authorization: '' }],
    ['test_bucket_create_bad_authorization_none', 'PUT', '', {}],
  ])('%s', async (_name, method, key, headers) => {
    const bucket = key ? await newBucket() : newBucketName();
    const response = await rawRequest(method, key ? `/${bucket}/${key}` : `/${bucket}`, { headers: { ...headers, 'content-length': '3' }, body: Buffer.from('bar'), sign: false });
    expect(response.status).toBe(403);
    expect(errorCode(response.text)).toBe('AccessDenied');
  });

  test('test_object_create_date_and_amz_date', async () => {
    expect((await putFooWithHeaders({ Date: new Date().toUTCString() })).$metadata.httpStatusCode).toBe(200);
  });

  test('test_object_create_amz_date_and_no_date', async () => {
    const bucket = await newBucket();
    const response = await rawRequest('PUT', `/${bucket}/foo`, { headers: { date: '', 'content-length': '3', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, body: Buffer.from('bar') });
    expect(response.status).toBe(200);
  });

  test('test_bucket_create_contentlength_none', async () => {
    const response = await rawRequest('PUT', `/${newBucketName()}`, { headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    expect(response.status).toBe(200);
  });

  test.each([['test_bucket_create_bad_expect_mismatch', '200'], ['test_bucket_create_bad_expect_empty', '']])('%s', async (_name, expectHeader) => {
    const response = await rawRequest('PUT', `/${newBucketName()}`, { headers: { expect: expectHeader, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': '0' } });
    expect(response.status).toBe(200);
  });

  test('test_bucket_create_bad_contentlength_negative', async () => {
    const response = await rawRequest('PUT', `/${newBucketName()}`, { headers: { 'content-length': '-1', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    expect(response.status).toBe(400);
  });

  test('test_bucket_put_bad_canned_acl', async () => {
    const bucket = await newBucket();
    const modified = clientWithHeaders({ 'x-amz-acl': 'public-ready' });
    await expectError(modified.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' })), 400);
    modified.destroy();
  });

  // The half of ceph's test that needs no public ACL: an anonymous request is refused before 100 Continue.
  test('test_100_continue', async () => {
    const bucket = await newBucket();
    const status = await new Promise<string>((resolve, reject) => {
      const socket = connect(local.port, '127.0.0.1', () => {
        socket.write(`PUT /${bucket}/testobj HTTP/1.1\r\nHost: ${local.host}\r\nAccept-Encoding: identity\r\nContent-Length: 123\r\nExpect: 100-continue\r\n\r\n`);
      });
      socket.once('data', (data: Buffer) => {
        socket.destroy();
        resolve(data.toString('latin1').split(' ')[1]);
      });
      socket.on('error', reject);
    });
    expect(status).toBe('403');
  });
});

/** Re-signs a presigned URL's query string (for expiries the SDK will not sign). */
async function presignedWith(url: URL, query: Array<[string, string]>): Promise<string> {
  const { canonicalRequest, signature } = await import('../../../local/s3/sigv4');
  const credential = query.find(([name]) => name === 'X-Amz-Credential')![1];
  const date = query.find(([name]) => name === 'X-Amz-Date')![1];
  const [, scopeDate, region, service] = credential.split('/');
  const canonical = canonicalRequest({ method: 'GET', path: url.pathname, query, headers: { host: url.host } }, ['host'], 'UNSIGNED-PAYLOAD');
  const signed = signature(LOCAL_CREDENTIALS.secretAccessKey, { date: scopeDate, region, service }, date, canonical);
  const search = new URLSearchParams([...query, ['X-Amz-Signature', signed]]).toString();
  return `${url.origin}${url.pathname}?${search}`;
}

