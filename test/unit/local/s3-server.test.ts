import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCorsCommand,
  DeleteBucketEncryptionCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketPolicyCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  DeleteObjectsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectAclCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  GetObjectTorrentCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  RestoreObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/local-identity';
import { S3ObjectStore } from '../../../functions/shared/object-store';
import { type ObjectEvent, ObjectStore } from '../../../local/s3/object-store';
import { handleExpectations, s3RequestHandler } from '../../../local/s3/s3-api';
import { signRequest } from '../../../local/s3/sigv4';

/**
 * The local S3 server (ObjectStore behind the REST handler), driven by the real SDK client: what
 * the functions, the CLI and `aws s3` do against it. Run in-process here; the child-process host
 * is exercised by the integration tests.
 */

const BUCKET = 'frames-test';
let directory: string;
let store: ObjectStore;
let server: Server;
let endpoint: string;
let events: ObjectEvent[];

const client = (overrides: Partial<ConstructorParameters<typeof S3Client>[0]> = {}) =>
  new S3Client({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...overrides,
  });

async function start(): Promise<void> {
  store = await ObjectStore.open(directory, [BUCKET, 'other-bucket'], (event) => events.push(event));
  const handler = s3RequestHandler({ store, credentials: LOCAL_CREDENTIALS, region: LOCAL_REGION });
  server = createServer(handler);
  handleExpectations(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function stop(): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await store.close();
}

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'local-s3-'));
  events = [];
  await start();
});

afterEach(async () => {
  await stop();
  rmSync(directory, { recursive: true, force: true });
});

const text = async (body: unknown) => Buffer.from(await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).toString();

test('PutObject, GetObject and HeadObject keep bytes, type and metadata; the ETag is the MD5', async () => {
  const s3 = client();
  const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a/b.txt', Body: 'hello', ContentType: 'text/plain', Metadata: { fps: '5/1' } }));
  expect(put.ETag).toBe(`"${createHash('md5').update('hello').digest('hex')}"`);
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a/b.txt' }));
  expect(await text(got.Body)).toBe('hello');
  expect(got).toMatchObject({ ContentType: 'text/plain', ContentLength: 5, Metadata: { fps: '5/1' }, ETag: put.ETag });
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'a/b.txt' }));
  expect(head).toMatchObject({ ContentLength: 5, Metadata: { fps: '5/1' } });
  expect(events).toEqual([expect.objectContaining({ type: 'ObjectCreated', reason: 'Put', bucket: BUCKET, key: 'a/b.txt', size: 5 })]);
});

test('keys with spaces, +, %, quotes, unicode and a leading slash round-trip and list as stored', async () => {
  const s3 = client();
  const keys = ['my clip.mp4', 'a+b.mp4', '100%.mp4', `"quoted" 'clip'.mp4`, 'café/vidéo 🚗.mp4', '/rooted.mp4', 'x&y<z>.mp4'];
  for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
  for (const key of keys) expect(await text((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body)).toBe(key);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  expect(listed.Contents?.map((object) => object.Key)).toEqual([...keys].sort());
  const encoded = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, EncodingType: 'url' }));
  expect(encoded.Contents?.map((object) => decodeURIComponent(object.Key!))).toEqual([...keys].sort());
});

test('ListObjectsV2 pages 2,500 keys in order, and pages common prefixes with a delimiter', async () => {
  // Written as the MediaConvert endpoint writes frames: straight to the store, here in reverse order.
  const keys = Array.from({ length: 2_500 }, (_, index) => `run/frames/${String(2_499 - index).padStart(7, '0')}.jpg`);
  for (const key of keys) await store.put(BUCKET, key, Buffer.from(key), { contentType: 'image/jpeg' });
  for (const key of ['tree/d1/x', 'tree/d2/x', 'tree/d3/x', 'tree/top']) await store.put(BUCKET, key, Buffer.from('x'));

  const s3 = client();
  const listed: string[] = [];
  let pages = 0;
  for await (const page of paginateListObjectsV2({ client: s3, pageSize: 1000 }, { Bucket: BUCKET, Prefix: 'run/frames/' })) {
    pages++;
    listed.push(...(page.Contents ?? []).map((object) => object.Key!));
  }
  expect(pages).toBe(3);
  expect(listed).toEqual([...keys].sort());

  const seen: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: BUCKET, Prefix: 'tree/', Delimiter: '/' })) {
    seen.push(...(page.CommonPrefixes ?? []).map((common) => common.Prefix!), ...(page.Contents ?? []).map((object) => object.Key!));
  }
  expect(seen.sort()).toEqual(['tree/d1/', 'tree/d2/', 'tree/d3/', 'tree/top']);
  const top = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Delimiter: '/' }));
  expect(top.CommonPrefixes?.map((common) => common.Prefix)).toEqual(['run/', 'tree/']);
  expect(top.KeyCount).toBe(2);
});

