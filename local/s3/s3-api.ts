import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { XMLParser } from 'fast-xml-parser';
import { decodeAwsChunked } from './aws-chunked';
import { type ListResult, type ObjectRecord, type ObjectStore, S3Error, type WriteOptions } from './object-store';
import { type Credentials, SignatureError, verifyRequest } from './sigv4';

/**
 * The S3 REST API (path-style requests, as the SDK sends them to an IP endpoint) over an
 * ObjectStore: the operations the pipeline, its CLI and `aws s3` use. Anything else is refused
 * with NotImplemented naming the operation, never answered as if it had worked.
 *
 *   GET / (ListBuckets) · PUT, HEAD, DELETE /bucket · GET /bucket?list-type=2 (ListObjectsV2),
 *   GET /bucket (ListObjects) · GET /bucket?location · POST /bucket?delete (DeleteObjects) ·
 *   PUT (PutObject, CopyObject with x-amz-copy-source, UploadPart), GET with Range, HEAD, DELETE
 *   /bucket/key · POST /bucket/key?uploads, ?uploadId · DELETE /bucket/key?uploadId
 */

const xmlParser = new XMLParser({ isArray: (name) => name === 'Part' || name === 'Object', parseTagValue: false, trimValues: false });
const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
/** Larger request bodies than this are refused for XML operations (S3 allows 1,000 deletes). */
const MAX_XML_BODY = 2 * 1024 * 1024;

const escapeXml = (text: string) =>
  text.replace(/[&<>"'\r]/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' })[character]!);

function xml(root: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${XMLNS}">${body}</${root}>`;
}

const element = (name: string, value: string | number | boolean) => `<${name}>${escapeXml(String(value))}</${name}>`;

interface ParsedRequest {
  readonly method: string;
  readonly path: string;
  readonly bucket?: string;
  readonly key?: string;
  readonly query: Array<[string, string]>;
  readonly params: URLSearchParams;
}

function parseRequest(request: IncomingMessage): ParsedRequest {
  const url = request.url ?? '/';
  const questionMark = url.indexOf('?');
  const path = questionMark < 0 ? url : url.slice(0, questionMark);
  const params = new URLSearchParams(questionMark < 0 ? '' : url.slice(questionMark + 1));
  const slash = path.indexOf('/', 1);
  const bucket = decodeURIComponent(slash < 0 ? path.slice(1) : path.slice(1, slash)) || undefined;
  const key = slash < 0 ? undefined : decodeURIComponent(path.slice(slash + 1)) || undefined;
  return { method: request.method ?? 'GET', path, bucket, key, query: [...params.entries()], params };
}

function userMetadata(request: IncomingMessage): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith('x-amz-meta-') && value !== undefined) metadata[name.slice(11)] = Array.isArray(value) ? value.join(',') : value;
  }
  return metadata;
}

function objectHeaders(record: ObjectRecord): Record<string, string> {
  const headers: Record<string, string> = {
    etag: record.etag,
    'last-modified': new Date(record.lastModified).toUTCString(),
    'content-type': record.contentType,
    'accept-ranges': 'bytes',
  };
  for (const [name, value] of Object.entries(record.metadata)) headers[`x-amz-meta-${name}`] = value;
  return headers;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; undefined for no Range; S3Error 416 when it is past the end. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined; // S3 ignores ranges it cannot parse.
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) throw new S3Error('InvalidRange', 416, `The range ${header} is not satisfiable for an object of ${size} bytes`);
  return { start, end };
}

async function readXmlBody(request: Readable): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_XML_BODY) throw new S3Error('MaxMessageLengthExceeded', 400, 'The XML request body is too large');
    chunks.push(chunk as Buffer);
  }
  try {
    return xmlParser.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new S3Error('MalformedXML', 400, `The XML you provided was not well-formed: ${(error as Error).message}`);
  }
}

