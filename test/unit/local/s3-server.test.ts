import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/local-identity';
import { type ObjectEvent, ObjectStore } from '../../../local/s3/object-store';
import { s3RequestHandler } from '../../../local/s3/s3-api';

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
  server = createServer(s3RequestHandler({ store, credentials: LOCAL_CREDENTIALS, region: LOCAL_REGION }));
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
  const { signRequest } = await import('../../../local/s3/sigv4');
  const url = new URL(`${endpoint}/${BUCKET}?versioning=`);
  const headers = signRequest({ method: 'GET', path: `/${BUCKET}`, query: [['versioning', '']], headers: { host: url.host } }, LOCAL_CREDENTIALS, LOCAL_REGION);
  const refused = await fetch(url, { headers });
  expect(refused.status).toBe(501);
  expect(await refused.text()).toContain('does not implement GET on a bucket with ?versioning');
});