test('a multipart upload (lib-storage) is reassembled, with a multipart ETag and a CompleteMultipartUpload event', async () => {
  const body = Buffer.alloc(12 * 1024 * 1024 + 17, 7);
  body.write('start');
  body.write('end', body.length - 3);
  const result = await new Upload({ client: client(), params: { Bucket: BUCKET, Key: 'big one.mp4', Body: Readable.from([body]), Metadata: { quality: '80' } }, partSize: 5 * 1024 * 1024 }).done();
  expect(result.ETag).toMatch(/^"[0-9a-f]{32}-3"$/);
  const got = await client().send(new GetObjectCommand({ Bucket: BUCKET, Key: 'big one.mp4' }));
  const bytes = Buffer.from(await got.Body!.transformToByteArray());
  expect(bytes.equals(body)).toBe(true);
  expect(got.Metadata).toEqual({ quality: '80' });
  expect(events).toEqual([expect.objectContaining({ reason: 'CompleteMultipartUpload', key: 'big one.mp4', size: body.length })]);
  // The parts' scratch space is gone once the upload completes.
  expect(readdirSync(join(directory, '.uploads'))).toEqual([]);
});

test("the SDK's default flexible checksums (aws-chunked streaming) store the object's bytes, not the framing", async () => {
  const s3 = client({ requestChecksumCalculation: 'WHEN_SUPPORTED', responseChecksumValidation: 'WHEN_SUPPORTED' });
  const body = Buffer.from('frame bytes '.repeat(10_000));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'chunked.bin', Body: Readable.from([body]), ContentLength: body.length }));
  const got = await client().send(new GetObjectCommand({ Bucket: BUCKET, Key: 'chunked.bin' }));
  expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
});

test('ranges, copies, deletes and bucket listing', async () => {
  const s3 = client();
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'r.txt', Body: '0123456789', Metadata: { a: '1' } }));
  const range = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'r.txt', Range: 'bytes=2-4' }));
  expect(await text(range.Body)).toBe('234');
  expect(range.ContentRange).toBe('bytes 2-4/10');
  expect(await text((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'r.txt', Range: 'bytes=-3' }))).Body)).toBe('789');
  await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'r.txt', Range: 'bytes=20-' }))).rejects.toMatchObject({ name: 'InvalidRange' });

  await s3.send(new CopyObjectCommand({ Bucket: 'other-bucket', Key: 'copy.txt', CopySource: `${BUCKET}/r.txt` }));
  const copy = await s3.send(new GetObjectCommand({ Bucket: 'other-bucket', Key: 'copy.txt' }));
  expect(await text(copy.Body)).toBe('0123456789');
  expect(copy.Metadata).toEqual({ a: '1' });

  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'r.txt' }));
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'never-there' }));
  await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'r.txt' }))).rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
  const deleted = await s3.send(new DeleteObjectsCommand({ Bucket: 'other-bucket', Delete: { Objects: [{ Key: 'copy.txt' }, { Key: 'absent' }] } }));
  expect(deleted.Deleted?.map((entry) => entry.Key)).toEqual(['copy.txt', 'absent']);
  expect((await s3.send(new ListObjectsV2Command({ Bucket: 'other-bucket' }))).KeyCount).toBe(0);

  expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((bucket) => bucket.Name)).toEqual(['frames-test', 'other-bucket']);
  await expect(s3.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'k', Body: 'x' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
});

test('signatures are verified: a wrong secret, an unknown key id and anonymous requests are refused', async () => {
  await expect(client({ credentials: { ...LOCAL_CREDENTIALS, secretAccessKey: 'wrong' } }).send(new ListObjectsV2Command({ Bucket: BUCKET })))
    .rejects.toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
  await expect(client({ credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x' } }).send(new ListObjectsV2Command({ Bucket: BUCKET })))
    .rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
  const anonymous = await fetch(`${endpoint}/${BUCKET}?list-type=2`);
  expect(anonymous.status).toBe(403);
  expect(await anonymous.text()).toContain('<Code>AccessDenied</Code>');
});

/** A genuine Signature Version 2 signature (HMAC-SHA1 of S3's string to sign), as aws-cli v1's `s3 presign` computes it. */
const sigV2 = (method: string, contentType: string, dateOrExpires: string, resource: string) =>
  createHmac('sha1', LOCAL_CREDENTIALS.secretAccessKey).update(`${method}\n\n${contentType}\n${dateOrExpires}\n${resource}`).digest('base64');

async function expectSigV2Refused(response: Response): Promise<void> {
  expect(response.status).toBe(400);
  const body = await response.text();
  expect(body).toContain('<Code>InvalidRequest</Code>');
  expect(body).toContain('<Message>The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256. ');
  expect(body).toContain('signed with AWS Signature Version 2, which the local S3 server does not support: sign it with Signature Version 4');
  expect(body).not.toContain('original bytes');
}

test('Signature Version 2 (a presigned URL or an Authorization header) is refused as S3 refuses it: 400 InvalidRequest, nothing read or changed', async () => {
  await client().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'v2 clip.txt', Body: 'original bytes' }));
  events.length = 0;
  const resource = `/${BUCKET}/v2%20clip.txt`;

  // What aws-cli v1's `aws s3 presign` prints: AWSAccessKeyId, Signature and Expires in the query string.
  const expires = String(Math.floor(Date.now() / 1000) + 3600);
  const presigned = new URL(`${endpoint}${resource}`);
  presigned.search = new URLSearchParams({ AWSAccessKeyId: LOCAL_CREDENTIALS.accessKeyId, Signature: sigV2('GET', '', expires, resource), Expires: expires }).toString();
  await expectSigV2Refused(await fetch(presigned));
  // Not the anonymous-request refusal it used to get, and the same whatever the signature says.
  presigned.searchParams.set('Signature', 'not-even-base64');
  await expectSigV2Refused(await fetch(presigned));

  // `Authorization: AWS <key id>:<signature>`: a read, an overwrite and a delete.
  const date = new Date().toUTCString();
  const signed = (method: string, contentType = '') => ({
    date,
    authorization: `AWS ${LOCAL_CREDENTIALS.accessKeyId}:${sigV2(method, contentType, date, resource)}`,
    ...(contentType ? { 'content-type': contentType } : {}),
  });
  await expectSigV2Refused(await fetch(`${endpoint}${resource}`, { headers: signed('GET') }));
  await expectSigV2Refused(await fetch(`${endpoint}${resource}`, { method: 'PUT', headers: signed('PUT', 'text/plain'), body: 'replaced bytes' }));
  await expectSigV2Refused(await fetch(`${endpoint}${resource}`, { method: 'DELETE', headers: signed('DELETE') }));
  await expectSigV2Refused(await fetch(`${endpoint}/${BUCKET}/new-object.txt`, { method: 'PUT', headers: signed('PUT', 'text/plain'), body: 'new bytes' }));
  const head = await fetch(`${endpoint}${resource}`, { method: 'HEAD', headers: signed('HEAD') });
  expect(head.status).toBe(400);

  const s3 = client();
  expect(await text((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'v2 clip.txt' }))).Body)).toBe('original bytes');
  expect((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents?.map((object) => object.Key)).toEqual(['v2 clip.txt']);
  expect(events).toEqual([]);
});

