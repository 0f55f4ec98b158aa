import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Server, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LOCAL_ADMIN_KEY, LOCAL_PRINCIPAL_KEYS } from '../../../local/iam/local-principals';
import { denialLogOf, requestGate } from '../../../local/iam/request-gate';
import { LOCAL_REGION } from '../../../local/local-identity';
import { ObjectStore } from '../../../local/s3/object-store';
import { handleExpectations, s3RequestHandler } from '../../../local/s3/s3-api';
import { baseContexts, s3Permissions } from '../../../local/s3/s3-authorization';
import type { Credentials } from '../../../local/s3/sigv4';
import { authorizedStoreAccess } from '../../../local/s3/store-access';
import type { Principal } from '../../../pipeline/permissions';
import { TEST_BUCKETS, TEST_CONFIG, TEST_RULES } from '../../support/local-access';

/**
 * The local S3 server with local IAM: every request is authorized as its signer against the
 * stack's own grants (pipeline/permissions.ts), through a real request gate, and refused as S3
 * refuses it. Clients are the real SDK, signed with each principal's local key.
 */

const config = TEST_CONFIG;
const buckets = TEST_BUCKETS;
const rules = TEST_RULES;

const RUN = 'drive.mp4-0123456789ab/run1';
const FRAME = `${RUN}/frames/frame.0000007.jpg`;
const BATCH = `${RUN}/batches/batch.000001.jsonl`;
const UPLOAD = 'trips/drive.mp4';

let directory: string;
let store: ObjectStore;
let server: Server;
let endpoint: string;
let gate: ReturnType<typeof requestGate>;