const header = (request: IncomingMessage, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/** The continuation token of a list page: the last key or prefix it returned, opaque to clients. */
function encodeToken(last: NonNullable<ListResult['last']>): string {
  return Buffer.from(JSON.stringify([last.value, last.isPrefix ? 1 : 0])).toString('base64url');
}

function decodeToken(token: string): { value: string; isPrefix: boolean } {
  try {
    const [value, isPrefix] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof value === 'string') return { value, isPrefix: isPrefix === 1 };
  } catch {
    // Falls through to the error below.
  }
  throw new S3Error('InvalidArgument', 400, 'The continuation token provided is incorrect');
}

export interface S3ApiOptions {
  readonly store: ObjectStore;
  readonly credentials: Credentials;
  readonly region: string;
}

/** The request handler of the local S3 server. */
export function s3RequestHandler(options: S3ApiOptions) {
  const { store } = options;

  /** The object's bytes: aws-chunked bodies (the SDK's and the CLI's flexible checksums) decoded, not stored framed. */
  function bodyStream(request: IncomingMessage, payloadHash: string): Readable {
    const streaming = payloadHash.startsWith('STREAMING-') || (header(request, 'content-encoding') ?? '').includes('aws-chunked');
    return streaming ? request.pipe(decodeAwsChunked()) : request;
  }

  function writeOptions(request: IncomingMessage, payloadHash: string): WriteOptions {
    return {
      contentType: header(request, 'content-type'),
      metadata: userMetadata(request),
      sha256: /^[0-9a-f]{64}$/.test(payloadHash) ? payloadHash : undefined,
      md5Base64: header(request, 'content-md5'),
    };
  }

  async function listObjects(bucket: string, params: URLSearchParams, response: ServerResponse): Promise<void> {
    const v2 = params.get('list-type') === '2';
    const maxKeysText = params.get('max-keys') ?? '1000';
    const maxKeys = Number(maxKeysText);
    if (!/^\d+$/.test(maxKeysText)) throw new S3Error('InvalidArgument', 400, `max-keys must be a non-negative integer, not ${maxKeysText}`);
    const prefix = params.get('prefix') ?? '';
    const delimiter = params.get('delimiter') || undefined;
    const urlEncoded = params.get('encoding-type') === 'url';
    const encode = (text: string) => (urlEncoded ? encodeURIComponent(text) : text);
    const token = v2 ? params.get('continuation-token') : null;
    const startAfter = v2 ? params.get('start-after') : params.get('marker');
    const resume = token ? decodeToken(token) : startAfter ? { value: startAfter, isPrefix: false } : undefined;
    const page = store.list(bucket, { prefix, delimiter, after: resume?.value, afterPrefix: resume?.isPrefix, maxKeys: Math.min(maxKeys, 1000) });

    const contents = page.contents
      .map((record) =>
        `<Contents>${element('Key', encode(record.key))}${element('LastModified', record.lastModified)}${element('ETag', record.etag)}` +
        `${element('Size', record.size)}${element('StorageClass', 'STANDARD')}</Contents>`)
      .join('');
    const prefixes = page.commonPrefixes.map((common) => `<CommonPrefixes>${element('Prefix', encode(common))}</CommonPrefixes>`).join('');
    const shared =
      element('Name', bucket) + element('Prefix', encode(prefix)) + (delimiter ? element('Delimiter', encode(delimiter)) : '') +
      element('MaxKeys', maxKeys) + (urlEncoded ? element('EncodingType', 'url') : '') + element('IsTruncated', page.isTruncated);
    let paging: string;
    if (v2) {
      paging = element('KeyCount', page.contents.length + page.commonPrefixes.length) +
        (token ? element('ContinuationToken', token) : '') + (startAfter ? element('StartAfter', encode(startAfter)) : '') +
        (page.isTruncated && page.last ? element('NextContinuationToken', encodeToken(page.last)) : '');
    } else {
      paging = element('Marker', encode(startAfter ?? '')) +
        (page.isTruncated && page.last && delimiter ? element('NextMarker', encode(page.last.value)) : '');
    }
    send(response, 200, xml('ListBucketResult', shared + paging + contents + prefixes));
  }

  async function deleteObjects(bucket: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    store.bucket(bucket);
    const parsed = (await readXmlBody(request)).Delete as { Object?: Array<{ Key?: string }>; Quiet?: string } | undefined;
    const objects = parsed?.Object ?? [];
    if (objects.length === 0 || objects.length > 1000) throw new S3Error('MalformedXML', 400, 'DeleteObjects takes 1 to 1000 objects');
    const deleted: string[] = [];
    for (const object of objects) {
      if (typeof object.Key !== 'string') throw new S3Error('MalformedXML', 400, 'Each Object to delete needs a Key');
      await store.delete(bucket, object.Key);
      deleted.push(object.Key);
    }
    const quiet = parsed?.Quiet === 'true';
    send(response, 200, xml('DeleteResult', quiet ? '' : deleted.map((key) => `<Deleted>${element('Key', key)}</Deleted>`).join('')));
  }

  async function putObject(request: IncomingMessage, target: ParsedRequest, payloadHash: string, response: ServerResponse): Promise<void> {
    const { bucket, key, params } = target;
    const uploadId = params.get('uploadId');
    const objectOptions = writeOptions(request, payloadHash);
    if (uploadId) {
      const etag = await store.uploadPart(bucket!, key!, uploadId, Number(params.get('partNumber')), bodyStream(request, payloadHash), objectOptions);
      return send(response, 200, '', { etag });
    }
    const copySource = header(request, 'x-amz-copy-source');
    if (copySource) {
      request.resume();
      const decoded = decodeURIComponent(copySource.split('?')[0]).replace(/^\//, '');
      const slash = decoded.indexOf('/');
      if (slash < 1) throw new S3Error('InvalidArgument', 400, `x-amz-copy-source must be bucket/key, not ${copySource}`);
      const replace = header(request, 'x-amz-metadata-directive') === 'REPLACE'
        ? { contentType: objectOptions.contentType, metadata: objectOptions.metadata ?? {} }
        : undefined;
      const record = await store.copy({ bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) }, { bucket: bucket!, key: key! }, replace);
      return send(response, 200, xml('CopyObjectResult', element('LastModified', record.lastModified) + element('ETag', record.etag)));
    }
    const record = await store.put(bucket!, key!, bodyStream(request, payloadHash), objectOptions);
    send(response, 200, '', { etag: record.etag });
  }

  async function getObject(request: IncomingMessage, bucket: string, key: string, response: ServerResponse, headOnly: boolean): Promise<void> {
    const record = store.head(bucket, key);
    const range = parseRange(header(request, 'range'), record.size);
    const headers = objectHeaders(record);
    if (range) {
      headers['content-range'] = `bytes ${range.start}-${range.end}/${record.size}`;
      headers['content-length'] = String(range.end - range.start + 1);
    } else {
      headers['content-length'] = String(record.size);
    }
    response.writeHead(range ? 206 : 200, { ...headers, 'x-amz-request-id': requestId() });
    if (headOnly || record.size === 0) return void response.end();
    await pipeline(store.read(bucket, record, range), response);
  }

  async function multipartPost(request: IncomingMessage, target: ParsedRequest, payloadHash: string, response: ServerResponse): Promise<void> {
    const { bucket, key, params } = target;
    if (params.has('uploads')) {
      request.resume();
      const uploadId = store.createMultipartUpload(bucket!, key!, writeOptions(request, payloadHash));
      return send(response, 200, xml('InitiateMultipartUploadResult', element('Bucket', bucket!) + element('Key', key!) + element('UploadId', uploadId)));
    }
    const uploadId = params.get('uploadId');
    if (!uploadId) throw notImplemented(`POST on an object without ?uploads or ?uploadId`);
    const parsed = (await readXmlBody(request)).CompleteMultipartUpload as { Part?: Array<{ PartNumber?: string; ETag?: string }> } | undefined;
    const parts = (parsed?.Part ?? []).map((part) => ({ partNumber: Number(part.PartNumber), etag: String(part.ETag ?? '') }));
    const record = await store.completeMultipartUpload(bucket!, key!, uploadId, parts);
    send(response, 200, xml('CompleteMultipartUploadResult', element('Bucket', bucket!) + element('Key', key!) + element('ETag', record.etag)));
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = parseRequest(request);
    const payloadHash = verifyRequest({ method: target.method, path: target.path, query: target.query, headers: request.headers }, options.credentials);
    const { method, bucket, key, params } = target;

    if (!bucket) {
      if (method !== 'GET') throw notImplemented(`${method} /`);
      const buckets = store.listBuckets().map((b) => `<Bucket>${element('Name', b.name)}${element('CreationDate', b.created)}</Bucket>`).join('');
      return send(response, 200, xml('ListAllMyBucketsResult', `<Owner>${element('ID', 'local')}</Owner><Buckets>${buckets}</Buckets>`));
    }
    if (!key) {
      const subresource = ['location', 'delete', 'uploads', 'versioning', 'policy', 'cors', 'notification'].find((name) => params.has(name));
      switch (`${method} ${subresource ?? ''}`) {
        case 'PUT ':
          request.resume();
          await store.createBucket(bucket);
          return send(response, 200, '', { location: `/${bucket}` });
        case 'HEAD ':
          store.bucket(bucket);
          return send(response, 200, '', { 'x-amz-bucket-region': options.region });
        case 'DELETE ':
          await store.deleteBucket(bucket);
          return send(response, 204, '');
        case 'GET ':
          return listObjects(bucket, params, response);
        case 'GET location':
          store.bucket(bucket);
          // us-east-1 is written as an empty LocationConstraint, as S3 does.
          return send(response, 200, xml('LocationConstraint', options.region === 'us-east-1' ? '' : escapeXml(options.region)));
        case 'POST delete':
          return deleteObjects(bucket, request, response);
        default:
          throw notImplemented(`${method} on a bucket${subresource ? ` with ?${subresource}` : ''}`);
      }
    }
    switch (method) {
      case 'PUT':
        return putObject(request, target, payloadHash, response);
      case 'GET':
      case 'HEAD':
        return getObject(request, bucket, key, response, method === 'HEAD');
      case 'DELETE':
        if (params.has('uploadId')) await store.abortMultipartUpload(bucket, key, params.get('uploadId')!);
        else await store.delete(bucket, key);
        return send(response, 204, '');
      case 'POST':
        return multipartPost(request, target, payloadHash, response);
      default:
        throw notImplemented(`${method} on an object`);
    }
  }

  return (request: IncomingMessage, response: ServerResponse): void => {
    route(request, response).catch((error: unknown) => {
      const s3Error = asS3Error(error);
      if (response.headersSent) return void response.destroy();
      request.resume(); // Discard the rest of a refused body so the connection can be reused.
      const resource = s3Error.resource ? element('Resource', s3Error.resource) : '';
      const text = request.method === 'HEAD'
        ? ''
        : `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${element('Code', s3Error.code)}${element('Message', s3Error.message)}${resource}${element('RequestId', requestId())}</Error>`;
      send(response, s3Error.status, text);
    });
  };
}

function asS3Error(error: unknown): S3Error {
  if (error instanceof S3Error) return error;
  if (error instanceof SignatureError) return new S3Error(error.code, error.status, error.message);
  if (error instanceof URIError) return new S3Error('InvalidURI', 400, 'Could not parse the specified URI');
  return new S3Error('InternalError', 500, `The local S3 server failed: ${(error as Error)?.message ?? String(error)}`);
}

const notImplemented = (what: string) =>
  new S3Error('NotImplemented', 501, `The local S3 server does not implement ${what}; the pipeline does not need it`);

let requestCounter = 0;
const requestId = () => `LOCAL${(++requestCounter).toString(16).toUpperCase().padStart(11, '0')}`;

function send(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = text ? Buffer.from(text, 'utf8') : undefined;
  response.writeHead(status, {
    ...headers,
    'x-amz-request-id': requestId(),
    ...(body ? { 'content-type': 'application/xml', 'content-length': String(body.length) } : { 'content-length': '0' }),
  });
  response.end(body);
}