test('a presigned GET URL works until it expires', async () => {
  await client().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'shared clip.txt', Body: 'presigned' }));
  const url = await getSignedUrl(client(), new GetObjectCommand({ Bucket: BUCKET, Key: 'shared clip.txt' }), { expiresIn: 60 });
  expect(await (await fetch(url)).text()).toBe('presigned');
  const expired = await getSignedUrl(client(), new GetObjectCommand({ Bucket: BUCKET, Key: 'shared clip.txt' }), {
    expiresIn: 60,
    signingDate: new Date(Date.now() - 120_000),
  });
  expect((await fetch(expired)).status).toBe(403);
});

test('objects survive a restart; overwritten and deleted objects leave no data files behind', async () => {
  const s3 = client();
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'kept.txt', Body: 'first' }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'kept.txt', Body: 'second' }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'gone.txt', Body: 'x' }));
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'gone.txt' }));
  await stop();
  await start();
  const again = client();
  expect(await text((await again.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'kept.txt' }))).Body)).toBe('second');
  expect((await again.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents?.map((object) => object.Key)).toEqual(['kept.txt']);
  const dataFiles = readdirSync(join(directory, BUCKET, 'data'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  expect(dataFiles).toHaveLength(1);
});

test('operations the server does not implement are refused by name, not answered as a success', async () => {
  const response = await fetch(`${endpoint}/${BUCKET}?versioning`, { method: 'PUT', headers: { authorization: 'x' } });
  expect(response.status).toBe(403); // Unsigned first.
  const url = new URL(`${endpoint}/${BUCKET}?cors=`);
  const headers = signRequest({ method: 'GET', path: `/${BUCKET}`, query: [['cors', '']], headers: { host: url.host } }, LOCAL_CREDENTIALS, LOCAL_REGION);
  const refused = await fetch(url, { headers });
  expect(refused.status).toBe(501);
  expect(await refused.text()).toContain('does not implement CORS configuration (GET ?cors)');
});

// ---------------------------------------------------------------------------------------------
// Operations the server does not implement are never answered as ones it does (issue point 1)
// ---------------------------------------------------------------------------------------------

const VIDEO_BYTES = Buffer.from('a video, not tagging XML '.repeat(100));

/** Puts the video, runs `act`, then checks nothing stored changed and no event went out. */
async function expectUntouched(act: (s3: S3Client) => Promise<void>): Promise<void> {
  const s3 = client();
  const { ETag } = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'clip.mp4', Body: VIDEO_BYTES, Metadata: { fps: '5' } }));
  const bucketsBefore = (await s3.send(new ListBucketsCommand({}))).Buckets!.map((bucket) => bucket.Name);
  events.length = 0;
  await act(s3);
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'clip.mp4' }));
  expect(Buffer.from(await got.Body!.transformToByteArray()).equals(VIDEO_BYTES)).toBe(true);
  expect(got).toMatchObject({ ETag, Metadata: { fps: '5' }, ContentLength: VIDEO_BYTES.length });
  expect((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents?.map((object) => object.Key)).toEqual(['clip.mp4']);
  expect((await s3.send(new ListBucketsCommand({}))).Buckets!.map((bucket) => bucket.Name)).toEqual(bucketsBefore);
  expect(events).toEqual([]);
}

async function refusal(promise: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const failure = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: failure.name, message: failure.message, status: failure.$metadata?.httpStatusCode };
  }
  throw new Error('The request succeeded: the server answered an operation it does not implement as if it did');
}

const Key = 'clip.mp4';
const Bucket = BUCKET;