const clientFor = (credentials: Credentials) =>
  new S3Client({
    endpoint,
    region: LOCAL_REGION,
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
const as = (principal: Principal) => clientFor(LOCAL_PRINCIPAL_KEYS[principal]);
const admin = () => clientFor(LOCAL_ADMIN_KEY);

const text = async (body: unknown) => Buffer.from(await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).toString();
const stored = async (bucket: string, key: string) => {
  const record = store.head(bucket, key);
  const chunks: Buffer[] = [];
  for await (const chunk of store.read(bucket, record)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
};

/** The SDK error a promise rejects with (fails the test if it resolves). */
async function refusal(promise: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const failure = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: failure.name, message: failure.message, status: failure.$metadata?.httpStatusCode };
  }
  throw new Error('expected the request to be refused');
}

const denialLog = () => denialLogOf(directory);
const denials = (): Array<{ principal: string; action: string; resource: string; result: string; message: string }> =>
  existsSync(denialLog()) ? readFileSync(denialLog(), 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)) : [];

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'local-s3-iam-'));
  store = await ObjectStore.open(join(directory, 's3'), Object.values(buckets));
  gate = requestGate({ config, buckets, rules, dataDirectory: directory, enforce: true });
  server = createServer(s3RequestHandler({ store, keys: (accessKeyId) => gate.secretOf(accessKeyId), gate, region: LOCAL_REGION }));
  handleExpectations(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

beforeEach(async () => {
  await store.put(buckets.frames, FRAME, Buffer.from('jpeg bytes'), { contentType: 'image/jpeg' });
  await store.put(buckets.frames, BATCH, Buffer.from('{"index":7}\n'), { contentType: 'application/x-ndjson' });
  await store.put(buckets.ingress, UPLOAD, Buffer.from('mp4 bytes'), { contentType: 'video/mp4' });
});

describe('the frame worker', () => {
  test('reads frames but may not write them: 403 AccessDenied, the frame unchanged', async () => {
    const worker = as('frameWorker');
    expect(await text((await worker.send(new GetObjectCommand({ Bucket: buckets.frames, Key: FRAME }))).Body)).toBe('jpeg bytes');
    const before = denials().length;
    const refused = await refusal(worker.send(new PutObjectCommand({ Bucket: buckets.frames, Key: FRAME, Body: 'overwritten' })));
    expect(refused).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(refused.message).toBe(
      `User: arn:aws:iam::000000000000:role/frames-frame-worker is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::${buckets.frames}/${FRAME}" ` +
        'because no identity-based policy allows the s3:PutObject action (local IAM: no statement in pipeline/permissions.ts allows it)',
    );
    expect(await stored(buckets.frames, FRAME)).toBe('jpeg bytes');
    // Each denial is appended to the gate's log.
    expect(denials().slice(before)).toEqual([
      expect.objectContaining({ principal: 'frameWorker', action: 's3:PutObject', resource: `arn:aws:s3:::${buckets.frames}/${FRAME}`, result: 'ImplicitlyDenied' }),
    ]);
  });

  test('writes its batch results, and a missing frame is a 404 since it may list the frames bucket', async () => {
    const worker = as('frameWorker');
    await worker.send(new PutObjectCommand({ Bucket: buckets.frames, Key: `${RUN}/batches/batch.000002.jsonl`, Body: '{}' }));
    const missing = `${RUN}/frames/frame.0009999.jpg`;
    expect(await refusal(worker.send(new GetObjectCommand({ Bucket: buckets.frames, Key: missing })))).toMatchObject({ name: 'NoSuchKey', status: 404 });
    expect(await refusal(worker.send(new HeadObjectCommand({ Bucket: buckets.frames, Key: missing })))).toMatchObject({ status: 404 });
  });

  test('may not list bucket names: s3:ListAllMyBuckets is the CLI user\'s alone', async () => {
    const refused = await refusal(as('frameWorker').send(new ListBucketsCommand({})));
    expect(refused).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(refused.message).toContain('perform: s3:ListAllMyBuckets on resource: "*" because no identity-based policy allows the s3:ListAllMyBuckets action');
  });

  test("a run's frames cost one evaluation, not one each", async () => {
    const worker = as('frameWorker');
    const keys = Array.from({ length: 50 }, (_, index) => `${RUN}/frames/frame.${String(100 + index).padStart(7, '0')}.jpg`);
    for (const key of keys) await store.put(buckets.frames, key, Buffer.from(key));
    await worker.send(new GetObjectCommand({ Bucket: buckets.frames, Key: keys[0] }));
    const evaluations = gate.authorizer.evaluations;
    for (const key of keys) expect(await text((await worker.send(new GetObjectCommand({ Bucket: buckets.frames, Key: key }))).Body)).toBe(key);
    expect(gate.authorizer.evaluations).toBe(evaluations);
  });
});

describe('the completion function', () => {
  test('lists the frames bucket (with the prefix as s3:prefix) but may not read a frame', async () => {
    const completion = as('completion');
    const listed = await completion.send(new ListObjectsV2Command({ Bucket: buckets.frames, Prefix: `${RUN}/frames/`, MaxKeys: 10 }));
    expect(listed.Contents?.map((object) => object.Key)).toContain(FRAME);
    await completion.send(new HeadBucketCommand({ Bucket: buckets.frames }));
    expect(await refusal(completion.send(new GetObjectCommand({ Bucket: buckets.frames, Key: FRAME })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(await refusal(completion.send(new HeadObjectCommand({ Bucket: buckets.frames, Key: FRAME })))).toMatchObject({ status: 403 });
    // HeadBucket is s3:ListBucket, which it holds on the frames bucket only.
    expect(await refusal(completion.send(new HeadBucketCommand({ Bucket: buckets.ingress })))).toMatchObject({ status: 403 });
  });
});

describe('the CLI user', () => {
  test('lists the buckets and uploads to the ingress bucket, multipart too', async () => {
    const cli = as('cli');
    const names = (await cli.send(new ListBucketsCommand({}))).Buckets?.map((bucket) => bucket.Name);
    expect(names).toEqual(expect.arrayContaining(Object.values(buckets)));
    await cli.send(new PutObjectCommand({ Bucket: buckets.ingress, Key: 'trips/small.mp4', Body: 'small' }));
    expect(await stored(buckets.ingress, 'trips/small.mp4')).toBe('small');
    const big = Buffer.alloc(6 * 1024 * 1024, 7);
    await new Upload({ client: cli, params: { Bucket: buckets.ingress, Key: 'trips/big.mp4', Body: big }, partSize: 5 * 1024 * 1024, queueSize: 1 }).done();
    expect(store.head(buckets.ingress, 'trips/big.mp4')).toMatchObject({ size: big.length, etag: expect.stringMatching(/-2"$/) });
    // Aborting its own upload is granted too; listing its parts is not.
    const { UploadId } = await cli.send(new CreateMultipartUploadCommand({ Bucket: buckets.ingress, Key: 'trips/aborted.mp4' }));
    expect(await refusal(cli.send(new ListPartsCommand({ Bucket: buckets.ingress, Key: 'trips/aborted.mp4', UploadId })))).toMatchObject({ name: 'AccessDenied' });
    await cli.send(new AbortMultipartUploadCommand({ Bucket: buckets.ingress, Key: 'trips/aborted.mp4', UploadId }));
  });

  test('may not write clip pieces (an explicit deny), nor read batch results, nor list the ingress bucket', async () => {
    const cli = as('cli');
    const piece = await refusal(cli.send(new PutObjectCommand({ Bucket: buckets.ingress, Key: 'kvs-clips/x/piece.0000.mp4', Body: 'piece' })));
    expect(piece).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(piece.message).toMatch(/^User: arn:aws:iam::000000000000:user\/frames-cli is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::frames-ingress\/kvs-clips\/x\/piece.0000.mp4" with an explicit deny in /);
    expect(store.list(buckets.ingress, { prefix: 'kvs-clips/', maxKeys: 1000 }).contents).toEqual([]);
    const multipart = await refusal(cli.send(new CreateMultipartUploadCommand({ Bucket: buckets.ingress, Key: 'kvs-clips/x/piece.0001.mp4' })));
    expect(multipart).toMatchObject({ name: 'AccessDenied' });
    expect(await refusal(cli.send(new GetObjectCommand({ Bucket: buckets.frames, Key: BATCH })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(await text((await cli.send(new GetObjectCommand({ Bucket: buckets.frames, Key: FRAME }))).Body)).toBe('jpeg bytes');
    expect(await refusal(cli.send(new ListObjectsV2Command({ Bucket: buckets.ingress })))).toMatchObject({ name: 'AccessDenied' });
    expect(await refusal(cli.send(new GetBucketLocationCommand({ Bucket: buckets.ingress })))).toMatchObject({ name: 'AccessDenied' });
  });

  test('copies need PutObject on the target and GetObject on the source', async () => {
    const cli = as('cli');
    // It may read frames and write uploads: a frame copied into the ingress bucket passes.
    await cli.send(new CopyObjectCommand({ Bucket: buckets.ingress, Key: 'trips/copied.jpg', CopySource: `${buckets.frames}/${FRAME}` }));
    expect(await stored(buckets.ingress, 'trips/copied.jpg')).toBe('jpeg bytes');
    // It may not read uploads: copying one is refused on the source, and nothing is written.
    const refused = await refusal(cli.send(new CopyObjectCommand({ Bucket: buckets.ingress, Key: 'trips/copy.mp4', CopySource: `${buckets.ingress}/${UPLOAD}` })));
    expect(refused).toMatchObject({ name: 'AccessDenied' });
    expect(refused.message).toContain(`perform: s3:GetObject on resource: "arn:aws:s3:::${buckets.ingress}/${UPLOAD}"`);
    expect(() => store.head(buckets.ingress, 'trips/copy.mp4')).toThrow(/does not exist/);
    const { UploadId } = await cli.send(new CreateMultipartUploadCommand({ Bucket: buckets.ingress, Key: 'trips/parts.mp4' }));
    const partCopy = cli.send(new UploadPartCopyCommand({ Bucket: buckets.ingress, Key: 'trips/parts.mp4', UploadId, PartNumber: 1, CopySource: `${buckets.frames}/${BATCH}` }));
    expect(await refusal(partCopy)).toMatchObject({ name: 'AccessDenied' });
    await cli.send(new AbortMultipartUploadCommand({ Bucket: buckets.ingress, Key: 'trips/parts.mp4', UploadId }));
  });

  test('DeleteObjects answers AccessDenied for each key it may not delete, and deletes none of them', async () => {
    const result = await as('cli').send(new DeleteObjectsCommand({ Bucket: buckets.ingress, Delete: { Objects: [{ Key: UPLOAD }, { Key: 'trips/other.mp4' }] } }));
    expect(result.Deleted ?? []).toEqual([]);
    expect(result.Errors?.map((error) => [error.Key, error.Code])).toEqual([
      [UPLOAD, 'AccessDenied'],
      ['trips/other.mp4', 'AccessDenied'],
    ]);
    expect(result.Errors?.[0].Message).toContain(`perform: s3:DeleteObject on resource: "arn:aws:s3:::${buckets.ingress}/${UPLOAD}"`);
    expect(await stored(buckets.ingress, UPLOAD)).toBe('mp4 bytes');
    expect(await refusal(as('cli').send(new DeleteObjectCommand({ Bucket: buckets.ingress, Key: UPLOAD })))).toMatchObject({ name: 'AccessDenied' });
  });
});

describe('a missing key', () => {
  test('is a 403 to a principal that may read it but not list its bucket, naming s3:ListBucket, as S3 answers', async () => {
    // MediaConvert's role reads the ingress bucket's objects and may not list it.
    const mediaConvert = as('mediaConvert');
    expect(await text((await mediaConvert.send(new GetObjectCommand({ Bucket: buckets.ingress, Key: UPLOAD }))).Body)).toBe('mp4 bytes');
    const before = denials().length;
    const refused = await refusal(mediaConvert.send(new GetObjectCommand({ Bucket: buckets.ingress, Key: 'trips/gone.mp4' })));
    expect(refused).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(refused.message).toBe(
      'User: arn:aws:iam::000000000000:role/frames-mediaconvert is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::frames-ingress" ' +
        'because no identity-based policy allows the s3:ListBucket action (local IAM: no statement in pipeline/permissions.ts allows it)',
    );
    expect(await refusal(mediaConvert.send(new HeadObjectCommand({ Bucket: buckets.ingress, Key: 'trips/gone.mp4' })))).toMatchObject({ status: 403 });
    expect(denials().slice(before).map((denial) => denial.action)).toEqual(['s3:ListBucket', 's3:ListBucket']);
  });

  test('is a 404 to the admin, and a missing bucket is NoSuchBucket whoever asks', async () => {
    expect(await refusal(admin().send(new GetObjectCommand({ Bucket: buckets.ingress, Key: 'trips/gone.mp4' })))).toMatchObject({ name: 'NoSuchKey', status: 404 });
    expect(await refusal(as('completion').send(new GetObjectCommand({ Bucket: 'frames-nowhere', Key: 'x' })))).toMatchObject({ name: 'NoSuchBucket', status: 404 });
  });
});

describe('presigned URLs', () => {
  test("are held to their signer's grants", async () => {
    const workerGet = await getSignedUrl(as('frameWorker'), new GetObjectCommand({ Bucket: buckets.frames, Key: FRAME }), { expiresIn: 60 });
    const got = await fetch(workerGet);
    expect(got.status).toBe(200);
    expect(await got.text()).toBe('jpeg bytes');
    const workerPut = await getSignedUrl(as('frameWorker'), new PutObjectCommand({ Bucket: buckets.frames, Key: FRAME }), { expiresIn: 60 });
    const put = await fetch(workerPut, { method: 'PUT', body: 'overwritten' });
    expect(put.status).toBe(403);
    expect(await put.text()).toContain('<Code>AccessDenied</Code>');
    expect(await stored(buckets.frames, FRAME)).toBe('jpeg bytes');
    const cliBatch = await getSignedUrl(as('cli'), new GetObjectCommand({ Bucket: buckets.frames, Key: BATCH }), { expiresIn: 60 });
    expect((await fetch(cliBatch)).status).toBe(403);
    expect(denials().at(-1)).toMatchObject({ principal: 'cli', action: 's3:GetObject', resource: `arn:aws:s3:::${buckets.frames}/${BATCH}` });
  });
});

describe('keys', () => {
  test('an unknown access key is InvalidAccessKeyId', async () => {
    const stranger = clientFor({ accessKeyId: 'AKIANOBODYHASTHIS', secretAccessKey: 'whatever' });
    expect(await refusal(stranger.send(new ListBucketsCommand({})))).toMatchObject({ name: 'InvalidAccessKeyId', status: 403 });
  });

  test("the admin key (the local cloud's own) is allowed everything", async () => {
    const s3 = admin();
    await s3.send(new PutObjectCommand({ Bucket: buckets.frames, Key: FRAME, Body: 'replaced' }));
    expect(await text((await s3.send(new GetObjectCommand({ Bucket: buckets.frames, Key: BATCH }))).Body)).toBe('{"index":7}\n');
    await s3.send(new ListObjectsV2Command({ Bucket: buckets.ingress }));
    const deleted = await s3.send(new DeleteObjectsCommand({ Bucket: buckets.ingress, Delete: { Objects: [{ Key: UPLOAD }] } }));
    expect(deleted.Deleted?.map((object) => object.Key)).toEqual([UPLOAD]);
    expect(await stored(buckets.frames, FRAME)).toBe('replaced');
  });
});

test('a refused upload sends no body: Expect 100-continue is answered 403 before the body', async () => {
  // Raw HTTP: the SDK's signer, a PUT with Expect: 100-continue, and a body that would be refused.
  const url = new URL(await getSignedUrl(as('completion'), new PutObjectCommand({ Bucket: buckets.frames, Key: FRAME }), { expiresIn: 60 }));
  const status = await new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
    let continued = false;
    const request = httpRequest(url, { method: 'PUT', headers: { expect: '100-continue', 'content-length': '11' } }, (response) => {
      response.resume();
      resolve({ status: response.statusCode!, continued });
      request.destroy();
    });
    request.on('continue', () => {
      continued = true;
      request.end('overwritten');
    });
    request.on('error', reject);
    request.flushHeaders();
  });
  expect(status).toEqual({ status: 403, continued: false });
  expect(await stored(buckets.frames, FRAME)).toBe('jpeg bytes');
});

describe('in-process access as a service principal (MediaConvert)', () => {
  test('reads its input and writes frames and proxies, but not batch results, with the role’s grants', async () => {
    const access = authorizedStoreAccess(store, gate, 'mediaConvert');
    const chunks: Buffer[] = [];
    for await (const chunk of await access.read(buckets.ingress, UPLOAD)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('mp4 bytes');
    await access.write(buckets.frames, `${RUN}/frames/frame.0000008.jpg`, Buffer.from('frame 8'), 'image/jpeg');
    await access.write(buckets.frames, `${RUN}/proxy/proxy.mp4`, Readable.from([Buffer.from('proxy')]), 'video/mp4');
    expect(await stored(buckets.frames, `${RUN}/proxy/proxy.mp4`)).toBe('proxy');
    const body = Readable.from([Buffer.from('not mine')]);
    await expect(access.write(buckets.frames, BATCH, body, 'application/x-ndjson')).rejects.toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(body.destroyed).toBe(true);
    expect(await stored(buckets.frames, BATCH)).toBe('{"index":7}\n');
    // A missing input is a 403: the role may not list the ingress bucket.
    await expect(access.read(buckets.ingress, 'trips/gone.mp4')).rejects.toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(denials().at(-1)).toMatchObject({ principal: 'mediaConvert', action: 's3:ListBucket', resource: 'arn:aws:s3:::frames-ingress' });
  });
});

describe('the action mapping', () => {
  const base = baseContexts('000000000000')['REST-HEADER'];
  const permissions = (method: string, path: string, headers: Record<string, string> = {}) => {
    const url = new URL(path, 'http://s3');
    const [, bucket, ...key] = url.pathname.split('/');
    return s3Permissions({ method, bucket: bucket || undefined, key: key.join('/') || undefined, params: url.searchParams, headers }, base, (value) => {
      const [sourceBucket, ...sourceKey] = value.replace(/^\//, '').split('/');
      return { bucket: sourceBucket, key: sourceKey.join('/') };
    });
  };

  test.each([
    ['GET', '/', 's3:ListAllMyBuckets', '*'],
    ['HEAD', '/b', 's3:ListBucket', 'arn:aws:s3:::b'],
    ['GET', '/b?location', 's3:GetBucketLocation', 'arn:aws:s3:::b'],
    ['GET', '/b?acl', 's3:GetBucketAcl', 'arn:aws:s3:::b'],
    ['GET', '/b?versioning', 's3:GetBucketVersioning', 'arn:aws:s3:::b'],
    ['GET', '/b?tagging', 's3:GetBucketTagging', 'arn:aws:s3:::b'],
    ['GET', '/b?uploads', 's3:ListBucketMultipartUploads', 'arn:aws:s3:::b'],
    ['PUT', '/b', 's3:CreateBucket', 'arn:aws:s3:::b'],
    ['DELETE', '/b', 's3:DeleteBucket', 'arn:aws:s3:::b'],
    ['GET', '/b/k/1.jpg', 's3:GetObject', 'arn:aws:s3:::b/k/1.jpg'],
    ['HEAD', '/b/k', 's3:GetObject', 'arn:aws:s3:::b/k'],
    ['GET', '/b/k?versionId=null', 's3:GetObjectVersion', 'arn:aws:s3:::b/k'],
    ['PUT', '/b/k', 's3:PutObject', 'arn:aws:s3:::b/k'],
    ['POST', '/b/k?uploads', 's3:PutObject', 'arn:aws:s3:::b/k'],
    ['PUT', '/b/k?uploadId=u&partNumber=1', 's3:PutObject', 'arn:aws:s3:::b/k'],
    ['POST', '/b/k?uploadId=u', 's3:PutObject', 'arn:aws:s3:::b/k'],
    ['DELETE', '/b/k?uploadId=u', 's3:AbortMultipartUpload', 'arn:aws:s3:::b/k'],
    ['GET', '/b/k?uploadId=u', 's3:ListMultipartUploadParts', 'arn:aws:s3:::b/k'],
    ['DELETE', '/b/k', 's3:DeleteObject', 'arn:aws:s3:::b/k'],
    ['GET', '/b/k?acl', 's3:GetObjectAcl', 'arn:aws:s3:::b/k'],
    ['GET', '/b/k?tagging', 's3:GetObjectTagging', 'arn:aws:s3:::b/k'],
  ])('%s %s: %s on %s', (method, path, action, resource) => {
    expect(permissions(method, path)).toMatchObject({ action, resource });
  });

  test('listing sets s3:prefix, s3:delimiter and s3:max-keys when given; a plain GET shares one context object', () => {
    expect(permissions('GET', '/b?list-type=2&prefix=run%2F&delimiter=%2F&max-keys=10')).toEqual({
      action: 's3:ListBucket',
      resource: 'arn:aws:s3:::b',
      context: { ...base, 's3:prefix': 'run/', 's3:delimiter': '/', 's3:max-keys': '10' },
    });
    expect((permissions('GET', '/b/k') as { context: object }).context).toBe(base);
  });

  test('copies need PutObject on the target (with s3:x-amz-copy-source) and GetObject on the source', () => {
    expect(permissions('PUT', '/b/k', { 'x-amz-copy-source': '/src/a/b.jpg', 'x-amz-metadata-directive': 'REPLACE' })).toEqual([
      { action: 's3:PutObject', resource: 'arn:aws:s3:::b/k', context: { ...base, 's3:x-amz-copy-source': 'src/a/b.jpg', 's3:x-amz-metadata-directive': 'REPLACE' } },
      { action: 's3:GetObject', resource: 'arn:aws:s3:::src/a/b.jpg', context: base },
    ]);
    expect(permissions('PUT', '/b/k?uploadId=u&partNumber=2', { 'x-amz-copy-source': 'src/x' })).toMatchObject([
      { action: 's3:PutObject', resource: 'arn:aws:s3:::b/k' },
      { action: 's3:GetObject', resource: 'arn:aws:s3:::src/x' },
    ]);
  });

  test('DeleteObjects is per key; operations the server does not implement need nothing (refused with 501)', () => {
    expect(permissions('POST', '/b?delete')).toBe('per-key');
    expect(permissions('PUT', '/b?versioning')).toBeUndefined();
    expect(permissions('POST', '/b/k')).toBeUndefined();
  });
});