test.each([
  ['PutObjectTagging', 'tagging', () => new PutObjectTaggingCommand({ Bucket, Key, Tagging: { TagSet: [{ Key: 'team', Value: 'vision' }] } })],
  ['DeleteObjectTagging', 'tagging', () => new DeleteObjectTaggingCommand({ Bucket, Key })],
  ['PutObjectRetention', 'retention', () => new PutObjectRetentionCommand({ Bucket, Key, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 86_400_000) } })],
  ['GetObjectRetention', 'retention', () => new GetObjectRetentionCommand({ Bucket, Key })],
  ['PutObjectLegalHold', 'legal-hold', () => new PutObjectLegalHoldCommand({ Bucket, Key, LegalHold: { Status: 'ON' } })],
  ['GetObjectLegalHold', 'legal-hold', () => new GetObjectLegalHoldCommand({ Bucket, Key })],
  ['GetObjectAttributes', 'attributes', () => new GetObjectAttributesCommand({ Bucket, Key, ObjectAttributes: ['ETag'] })],
  ['RestoreObject', 'restore', () => new RestoreObjectCommand({ Bucket, Key, RestoreRequest: { Days: 1 } })],
  ['GetObjectTorrent', 'torrent', () => new GetObjectTorrentCommand({ Bucket, Key })],
  ['ListObjectVersions', 'versions', () => new ListObjectVersionsCommand({ Bucket })],
  ['PutBucketTagging', 'tagging', () => new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: [{ Key: 'team', Value: 'vision' }] } })],
  ['DeleteBucketTagging', 'tagging', () => new DeleteBucketTaggingCommand({ Bucket })],
  ['DeleteBucketLifecycle', 'lifecycle', () => new DeleteBucketLifecycleCommand({ Bucket })],
  ['PutBucketLifecycleConfiguration', 'lifecycle', () => new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: [{ ID: 'x', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } }] } })],
  ['DeleteBucketEncryption', 'encryption', () => new DeleteBucketEncryptionCommand({ Bucket })],
  ['PutBucketEncryption', 'encryption', () => new PutBucketEncryptionCommand({ Bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } })],
  ['PutBucketCors', 'cors', () => new PutBucketCorsCommand({ Bucket, CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['*'] }] } })],
  ['DeleteBucketCors', 'cors', () => new DeleteBucketCorsCommand({ Bucket })],
  ['PutBucketPolicy', 'policy', () => new PutBucketPolicyCommand({ Bucket, Policy: '{}' })],
  ['DeleteBucketPolicy', 'policy', () => new DeleteBucketPolicyCommand({ Bucket })],
  ['DeletePublicAccessBlock', 'publicAccessBlock', () => new DeletePublicAccessBlockCommand({ Bucket })],
  ['PutBucketVersioning', 'versioning', () => new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } })],
  ['PutObject with x-amz-tagging', 'x-amz-tagging', () => new PutObjectCommand({ Bucket, Key, Body: 'tagged', Tagging: 'team=vision' })],
  ['PutObject with a website redirect', 'x-amz-website-redirect-location', () => new PutObjectCommand({ Bucket, Key, Body: 'redirect', WebsiteRedirectLocation: '/other' })],
  ['PutObject with SSE-C', 'SSE-C', () => new PutObjectCommand({ Bucket, Key, Body: 'secret', SSECustomerAlgorithm: 'AES256', SSECustomerKey: 'k'.repeat(32) })],
  ['PutObject with SSE-KMS', 'aws:kms', () => new PutObjectCommand({ Bucket, Key, Body: 'secret', ServerSideEncryption: 'aws:kms' })],
  ['PutObject to GLACIER', 'GLACIER', () => new PutObjectCommand({ Bucket, Key, Body: 'cold', StorageClass: 'GLACIER' })],
  ['CopyObject with x-amz-tagging', 'x-amz-tagging', () => new CopyObjectCommand({ Bucket, Key, CopySource: `${BUCKET}/clip.mp4`, Tagging: 'a=b', TaggingDirective: 'REPLACE' })],
  ['GetObject with SSE-C', 'SSE-C', () => new GetObjectCommand({ Bucket, Key, SSECustomerAlgorithm: 'AES256', SSECustomerKey: 'k'.repeat(32) })],
] as const)('%s is refused with 501 NotImplemented naming it, and nothing stored changes', async (_name, named, command) => {
  await expectUntouched(async (s3) => {
    const failure = await refusal(s3.send(command() as Parameters<S3Client['send']>[0]));
    expect(failure).toMatchObject({ name: 'NotImplemented', status: 501 });
    expect(failure.message).toContain(named);
  });
});

test('reading tags answers that there are none (they can never be set), never with the object\'s bytes', async () => {
  await expectUntouched(async (s3) => {
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket, Key }))).TagSet).toEqual([]);
    expect(await refusal(s3.send(new GetBucketTaggingCommand({ Bucket })))).toMatchObject({ name: 'NoSuchTagSet', status: 404 });
    expect(await refusal(s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'absent.mp4' })))).toMatchObject({ name: 'NoSuchKey', status: 404 });
  });
});

test('PutBucketTagging on a missing bucket does not create it', async () => {
  const s3 = client();
  await expect(s3.send(new PutBucketTaggingCommand({ Bucket: 'not-created', Tagging: { TagSet: [] } }))).rejects.toMatchObject({ name: 'NotImplemented' });
  expect((await s3.send(new ListBucketsCommand({}))).Buckets!.map((bucket) => bucket.Name)).toEqual(['frames-test', 'other-bucket']);
});

test('DeleteBucketTagging, DeleteBucketLifecycle and DeleteBucketEncryption leave an empty bucket in place', async () => {
  const s3 = client();
  for (const command of [new DeleteBucketTaggingCommand({ Bucket: 'other-bucket' }), new DeleteBucketLifecycleCommand({ Bucket: 'other-bucket' }), new DeleteBucketEncryptionCommand({ Bucket: 'other-bucket' })]) {
    await expect(s3.send(command as Parameters<S3Client['send']>[0])).rejects.toMatchObject({ name: 'NotImplemented' });
  }
  expect((await s3.send(new ListBucketsCommand({}))).Buckets!.map((bucket) => bucket.Name)).toEqual(['frames-test', 'other-bucket']);
});

test('ACLs are answered as a BucketOwnerEnforced bucket answers them: writes refused, reads show the owner, bytes untouched', async () => {
  await expectUntouched(async (s3) => {
    // put-object-acl --acl private used to make the object 0 bytes.
    expect(await refusal(s3.send(new PutObjectAclCommand({ Bucket, Key, ACL: 'private' })))).toMatchObject({ name: 'AccessControlListNotSupported', status: 400 });
    expect(await refusal(s3.send(new PutBucketAclCommand({ Bucket, ACL: 'public-read' })))).toMatchObject({ name: 'AccessControlListNotSupported', status: 400 });
    expect(await refusal(s3.send(new PutObjectCommand({ Bucket, Key, Body: 'public', ACL: 'public-read' })))).toMatchObject({ name: 'AccessControlListNotSupported', status: 400 });
    expect(await refusal(s3.send(new PutObjectCommand({ Bucket, Key, Body: 'granted', GrantRead: 'id=someone' })))).toMatchObject({ name: 'AccessControlListNotSupported', status: 400 });
    // get-object-acl used to return the object's bytes.
    const objectAcl = await s3.send(new GetObjectAclCommand({ Bucket, Key }));
    expect(objectAcl.Grants).toEqual([{ Grantee: { ID: objectAcl.Owner!.ID, Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' }]);
    const bucketAcl = await s3.send(new GetBucketAclCommand({ Bucket }));
    expect(bucketAcl.Grants).toEqual([{ Grantee: { ID: bucketAcl.Owner!.ID, Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' }]);
  });
  // bucket-owner-full-control is the one canned ACL such a bucket accepts.
  await client().send(new PutObjectCommand({ Bucket, Key: 'owned.txt', Body: 'x', ACL: 'bucket-owner-full-control' }));
});

test('x-amz-expected-bucket-owner other than the local account is refused: 403 AccessDenied', async () => {
  await expectUntouched(async (s3) => {
    expect(await refusal(s3.send(new PutObjectCommand({ Bucket, Key, Body: 'other owner', ExpectedBucketOwner: '123456789012' })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(await refusal(s3.send(new DeleteObjectCommand({ Bucket, Key, ExpectedBucketOwner: '123456789012' })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    await s3.send(new HeadObjectCommand({ Bucket, Key, ExpectedBucketOwner: LOCAL_ACCOUNT_ID }));
  });
});

test('object lock headers are refused as S3 refuses them for a bucket without Object Lock', async () => {
  await expectUntouched(async (s3) => {
    const failure = await refusal(s3.send(new PutObjectCommand({ Bucket, Key, Body: 'locked', ObjectLockLegalHoldStatus: 'ON' })));
    expect(failure).toMatchObject({ name: 'InvalidRequest', status: 400 });
  });
});

// ---------------------------------------------------------------------------------------------
// Version ids: the buckets are unversioned (issue point 2)
// ---------------------------------------------------------------------------------------------

test('a version id it never issued deletes nothing: DeleteObject answers InvalidArgument, DeleteObjects NoSuchVersion', async () => {
  await expectUntouched(async (s3) => {
    expect(await refusal(s3.send(new DeleteObjectCommand({ Bucket, Key, VersionId: '3HL4kqtJlcpXroDTDmjVBH40Nrjfkd' })))).toMatchObject({ name: 'InvalidArgument', status: 400 });
    const result = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key, VersionId: '3HL4kqtJlcpXroDTDmjVBH40Nrjfkd' }] } }));
    expect(result.Deleted).toBeUndefined();
    expect(result.Errors).toEqual([expect.objectContaining({ Key, VersionId: '3HL4kqtJlcpXroDTDmjVBH40Nrjfkd', Code: 'NoSuchVersion' })]);
    expect(await refusal(s3.send(new GetObjectCommand({ Bucket, Key, VersionId: 'v2' })))).toMatchObject({ name: 'InvalidArgument', status: 400 });
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBeUndefined();
    // The null version is the object itself, as in any bucket that was never versioned.
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key, VersionId: 'null' }))).ContentLength).toBe(VIDEO_BYTES.length);
  });
  const s3 = client();
  await s3.send(new DeleteObjectCommand({ Bucket, Key, VersionId: 'null' }));
  await expect(s3.send(new HeadObjectCommand({ Bucket, Key }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
});

// ---------------------------------------------------------------------------------------------
// UploadPartCopy (issue point 3)
// ---------------------------------------------------------------------------------------------

test('UploadPartCopy copies each range of a 17 MB object into a part, as `aws s3 cp s3://… s3://…` does', async () => {
  const s3 = client();
  const source = Buffer.alloc(17 * 1024 * 1024 + 5);
  for (let offset = 0; offset < source.length; offset += 4) source.writeUInt32LE(offset, Math.min(offset, source.length - 4));
  await store.put(BUCKET, 'big.mp4', source);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'other-bucket', Key: 'big-copy.mp4', ContentType: 'video/mp4' }));
  const partSize = 8 * 1024 * 1024;
  const parts = [];
  for (let start = 0, PartNumber = 1; start < source.length; start += partSize, PartNumber++) {
    const end = Math.min(start + partSize, source.length) - 1;
    const copied = await s3.send(new UploadPartCopyCommand({ Bucket: 'other-bucket', Key: 'big-copy.mp4', UploadId, PartNumber, CopySource: `${BUCKET}/big.mp4`, CopySourceRange: `bytes=${start}-${end}` }));
    expect(copied.CopyPartResult!.ETag).toBe(`"${createHash('md5').update(source.subarray(start, end + 1)).digest('hex')}"`);
    expect(copied.CopyPartResult!.LastModified).toBeInstanceOf(Date);
    parts.push({ ETag: copied.CopyPartResult!.ETag, PartNumber });
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'other-bucket', Key: 'big-copy.mp4', UploadId, MultipartUpload: { Parts: parts } }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'other-bucket', Key: 'big-copy.mp4' }));
  expect(got.ContentType).toBe('video/mp4');
  expect(Buffer.from(await got.Body!.transformToByteArray()).equals(source)).toBe(true);
});

// ---------------------------------------------------------------------------------------------
// Conditional requests (issue point 4)
// ---------------------------------------------------------------------------------------------

test("the ingress function's If-Match HEAD sees an overwritten key as replaced (412), and a deleted one as missing", async () => {
  const s3 = client();
  const first = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'drive.mp4', Body: 'first upload', Metadata: { fps: '5' } }));
  const objects = new S3ObjectStore(s3);
  expect(await objects.head(BUCKET, 'drive.mp4', first.ETag!.replace(/"/g, ''))).toEqual({ state: 'present', size: 12, metadata: { fps: '5' } });
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'drive.mp4', Body: 'second upload' }));
  expect(await objects.head(BUCKET, 'drive.mp4', first.ETag!)).toEqual({ state: 'replaced' });
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'drive.mp4' }));
  expect(await objects.head(BUCKET, 'drive.mp4', first.ETag!)).toEqual({ state: 'missing' });
});

test('GET and HEAD answer If-Match / If-Unmodified-Since with 412 and If-None-Match / If-Modified-Since with 304', async () => {
  const s3 = client();
  const { ETag } = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'c.txt', Body: 'conditional' }));
  const past = new Date('2001-01-01T00:00:00Z');
  const future = new Date(Date.now() + 3600_000);
  const status = (promise: Promise<unknown>) => promise.then(() => 200, (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode);
  for (const Command of [GetObjectCommand, HeadObjectCommand]) {
    expect(await status(s3.send(new Command({ Bucket: BUCKET, Key: 'c.txt', IfMatch: ETag })))).toBe(200);
    expect(await status(s3.send(new Command({ Bucket: BUCKET, Key: 'c.txt', IfMatch: '"0000"' })))).toBe(412);
    expect(await status(s3.send(new Command({ Bucket: BUCKET, Key: 'c.txt', IfUnmodifiedSince: past })))).toBe(412);
    expect(await status(s3.send(new Command({ Bucket: BUCKET, Key: 'c.txt', IfNoneMatch: ETag })))).toBe(304);
    expect(await status(s3.send(new Command({ Bucket: BUCKET, Key: 'c.txt', IfModifiedSince: future })))).toBe(304);
    expect(await status(s3.send(new Command({ Bucket: BUCKET, Key: 'c.txt', IfModifiedSince: past })))).toBe(200);
    // S3's documented precedence: If-Match true wins over If-Unmodified-Since false, If-None-Match false over If-Modified-Since true.
    expect(await status(s3.send(new Command({ Bucket: BUCKET, Key: 'c.txt', IfMatch: ETag, IfUnmodifiedSince: past })))).toBe(200);
    expect(await status(s3.send(new Command({ Bucket: BUCKET, Key: 'c.txt', IfNoneMatch: ETag, IfModifiedSince: past })))).toBe(304);
    expect(await status(s3.send(new Command({ Bucket: BUCKET, Key: 'missing.txt', IfMatch: ETag })))).toBe(404);
  }
});

test('conditional writes: If-None-Match: * creates only, If-Match replaces only that version, on PutObject, CopyObject and CompleteMultipartUpload', async () => {
  const s3 = client();
  const created = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'w.txt', Body: 'one', IfNoneMatch: '*' }));
  await expect(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'w.txt', Body: 'two', IfNoneMatch: '*' }))).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
  await expect(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'w.txt', Body: 'two', IfMatch: '"00000000000000000000000000000000"' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
  await expect(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'absent.txt', Body: 'two', IfMatch: created.ETag }))).rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
  await expect(s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'w.txt', CopySource: `${BUCKET}/w.txt`, MetadataDirective: 'REPLACE', IfNoneMatch: '*' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'w.txt' }));
  const part = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'w.txt', UploadId, PartNumber: 1, Body: 'three' }));
  const completing = { Bucket: BUCKET, Key: 'w.txt', UploadId, MultipartUpload: { Parts: [{ ETag: part.ETag, PartNumber: 1 }] } };
  await expect(s3.send(new CompleteMultipartUploadCommand({ ...completing, IfNoneMatch: '*' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
  expect(await text((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'w.txt' }))).Body)).toBe('one');
  await s3.send(new CompleteMultipartUploadCommand({ ...completing, IfMatch: created.ETag }));
  expect(await text((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'w.txt' }))).Body)).toBe('three');
  // The copy source's own conditions.
  await expect(s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'w2.txt', CopySource: `${BUCKET}/w.txt`, CopySourceIfMatch: created.ETag }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
});

// ---------------------------------------------------------------------------------------------
// Other S3 semantics (issue point 5)
// ---------------------------------------------------------------------------------------------

test('ListObjects (v1) pages through common prefixes by NextMarker and ends', async () => {
  for (const key of ['a/1', 'a/2', 'b/1', 'c', 'd/1']) await store.put(BUCKET, key, Buffer.from(key));
  const s3 = client();
  const seen: string[] = [];
  let marker: string | undefined;
  for (let page = 0; page < 10; page++) {
    const response = await s3.send(new ListObjectsCommand({ Bucket: BUCKET, Delimiter: '/', MaxKeys: 1, Marker: marker }));
    seen.push(...(response.CommonPrefixes ?? []).map((common) => common.Prefix!), ...(response.Contents ?? []).map((object) => object.Key!));
    if (!response.IsTruncated) break;
    marker = response.NextMarker;
  }
  expect(seen).toEqual(['a/', 'b/', 'c', 'd/']);
});

test('user metadata with non-ASCII characters: signed over the UTF-8 text, stored decoded, returned RFC 2047-encoded', async () => {
  const headers: Record<string, string> = { host: new URL(endpoint).host, 'x-amz-meta-title': 'Café vidéo 🚗', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': '1' };
  Object.assign(headers, signRequest({ method: 'PUT', path: `/${BUCKET}/meta.txt`, query: [], headers }, LOCAL_CREDENTIALS, LOCAL_REGION));
  // On the wire, the value's UTF-8 bytes (as curl and most SDKs send it).
  const wire = new Headers();
  for (const [name, value] of Object.entries(headers)) if (name !== 'host' && name !== 'content-length') wire.set(name, Buffer.from(value, 'utf8').toString('latin1'));
  const put = await fetch(`${endpoint}/${BUCKET}/meta.txt`, { method: 'PUT', headers: wire, body: 'x' });
  expect(put.status).toBe(200);
  const head = await client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'meta.txt' }));
  expect(head.Metadata!.title).toBe(`=?UTF-8?B?${Buffer.from('Café vidéo 🚗').toString('base64')}?=`);
  // An RFC 2047-encoded value is decoded before it is stored (and the ASCII one comes back as sent).
  await client().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'meta2.txt', Body: 'x', Metadata: { title: '=?UTF-8?B?Q2Fmw6k=?=', plain: 'ascii' } }));
  const again = await client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'meta2.txt' }));
  expect(again.Metadata).toEqual({ title: `=?UTF-8?B?${Buffer.from('Café').toString('base64')}?=`, plain: 'ascii' });
});

test('encoding-type=url leaves / as it is; MaxKeys=0 is not truncated', async () => {
  await store.put(BUCKET, 'dir one/a+b.txt', Buffer.from('x'));
  const s3 = client();
  const encoded = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, EncodingType: 'url' }));
  expect(encoded.Contents!.map((object) => object.Key)).toEqual(['dir%20one/a%2Bb.txt']);
  const grouped = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, EncodingType: 'url', Delimiter: '/' }));
  expect(grouped.CommonPrefixes!.map((common) => common.Prefix)).toEqual(['dir%20one/']);
  expect(grouped.Delimiter).toBe('/');
  const none = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 0 }));
  expect(none).toMatchObject({ IsTruncated: false, KeyCount: 0 });
});

test('a presigned URL valid for more than 7 days is refused: 400 AuthorizationQueryParametersError', async () => {
  await client().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'p.txt', Body: 'presigned' }));
  const url = new URL(await getSignedUrl(client(), new GetObjectCommand({ Bucket: BUCKET, Key: 'p.txt' }), { expiresIn: 604_800 }));
  expect((await fetch(url)).status).toBe(200);
  const query = [...url.searchParams.entries()].filter(([name]) => name !== 'X-Amz-Signature').map(([name, value]): [string, string] => [name, name === 'X-Amz-Expires' ? '604801' : value]);
  const { canonicalRequest, signature } = await import('../../../local/s3/sigv4');
  const [, scopeDate, region, service] = url.searchParams.get('X-Amz-Credential')!.split('/');
  const signed = signature(LOCAL_CREDENTIALS.secretAccessKey, { date: scopeDate, region, service }, url.searchParams.get('X-Amz-Date')!,
    canonicalRequest({ method: 'GET', path: url.pathname, query, headers: { host: url.host } }, ['host'], 'UNSIGNED-PAYLOAD'));
  const tooLong = await fetch(`${url.origin}${url.pathname}?${new URLSearchParams([...query, ['X-Amz-Signature', signed]])}`);
  expect(tooLong.status).toBe(400);
  expect(await tooLong.text()).toContain('<Code>AuthorizationQueryParametersError</Code>');
});

test('multipart: parts under 5 MiB but the last are EntityTooSmall; GET ?partNumber returns that part with x-amz-mp-parts-count', async () => {
  const s3 = client();
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'parts.bin' }));
  const small = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'parts.bin', UploadId, PartNumber: 1, Body: 'small' }));
  const last = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'parts.bin', UploadId, PartNumber: 2, Body: 'last' }));
  const parts = [{ ETag: small.ETag, PartNumber: 1 }, { ETag: last.ETag, PartNumber: 2 }];
  await expect(s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'parts.bin', UploadId, MultipartUpload: { Parts: parts } })))
    .rejects.toMatchObject({ name: 'EntityTooSmall', $metadata: { httpStatusCode: 400 } });
  const big = Buffer.alloc(5 * 1024 * 1024, 1);
  const first = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'parts.bin', UploadId, PartNumber: 1, Body: big }));
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'parts.bin', UploadId, MultipartUpload: { Parts: [{ ETag: first.ETag, PartNumber: 1 }, parts[1]] } }));
  const second = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'parts.bin', PartNumber: 2 }));
  expect(second).toMatchObject({ PartsCount: 2, ContentLength: 4, ContentRange: `bytes ${big.length}-${big.length + 3}/${big.length + 4}`, ETag: done.ETag });
  expect(await text(second.Body)).toBe('last');
  await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'parts.bin', PartNumber: 3 }))).rejects.toMatchObject({ name: 'InvalidPartNumber', $metadata: { httpStatusCode: 416 } });
});

test('Cache-Control, Expires, Content-Encoding, Content-Disposition and Content-Language are stored and returned; response-* overrides them', async () => {
  const s3 = client();
  await s3.send(new PutObjectCommand({
    Bucket: BUCKET, Key: 'h.txt', Body: 'headers', CacheControl: 'max-age=60', Expires: new Date('2030-01-01T00:00:00Z'),
    ContentEncoding: 'identity', ContentDisposition: 'attachment; filename="h.txt"', ContentLanguage: 'en',
  }));
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'h.txt' }));
  expect(head).toMatchObject({ CacheControl: 'max-age=60', ContentEncoding: 'identity', ContentDisposition: 'attachment; filename="h.txt"', ContentLanguage: 'en' });
  expect(new Date(head.ExpiresString!).toISOString()).toBe('2030-01-01T00:00:00.000Z');
  const copy = await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'h2.txt', CopySource: `${BUCKET}/h.txt` }));
  expect(copy.CopyObjectResult!.ETag).toBe(head.ETag);
  expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'h2.txt' }))).CacheControl).toBe('max-age=60');
  const overridden = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'h.txt', ResponseCacheControl: 'no-store', ResponseContentType: 'text/x-test' }));
  expect(overridden).toMatchObject({ CacheControl: 'no-store', ContentType: 'text/x-test' });
  // The SDK's own aws-chunked framing is not an encoding of the object.
  await client({ requestChecksumCalculation: 'WHEN_SUPPORTED' }).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'chunked.txt', Body: Readable.from([Buffer.from('abc')]), ContentLength: 3 }));
  expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'chunked.txt' }))).ContentEncoding).toBeUndefined();
});

test('Expect headers other than 100-continue are ignored, as S3 ignores them; 100-continue waits for the signature', async () => {
  const host = new URL(endpoint).host;
  const put = (expectHeader: string) => {
    const headers: Record<string, string> = { host, expect: expectHeader, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': '3' };
    Object.assign(headers, signRequest({ method: 'PUT', path: `/${BUCKET}/e.txt`, query: [], headers }, LOCAL_CREDENTIALS, LOCAL_REGION));
    return new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${endpoint}/${BUCKET}/e.txt`, { method: 'PUT', headers }, (response) => {
        response.resume();
        resolve(response.statusCode!);
      });
      request.on('error', reject);
      if (expectHeader === '100-continue') request.on('continue', () => request.end('bar'));
      else request.end('bar');
    });
  };
  expect(await put('200')).toBe(200);
  expect(await put('')).toBe(200);
  expect(await put('100-continue')).toBe(200);
  expect(await text((await client().send(new GetObjectCommand({ Bucket: BUCKET, Key: 'e.txt' }))).Body)).toBe('bar');
});

test('objects stored before headers and part sizes were journaled still load; GET ?partNumber on such a multipart object says it cannot', async () => {
  await stop();
  const legacy = { key: 'legacy.bin', size: 3, etag: '"0123456789abcdef0123456789abcdef-2"', lastModified: '2026-01-01T00:00:00.000Z', contentType: 'video/mp4', metadata: { fps: '5' }, file: '00/legacy' };
  writeFileSync(join(directory, BUCKET, 'data', '00', 'legacy'), 'old');
  appendFileSync(join(directory, BUCKET, 'journal.jsonl'), `${JSON.stringify({ put: legacy })}\n`);
  await start();
  const s3 = client();
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'legacy.bin' }));
  expect(got).toMatchObject({ ETag: legacy.etag, ContentType: 'video/mp4', Metadata: { fps: '5' } });
  expect(await text(got.Body)).toBe('old');
  await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'legacy.bin', PartNumber: 1 }))).rejects.toMatchObject({ name: 'NotImplemented' });
});
