import { createHash } from 'node:crypto';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { XMLParser } from 'fast-xml-parser';
import { LOCAL_ACCOUNT_ID } from '../local-identity';
import { decodeAwsChunked } from './aws-chunked';
import {
  type CopyReplacement,
  etagMatches,
  type ListResult,
  type ObjectRecord,
  type ObjectStore,
  preconditionFailed,
  S3Error,
  type WriteOptions,
  type WritePrecondition,
} from './object-store';
import {
  accessDenied,
  baseContexts,
  type CopySource,
  deleteKeyPermission,
  listBucketPermission,
  type S3Gate,
  type S3Permission,
  s3Permissions,
} from './s3-authorization';
import { type Credentials, decodeHeaderText, type KeyChain, SignatureError, type VerifiedRequest, verifyRequest } from './sigv4';

/**
 * The S3 REST API (path-style requests, as the SDK sends them to an IP endpoint) over an
 * ObjectStore. What it implements, as S3 answers it for a general purpose bucket that is
 * unversioned, has ACLs disabled (BucketOwnerEnforced) and SSE-S3 default encryption, like the
 * deployed buckets:
 *
 *   service   ListBuckets (max-buckets, continuation-token, prefix, bucket-region)
 *   buckets   CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, ListObjects,
 *             ListObjectsV2, DeleteObjects, ListMultipartUploads, GetBucketVersioning (never
 *             enabled), GetBucketAcl (the owner's FULL_CONTROL)
 *   objects   PutObject, GetObject and HeadObject (ranges, partNumber, conditional requests,
 *             response-* overrides), DeleteObject (If-Match), CopyObject (x-amz-copy-source-if-*,
 *             metadata directive, conditional writes), CreateMultipartUpload, UploadPart,
 *             UploadPartCopy (x-amz-copy-source-range), ListParts, CompleteMultipartUpload,
 *             AbortMultipartUpload, GetObjectAcl, GetObjectTagging (always empty: tags cannot be
 *             set), GetBucketTagging (NoSuchTagSet); If-Match and If-None-Match on writes
 *
 * Everything else is refused before any handler runs: a subresource, query parameter or header
 * that selects an operation the server does not implement gets 501 NotImplemented naming it, and
 * what S3 itself refuses for such a bucket (ACL grants, object lock, version ids it never issued)
 * is refused as S3 refuses it. Stored data is never touched by a request that is refused.
 */

const xmlParser = new XMLParser({ isArray: (name) => name === 'Part' || name === 'Object', parseTagValue: false, trimValues: false });
const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
/** Larger request bodies than this are refused for XML operations (S3 allows 1,000 deletes). */
const MAX_XML_BODY = 2 * 1024 * 1024;
/** User metadata S3 accepts on an object: 2 KB of names and values (UTF-8). */
const MAX_METADATA_BYTES = 2048;
/** Every object is encrypted with S3-managed keys, as the deployed buckets' default encryption does. */
const SSE_HEADERS = { 'x-amz-server-side-encryption': 'AES256' } as const;

const escapeXml = (text: string) =>
  text.replace(/[&<>"'\r]/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' })[character]!);

function xml(root: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${XMLNS}">${body}</${root}>`;
}

const element = (name: string, value: string | number | boolean) => `<${name}>${escapeXml(String(value))}</${name}>`;

// ---------------------------------------------------------------------------------------------
// What the server does not implement, refused by name before any handler runs
// ---------------------------------------------------------------------------------------------

/**
 * Query parameters (S3 subresources) that select an operation the server does not implement, with
 * the operation's name. One Map lookup per query parameter: the guard costs nothing measurable.
 */
const UNIMPLEMENTED_SUBRESOURCES: ReadonlyMap<string, string> = new Map([
  ['tagging', 'object and bucket tagging'],
  ['cors', 'CORS configuration'],
  ['policy', 'bucket policies'],
  ['policyStatus', 'bucket policy status'],
  ['lifecycle', 'lifecycle configuration'],
  ['encryption', 'bucket encryption configuration'],
  ['object-lock', 'Object Lock configuration'],
  ['retention', 'object retention (Object Lock)'],
  ['legal-hold', 'legal holds (Object Lock)'],
  ['restore', 'RestoreObject'],
  ['select', 'S3 Select'],
  ['select-type', 'S3 Select'],
  ['torrent', 'GetObjectTorrent'],
  ['website', 'website configuration'],
  ['notification', 'event notification configuration'],
  ['logging', 'server access logging'],
  ['replication', 'replication configuration'],
  ['requestPayment', 'Requester Pays configuration'],
  ['accelerate', 'Transfer Acceleration'],
  ['analytics', 'storage class analysis'],
  ['inventory', 'S3 Inventory'],
  ['metrics', 'request metrics'],
  ['intelligent-tiering', 'S3 Intelligent-Tiering configuration'],
  ['ownershipControls', 'Object Ownership configuration'],
  ['publicAccessBlock', 'Block Public Access configuration'],
  ['attributes', 'GetObjectAttributes'],
  ['versions', 'ListObjectVersions'],
  ['renameObject', 'RenameObject'],
  ['metadataTable', 'S3 Metadata tables'],
  ['metadataConfiguration', 'S3 Metadata configuration'],
  ['metadataInventoryTable', 'S3 Metadata tables'],
  ['metadataJournalTable', 'S3 Metadata tables'],
  ['metadataAnnotationTable', 'S3 Metadata tables'],
  ['annotation', 'object annotations'],
  ['session', 'CreateSession (directory buckets)'],
  ['abac', 'attribute-based access control'],
]);

/** Headers on a write that ask for something the server does not implement. */
const UNIMPLEMENTED_WRITE_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['x-amz-tagging', 'object tagging (x-amz-tagging)'],
  ['x-amz-website-redirect-location', 'website redirects (x-amz-website-redirect-location)'],
  ['x-amz-server-side-encryption-aws-kms-key-id', 'SSE-KMS (x-amz-server-side-encryption-aws-kms-key-id)'],
  ['x-amz-server-side-encryption-context', 'SSE-KMS (x-amz-server-side-encryption-context)'],
  ['x-amz-server-side-encryption-bucket-key-enabled', 'S3 Bucket Keys (x-amz-server-side-encryption-bucket-key-enabled)'],
  ['x-amz-write-offset-bytes', 'appends (x-amz-write-offset-bytes)'],
  ['if-modified-since', 'If-Modified-Since on a write'],
  ['if-unmodified-since', 'If-Unmodified-Since on a write'],
];

const SSE_C_HEADERS = ['x-amz-server-side-encryption-customer-algorithm', 'x-amz-server-side-encryption-customer-key', 'x-amz-server-side-encryption-customer-key-md5'];
const COPY_SSE_C_HEADERS = SSE_C_HEADERS.map((name) => name.replace('x-amz-', 'x-amz-copy-source-'));
const OBJECT_LOCK_HEADERS = ['x-amz-object-lock-mode', 'x-amz-object-lock-retain-until-date', 'x-amz-object-lock-legal-hold'];
/** Conditions S3 evaluates for directory buckets only. */
const DIRECTORY_BUCKET_CONDITIONS = ['x-amz-if-match-size', 'x-amz-if-match-last-modified-time', 'x-amz-if-match-initiated-time'];
const GRANT_HEADERS = ['x-amz-grant-full-control', 'x-amz-grant-read', 'x-amz-grant-read-acp', 'x-amz-grant-write', 'x-amz-grant-write-acp'];
const STORAGE_CLASSES = new Set(['REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'OUTPOSTS', 'GLACIER_IR', 'SNOW', 'EXPRESS_ONEZONE', 'FSX_OPENZFS', 'FSX_ONTAP']);

const notImplemented = (what: string) =>
  new S3Error('NotImplemented', 501, `A header or query you provided implies functionality that is not implemented: the local S3 server does not implement ${what}; the pipeline does not need it`);

const aclNotSupported = () =>
  new S3Error('AccessControlListNotSupported', 400, 'The bucket does not allow ACLs (its Object Ownership is BucketOwnerEnforced, as the deployed buckets are)');

const invalidArgument = (message: string) => new S3Error('InvalidArgument', 400, message);
const invalidVersionId = (versionId: string) =>
  new S3Error('InvalidArgument', 400, `Invalid version id specified: the bucket is not versioned, so its only version id is null (not ${versionId})`, versionId);
const invalidUri = () => new S3Error('InvalidURI', 400, "Couldn't parse the specified URI.");

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

interface ParsedRequest {
  readonly method: string;
  readonly path: string;
  readonly bucket?: string;
  readonly key?: string;
  readonly query: Array<[string, string]>;
  readonly params: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** Who signed it and how, once the signature is verified. */
  signer?: VerifiedRequest;
}

/** C1 control characters: S3 cannot parse a URI whose key holds them. */
const C1_CONTROLS = /[\u0080-\u009f]/;

function parseRequest(request: IncomingMessage): ParsedRequest {
  const url = request.url ?? '/';
  const questionMark = url.indexOf('?');
  const path = questionMark < 0 ? url : url.slice(0, questionMark);
  const params = new URLSearchParams(questionMark < 0 ? '' : url.slice(questionMark + 1));
  const slash = path.indexOf('/', 1);
  let bucket: string | undefined;
  let key: string | undefined;
  try {
    bucket = decodeURIComponent(slash < 0 ? path.slice(1) : path.slice(1, slash)) || undefined;
    key = slash < 0 ? undefined : decodeURIComponent(path.slice(slash + 1)) || undefined;
  } catch {
    throw invalidUri();
  }
  if (key !== undefined && C1_CONTROLS.test(key)) throw invalidUri();
  return { method: request.method ?? 'GET', path, bucket, key, query: [...params.entries()], params, headers: request.headers };
}

const header = (request: IncomingMessage, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/** RFC 2047 encoded-words (`=?UTF-8?B?...?=`, `=?ISO-8859-1?Q?...?=`), decoded as S3 decodes metadata. */
function decodeRfc2047(value: string): string {
  if (!value.includes('=?')) return value;
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (word, charset: string, encoding: string, text: string) => {
      const name = charset.toLowerCase();
      const bufferEncoding = name === 'utf-8' || name === 'utf8' ? 'utf8' : name === 'iso-8859-1' || name === 'latin1' || name === 'us-ascii' ? 'latin1' : undefined;
      if (!bufferEncoding) return word;
      const bytes = encoding.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
      return bytes.toString(bufferEncoding);
    });
}

/** A metadata value as S3 returns it: as stored when US-ASCII, RFC 2047-encoded (UTF-8) otherwise. */
const encodeMetadataValue = (value: string) =>
  /^[\x20-\x7e\t]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;

/** A stored header's value on the wire: its UTF-8 bytes (Node writes header strings as latin-1). */
const headerBytes = (value: string) => (/^[\x00-\xff]*$/.test(value) ? value : Buffer.from(value, 'utf8').toString('latin1'));

function userMetadata(request: IncomingMessage): Record<string, string> {
  const metadata: Record<string, string> = {};
  let bytes = 0;
  for (const name in request.headers) {
    if (!name.startsWith('x-amz-meta-')) continue;
    const value = decodeRfc2047(decodeHeaderText(header(request, name)!));
    const field = name.slice(11);
    metadata[field] = value;
    bytes += Buffer.byteLength(field) + Buffer.byteLength(value);
  }
  if (bytes > MAX_METADATA_BYTES) {
    throw new S3Error('MetadataTooLarge', 400, `Your metadata headers exceed the maximum allowed metadata size (${bytes} bytes of at most ${MAX_METADATA_BYTES})`);
  }
  return metadata;
}

/** Headers S3 stores with an object and returns with it. */
const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'] as const;

function storedHeaders(request: IncomingMessage): Record<string, string> | undefined {
  let headers: Record<string, string> | undefined;
  for (const name of STORED_HEADERS) {
    let value = header(request, name);
    if (value === undefined) continue;
    // aws-chunked is how the body was sent, not how the object is encoded: S3 does not keep it.
    if (name === 'content-encoding') value = value.split(',').map((coding) => coding.trim()).filter((coding) => coding && coding !== 'aws-chunked').join(',');
    if (!value) continue;
    (headers ??= {})[name] = decodeHeaderText(value);
  }
  return headers;
}

/** The object's response headers (ETag, type, stored headers, user metadata, encryption). */
function objectHeaders(record: ObjectRecord): Record<string, string> {
  const headers: Record<string, string> = {
    etag: record.etag,
    'last-modified': new Date(record.lastModified).toUTCString(),
    'content-type': headerBytes(record.contentType),
    'accept-ranges': 'bytes',
    ...SSE_HEADERS,
  };
  if (record.headers) for (const name in record.headers) headers[name] = headerBytes(record.headers[name]);
  for (const name in record.metadata) headers[`x-amz-meta-${name}`] = encodeMetadataValue(record.metadata[name]);
  return headers;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; undefined for no Range or one S3 ignores; S3Error 416 past the end. */
function parseRange(text: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!text) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(text.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined; // S3 ignores ranges it cannot parse (and multiple ranges).
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
    if (Number(match[2]) === 0) start = size; // An empty suffix is unsatisfiable.
  } else {
    start = Number(match[1]);
    if (match[2] !== '' && Number(match[2]) < start) return undefined; // Syntactically invalid (RFC 9110): ignored.
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) {
    throw new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', undefined, { 'content-range': `bytes */${size}` });
  }
  return { start, end };
}

/** An HTTP date's second (S3's Last-Modified resolution); undefined for a date that does not parse (ignored, per RFC 9110). */
function httpDateSeconds(text: string): number | undefined {
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : Math.floor(time / 1000);
}

const lastModifiedSeconds = (record: ObjectRecord) => Math.floor(Date.parse(record.lastModified) / 1000);

/**
 * GET and HEAD preconditions, evaluated as S3 (and RFC 9110) order them: If-Match, else
 * If-Unmodified-Since (412 when false); then If-None-Match, else If-Modified-Since (304 when false).
 * Returns true for 304 Not Modified.
 */
function notModified(request: IncomingMessage, record: ObjectRecord): boolean {
  const ifMatch = header(request, 'if-match');
  const ifNoneMatch = header(request, 'if-none-match');
  const ifModifiedSince = header(request, 'if-modified-since');
  const ifUnmodifiedSince = header(request, 'if-unmodified-since');
  if (ifMatch === undefined && ifNoneMatch === undefined && ifModifiedSince === undefined && ifUnmodifiedSince === undefined) return false;
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, record.etag)) throw preconditionFailed('If-Match');
  } else if (ifUnmodifiedSince !== undefined) {
    const since = httpDateSeconds(ifUnmodifiedSince);
    if (since !== undefined && lastModifiedSeconds(record) > since) throw preconditionFailed('If-Unmodified-Since');
  }
  if (ifNoneMatch !== undefined) return etagMatches(ifNoneMatch, record.etag);
  if (ifModifiedSince !== undefined) {
    const since = httpDateSeconds(ifModifiedSince);
    return since !== undefined && lastModifiedSeconds(record) <= since;
  }
  return false;
}

/** CopyObject's and UploadPartCopy's x-amz-copy-source-if-* on the source: 412 when they do not hold. */
function checkCopySourcePreconditions(request: IncomingMessage, record: ObjectRecord): void {
  const ifMatch = header(request, 'x-amz-copy-source-if-match');
  const ifNoneMatch = header(request, 'x-amz-copy-source-if-none-match');
  const ifModifiedSince = header(request, 'x-amz-copy-source-if-modified-since');
  const ifUnmodifiedSince = header(request, 'x-amz-copy-source-if-unmodified-since');
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, record.etag)) throw preconditionFailed('x-amz-copy-source-If-Match');
  } else if (ifUnmodifiedSince !== undefined) {
    const since = httpDateSeconds(ifUnmodifiedSince);
    if (since !== undefined && lastModifiedSeconds(record) > since) throw preconditionFailed('x-amz-copy-source-If-Unmodified-Since');
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, record.etag)) throw preconditionFailed('x-amz-copy-source-If-None-Match');
  } else if (ifModifiedSince !== undefined) {
    const since = httpDateSeconds(ifModifiedSince);
    if (since !== undefined && lastModifiedSeconds(record) <= since) throw preconditionFailed('x-amz-copy-source-If-Modified-Since');
  }
}

/** If-Match and If-None-Match on a write (PutObject, CopyObject, CompleteMultipartUpload). */
function writePrecondition(request: IncomingMessage): WritePrecondition | undefined {
  const ifMatch = header(request, 'if-match');
  const ifNoneMatch = header(request, 'if-none-match');
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  return { ...(ifMatch !== undefined ? { ifMatch } : {}), ...(ifNoneMatch !== undefined ? { ifNoneMatch } : {}) };
}

/** A version id of an unversioned bucket: `null` is the object itself; S3 never issued any other. */
function checkVersionId(versionId: string | null): void {
  if (versionId !== null && versionId !== 'null') throw invalidVersionId(versionId);
}

/** Refuses headers that ask for what S3 refuses for these buckets or the server does not implement. */
function checkWriteHeaders(request: IncomingMessage, copy: boolean): void {
  const headers = request.headers;
  for (const [name, what] of UNIMPLEMENTED_WRITE_HEADERS) if (headers[name] !== undefined) throw notImplemented(what);
  for (const name of SSE_C_HEADERS) if (headers[name] !== undefined) throw notImplemented(`SSE-C, server-side encryption with customer keys (${name})`);
  if (copy) for (const name of COPY_SSE_C_HEADERS) if (headers[name] !== undefined) throw notImplemented(`SSE-C (${name})`);
  for (const name of OBJECT_LOCK_HEADERS) {
    if (headers[name] !== undefined) throw new S3Error('InvalidRequest', 400, `Bucket is missing Object Lock Configuration (${name} needs a bucket with Object Lock, which the local buckets do not have)`);
  }
  const acl = header(request, 'x-amz-acl');
  if (acl !== undefined && acl !== 'bucket-owner-full-control') throw aclNotSupported();
  for (const name of GRANT_HEADERS) if (headers[name] !== undefined) throw aclNotSupported();
  const encryption = header(request, 'x-amz-server-side-encryption');
  if (encryption !== undefined && encryption !== 'AES256') {
    if (encryption === 'aws:kms' || encryption === 'aws:kms:dsse' || encryption === 'aws:fsx') throw notImplemented(`server-side encryption ${encryption}`);
    throw invalidArgument(`The encryption method specified is not supported: ${encryption}`);
  }
  const storageClass = header(request, 'x-amz-storage-class');
  if (storageClass !== undefined && storageClass !== 'STANDARD') {
    if (STORAGE_CLASSES.has(storageClass)) throw notImplemented(`the ${storageClass} storage class (every local object is STANDARD)`);
    throw new S3Error('InvalidStorageClass', 400, `The storage class you specified is not valid: ${storageClass}`);
  }
}

/** SSE headers on a read: SSE-C is not implemented, and S3 refuses x-amz-server-side-encryption on GET and HEAD. */
function checkReadHeaders(request: IncomingMessage): void {
  for (const name of SSE_C_HEADERS) if (request.headers[name] !== undefined) throw notImplemented(`SSE-C, server-side encryption with customer keys (${name})`);
  if (request.headers['x-amz-server-side-encryption'] !== undefined) {
    throw invalidArgument('x-amz-server-side-encryption header is not supported for this operation.');
  }
}

/** PutObject and UploadPart need the body's length (S3 accepts no open-ended body but aws-chunked). */
function requireContentLength(request: IncomingMessage): void {
  if (request.headers['content-length'] === undefined && request.headers['x-amz-decoded-content-length'] === undefined) {
    throw new S3Error('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.');
  }
}

function contentMd5(request: IncomingMessage): string | undefined {
  const value = header(request, 'content-md5');
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!/^[A-Za-z0-9+/]{22}==$/.test(trimmed)) throw new S3Error('InvalidDigest', 400, 'The Content-MD5 you specified was invalid.');
  return trimmed;
}

/** `x-amz-copy-source`: `bucket/key` or `/bucket/key`, URL-encoded, with an optional `?versionId=`. */
function parseCopySource(value: string): CopySource {
  const questionMark = value.indexOf('?');
  const path = questionMark < 0 ? value : value.slice(0, questionMark);
  let versionId: string | null = null;
  if (questionMark >= 0) {
    versionId = new URLSearchParams(value.slice(questionMark + 1)).get('versionId');
    checkVersionId(versionId);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(path).replace(/^\//, '');
  } catch {
    throw invalidArgument(`Invalid copy source encoding: ${value}`);
  }
  const slash = decoded.indexOf('/');
  if (slash < 1 || slash === decoded.length - 1) throw invalidArgument(`Copy Source must mention the source bucket and key: sourcebucket/sourcekey, not ${value}`);
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), ...(versionId === null ? {} : { versionId }) };
}

/** `x-amz-copy-source-range`: exactly `bytes=first-last`, inside the source. */
function parseCopyRange(value: string, size: number): { start: number; end: number } {
  const match = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  if (!match || Number(match[1]) > Number(match[2])) {
    throw invalidArgument('The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy');
  }
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end >= size) throw new S3Error('InvalidRange', 416, `The requested range is not satisfiable: range specified is not valid for source object of size: ${size}`);
  return { start, end };
}

async function readBody(request: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_XML_BODY) throw new S3Error('MaxMessageLengthExceeded', 400, 'Your request was too big.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseXml(body: Buffer): Record<string, unknown> {
  try {
    return xmlParser.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new S3Error('MalformedXML', 400, `The XML you provided was not well-formed or did not validate against our published schema: ${(error as Error).message}`);
  }
}

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
  throw invalidArgument('The continuation token provided is incorrect');
}

/** encoding-type=url as S3 applies it: each character URL-encoded but `/`. */
const urlEncode = (text: string) => encodeURIComponent(text).replace(/%2F/g, '/');

function integerParam(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const text = params.get(name);
  if (text === null) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw invalidArgument(`Provided ${name} not an integer or within integer range: ${text}`);
  }
  return Number(text);
}

// ---------------------------------------------------------------------------------------------
// The handler
// ---------------------------------------------------------------------------------------------

export interface S3ApiOptions {
  readonly store: ObjectStore;
  /** The keys requests may be signed with: one key, or each local principal's (RequestGate.secretOf). */
  readonly keys?: Credentials | KeyChain;
  /** One key (the form before principals had their own): `keys` takes precedence. */
  readonly credentials?: Credentials;
  readonly region: string;
  /** The account that owns every bucket (x-amz-expected-bucket-owner is checked against it). */
  readonly account?: string;
  /**
   * Local IAM (local/iam/request-gate.ts): every request is authorized as its signer, as S3 would
   * authorize it (s3-authorization.ts), before any data is read or written; a refusal is 403
   * AccessDenied. Without one, every validly signed request is allowed.
   */
  readonly gate?: S3Gate;
}

/** Requests whose `Expect: 100-continue` is answered once they are authorised (see handleExpectations). */
const awaitingContinue = new WeakSet<IncomingMessage>();

/**
 * Makes the HTTP server hand `Expect` requests to its request listener (the S3 handler) instead of
 * answering them itself: a request with `Expect: 100-continue` gets its 100 Continue only once its
 * signature and preconditions are checked (a refused upload's body is never sent), and any other
 * Expect value is ignored, as S3 ignores it, where Node would answer 417. Call it once on the
 * server whose 'request' listener runs the S3 handler.
 */
export function handleExpectations(server: Server): void {
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    awaitingContinue.add(request);
    server.emit('request', request, response);
  });
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => server.emit('request', request, response));
}

/** Sends 100 Continue to a client waiting for it, just before its body is read. */
function continueBody(request: IncomingMessage, response: ServerResponse): void {
  if (awaitingContinue.delete(request)) response.writeContinue();
}

/** The request handler of the local S3 server. */
export function s3RequestHandler(options: S3ApiOptions): RequestListener {
  const { store, region, gate } = options;
  const keys = options.keys ?? options.credentials;
  if (!keys) throw new Error('s3RequestHandler needs keys (or credentials) to verify signatures with');
  const account = options.account ?? LOCAL_ACCOUNT_ID;
  const contexts = baseContexts(account);
  /** The canonical user id every owner element names (the account's, as S3 derives one). */
  const ownerId = createHash('sha256').update(`local-s3-owner:${account}`).digest('hex');
  const owner = `<Owner>${element('ID', ownerId)}</Owner>`;

  /** Throws AccessDenied unless the request's signer holds `permission`. Only called with a gate. */
  async function authorize(target: ParsedRequest, permission: S3Permission): Promise<void> {
    const decision = await gate!.authorize(target.signer!.accessKeyId, permission);
    if (!decision.allowed) throw accessDenied(decision, permission);
  }

  /**
   * Local IAM, before any handler runs: what the request needs (s3-authorization.ts), as its
   * signer. A bucket that does not exist is NoSuchBucket whoever asks, as S3 finds the bucket (and
   * its policy) before it authorizes; DeleteObjects is authorized key by key as it deletes.
   */
  async function authorizeRequest(target: ParsedRequest): Promise<void> {
    const needed = s3Permissions(target, contexts[target.signer!.authType], parseCopySource);
    if (needed === undefined) return;
    if (target.bucket !== undefined && !(typeof needed === 'object' && 'action' in needed && needed.action === 's3:CreateBucket')) store.bucket(target.bucket);
    if (needed === 'per-key') return;
    if ('action' in needed) return authorize(target, needed);
    await authorize(target, needed[0]);
    await authorize(target, needed[1]);
  }

  function checkExpectedOwner(request: IncomingMessage, name: string): void {
    const expected = header(request, name);
    if (expected !== undefined && expected !== account) {
      throw new S3Error('AccessDenied', 403, `Access Denied: ${name} is ${expected}, and the bucket's owner is ${account}`);
    }
  }

  /** The object's bytes: aws-chunked bodies (the SDK's and the CLI's flexible checksums) decoded, not stored framed. */
  function bodyStream(request: IncomingMessage, response: ServerResponse, payloadHash: string): Readable {
    continueBody(request, response);
    const streaming = payloadHash.startsWith('STREAMING-') || (header(request, 'content-encoding') ?? '').includes('aws-chunked');
    return streaming ? request.pipe(decodeAwsChunked()) : request;
  }

  async function readXmlBody(request: IncomingMessage, response: ServerResponse, md5?: string): Promise<Record<string, unknown>> {
    continueBody(request, response);
    const body = await readBody(request);
    if (md5 !== undefined && createHash('md5').update(body).digest('base64') !== md5) {
      throw new S3Error('BadDigest', 400, 'The Content-MD5 you specified did not match what we received.');
    }
    return body.length === 0 ? {} : parseXml(body);
  }

  function writeOptions(request: IncomingMessage, payloadHash: string): WriteOptions {
    const headers = storedHeaders(request);
    const precondition = writePrecondition(request);
    return {
      contentType: header(request, 'content-type'),
      metadata: userMetadata(request),
      ...(headers ? { headers } : {}),
      ...(precondition ? { precondition } : {}),
      sha256: /^[0-9a-f]{64}$/.test(payloadHash) ? payloadHash : undefined,
      md5Base64: contentMd5(request),
    };
  }

  // --- Service ---------------------------------------------------------------------------

  function listBuckets(params: URLSearchParams, response: ServerResponse): void {
    const maxBuckets = integerParam(params, 'max-buckets', 10_000, 1, 10_000);
    const prefix = params.get('prefix') ?? '';
    const bucketRegion = params.get('bucket-region');
    const token = params.get('continuation-token');
    const after = token ? decodeToken(token).value : undefined;
    const matching = store.listBuckets().filter((bucket) =>
      bucket.name.startsWith(prefix) && (bucketRegion === null || bucketRegion === region) && (after === undefined || bucket.name > after));
    const page = matching.slice(0, maxBuckets);
    const buckets = page
      .map((bucket) => `<Bucket>${element('Name', bucket.name)}${element('CreationDate', bucket.created)}${element('BucketRegion', region)}</Bucket>`)
      .join('');
    const next = matching.length > maxBuckets ? element('ContinuationToken', encodeToken({ value: page.at(-1)!.name, isPrefix: false })) : '';
    const prefixElement = params.has('prefix') ? element('Prefix', prefix) : '';
    send(response, 200, xml('ListAllMyBucketsResult', `<Buckets>${buckets}</Buckets>${owner}${next}${prefixElement}`));
  }

  // --- Buckets ---------------------------------------------------------------------------

  async function createBucket(request: IncomingMessage, bucket: string, response: ServerResponse): Promise<void> {
    const acl = header(request, 'x-amz-acl');
    if ((acl !== undefined && acl !== 'private' && acl !== 'bucket-owner-full-control') || GRANT_HEADERS.some((name) => request.headers[name] !== undefined)) {
      throw new S3Error('InvalidBucketAclWithObjectOwnership', 400, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
    }
    const ownership = header(request, 'x-amz-object-ownership');
    if (ownership !== undefined && ownership !== 'BucketOwnerEnforced') throw notImplemented(`buckets with ACLs enabled (x-amz-object-ownership ${ownership})`);
    if (header(request, 'x-amz-bucket-object-lock-enabled')?.toLowerCase() === 'true') throw notImplemented('Object Lock (x-amz-bucket-object-lock-enabled)');
    const configuration = (await readXmlBody(request, response)).CreateBucketConfiguration as Record<string, unknown> | undefined;
    if (configuration && (configuration.Location !== undefined || configuration.Bucket !== undefined)) {
      throw notImplemented('directory buckets (CreateBucketConfiguration with Location or Bucket)');
    }
    const constraint = typeof configuration?.LocationConstraint === 'string' ? configuration.LocationConstraint : '';
    if (region === 'us-east-1' && constraint === 'us-east-1') {
      throw new S3Error('InvalidLocationConstraint', 400, 'The specified location-constraint is not valid', constraint);
    }
    if ((region === 'us-east-1' && constraint !== '') || (region !== 'us-east-1' && constraint !== region)) {
      throw new S3Error('IllegalLocationConstraintException', 400, `The ${constraint || 'unspecified'} location constraint is incompatible for the region specific endpoint this request was sent to.`);
    }
    if (store.hasBucket(bucket)) {
      // us-east-1 answers 200 for a bucket its caller already owns, for legacy compatibility; other regions 409.
      if (region !== 'us-east-1') throw new S3Error('BucketAlreadyOwnedByYou', 409, `Your previous request to create the named bucket succeeded and you already own it: ${bucket}`, bucket);
      return send(response, 200, '', { location: `/${bucket}` });
    }
    await store.createBucket(bucket);
    send(response, 200, '', { location: `/${bucket}` });
  }

  async function listObjects(bucket: string, params: URLSearchParams, response: ServerResponse): Promise<void> {
    const v2 = params.get('list-type') === '2';
    const maxKeysText = params.get('max-keys') ?? '1000';
    if (!/^\d+$/.test(maxKeysText)) throw invalidArgument(`Provided max-keys not an integer or within integer range: ${maxKeysText}`);
    const maxKeys = Number(maxKeysText);
    const prefix = params.get('prefix') ?? '';
    const delimiter = params.get('delimiter') || undefined;
    const encodingType = params.get('encoding-type');
    if (encodingType !== null && encodingType !== 'url') throw invalidArgument('Invalid Encoding Method specified in Request');
    const urlEncoded = encodingType === 'url';
    const encode = (text: string) => (urlEncoded ? urlEncode(text) : text);
    const token = v2 ? params.get('continuation-token') : null;
    const startAfter = v2 ? params.get('start-after') : params.get('marker');
    const resume = token ? decodeToken(token) : startAfter ? { value: startAfter, isPrefix: false } : undefined;
    // max-keys=0 asks for nothing, and S3 says there is nothing more (IsTruncated false).
    store.bucket(bucket);
    const page: ListResult = maxKeys === 0
      ? { contents: [], commonPrefixes: [], isTruncated: false }
      : store.list(bucket, { prefix, delimiter, after: resume?.value, afterPrefix: resume?.isPrefix, maxKeys: Math.min(maxKeys, 1000) });
    const withOwner = !v2 || params.get('fetch-owner') === 'true';

    let contents = '';
    for (const record of page.contents) {
      contents += `<Contents>${element('Key', encode(record.key))}${element('LastModified', record.lastModified)}${element('ETag', record.etag)}` +
        `${element('Size', record.size)}${withOwner ? owner : ''}${element('StorageClass', 'STANDARD')}</Contents>`;
    }
    const prefixes = page.commonPrefixes.map((common) => `<CommonPrefixes>${element('Prefix', encode(common))}</CommonPrefixes>`).join('');
    const shared =
      element('Name', bucket) + element('Prefix', encode(prefix)) + (delimiter ? element('Delimiter', encode(delimiter)) : '') +
      element('MaxKeys', maxKeys) + (urlEncoded ? element('EncodingType', 'url') : '') + element('IsTruncated', page.isTruncated);
    let paging: string;
    if (v2) {
      paging = element('KeyCount', page.contents.length + page.commonPrefixes.length) +
        (token !== null ? element('ContinuationToken', token) : '') + (startAfter !== null ? element('StartAfter', encode(startAfter)) : '') +
        (page.isTruncated && page.last ? element('NextContinuationToken', encodeToken(page.last)) : '');
    } else {
      paging = element('Marker', encode(startAfter ?? '')) +
        (page.isTruncated && page.last && delimiter ? element('NextMarker', encode(page.last.value)) : '');
    }
    send(response, 200, xml('ListBucketResult', shared + paging + contents + prefixes));
  }

  async function deleteObjects(bucket: string, request: IncomingMessage, target: ParsedRequest, response: ServerResponse): Promise<void> {
    store.bucket(bucket);
    const md5 = contentMd5(request);
    if (md5 === undefined && !Object.keys(request.headers).some((name) => name.startsWith('x-amz-checksum-') || name === 'x-amz-sdk-checksum-algorithm')) {
      throw new S3Error('InvalidRequest', 400, 'Missing required header for this request: Content-MD5 (or an x-amz-checksum-* header)');
    }
    const parsed = (await readXmlBody(request, response, md5)).Delete as
      | { Object?: Array<{ Key?: unknown; VersionId?: unknown; ETag?: unknown }>; Quiet?: string }
      | undefined;
    const objects = parsed?.Object ?? [];
    if (objects.length === 0 || objects.length > 1000) {
      throw new S3Error('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema: DeleteObjects takes 1 to 1000 objects');
    }
    const quiet = parsed?.Quiet === 'true';
    let results = '';
    for (const object of objects) {
      if (typeof object.Key !== 'string') throw new S3Error('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema: each Object needs a Key');
      const versionId = typeof object.VersionId === 'string' ? object.VersionId : undefined;
      const version = versionId === undefined ? '' : element('VersionId', versionId);
      if (gate) {
        // Each key needs s3:DeleteObject; S3 answers a refused one in the result, and deletes the others.
        const permission = deleteKeyPermission(bucket, object.Key, versionId, contexts[target.signer!.authType]);
        const decision = await gate.authorize(target.signer!.accessKeyId, permission);
        if (!decision.allowed) {
          results += `<Error>${element('Key', object.Key)}${version}${element('Code', 'AccessDenied')}${element('Message', accessDenied(decision, permission).message)}</Error>`;
          continue;
        }
      }
      if (versionId !== undefined && versionId !== 'null') {
        results += `<Error>${element('Key', object.Key)}${version}${element('Code', 'NoSuchVersion')}${element('Message', 'The specified version does not exist.')}</Error>`;
        continue;
      }
      try {
        await store.delete(bucket, object.Key, typeof object.ETag === 'string' ? object.ETag : undefined);
      } catch (error) {
        const failure = asS3Error(error);
        results += `<Error>${element('Key', object.Key)}${version}${element('Code', failure.code)}${element('Message', failure.message)}</Error>`;
        continue;
      }
      if (!quiet) results += `<Deleted>${element('Key', object.Key)}${version}</Deleted>`;
    }
    send(response, 200, xml('DeleteResult', results));
  }

  function listUploads(bucket: string, params: URLSearchParams, response: ServerResponse): void {
    if (params.get('delimiter')) throw notImplemented('ListMultipartUploads with a delimiter');
    const prefix = params.get('prefix') ?? '';
    const maxUploads = integerParam(params, 'max-uploads', 1000, 0, 1000);
    const keyMarker = params.get('key-marker') ?? '';
    const uploadIdMarker = params.get('upload-id-marker') ?? '';
    const encoded = params.get('encoding-type') === 'url';
    const encode = (text: string) => (encoded ? urlEncode(text) : text);
    const all = store.listUploads(bucket).filter((upload) => upload.key.startsWith(prefix));
    let start = 0;
    if (keyMarker) {
      start = all.findIndex((upload) => upload.key > keyMarker || (upload.key === keyMarker && uploadIdMarker !== '' && upload.uploadId > uploadIdMarker));
      if (start < 0) start = all.length;
    }
    const page = all.slice(start, start + maxUploads);
    const truncated = start + maxUploads < all.length;
    const uploads = page.map((upload) =>
      `<Upload>${element('Key', encode(upload.key))}${element('UploadId', upload.uploadId)}<Initiator>${element('ID', ownerId)}</Initiator>${owner}` +
      `${element('StorageClass', 'STANDARD')}${element('Initiated', upload.initiated)}</Upload>`).join('');
    const next = truncated && page.length ? element('NextKeyMarker', encode(page.at(-1)!.key)) + element('NextUploadIdMarker', page.at(-1)!.uploadId) : '';
    send(response, 200, xml('ListMultipartUploadsResult',
      element('Bucket', bucket) + element('KeyMarker', encode(keyMarker)) + element('UploadIdMarker', uploadIdMarker) + next +
      element('Prefix', encode(prefix)) + element('MaxUploads', maxUploads) + (encoded ? element('EncodingType', 'url') : '') +
      element('IsTruncated', truncated) + uploads));
  }

  const ownerPolicy = () => xml('AccessControlPolicy',
    `${owner}<AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">${element('ID', ownerId)}</Grantee>` +
    `${element('Permission', 'FULL_CONTROL')}</Grant></AccessControlList>`);

  async function bucketOperation(request: IncomingMessage, target: ParsedRequest, response: ServerResponse): Promise<void> {
    const { method, params } = target;
    const bucket = target.bucket!;
    switch (method) {
      case 'PUT':
        if (params.has('acl')) {
          store.bucket(bucket);
          throw aclNotSupported();
        }
        if (params.has('versioning')) throw notImplemented('PutBucketVersioning (PUT ?versioning: the local buckets are unversioned)');
        return createBucket(request, bucket, response);
      case 'HEAD':
        store.bucket(bucket);
        return send(response, 200, '', { 'x-amz-bucket-region': region, 'x-amz-access-point-alias': 'false' });
      case 'DELETE':
        if (params.has('acl') || params.has('versioning') || params.has('uploads') || params.has('location')) throw notImplemented(`DELETE on a bucket with ?${[...params.keys()][0]}`);
        await store.deleteBucket(bucket);
        return send(response, 204, '');
      case 'GET':
        if (params.has('location')) {
          store.bucket(bucket);
          // us-east-1 is written as an empty LocationConstraint, as S3 does.
          return send(response, 200, xml('LocationConstraint', region === 'us-east-1' ? '' : escapeXml(region)));
        }
        if (params.has('acl')) {
          store.bucket(bucket);
          return send(response, 200, ownerPolicy());
        }
        if (params.has('versioning')) {
          store.bucket(bucket);
          return send(response, 200, xml('VersioningConfiguration', ''));
        }
        if (params.has('tagging')) {
          store.bucket(bucket);
          throw new S3Error('NoSuchTagSet', 404, 'The TagSet does not exist (the local server stores no tags)', bucket);
        }
        if (params.has('uploads')) return listUploads(bucket, params, response);
        return listObjects(bucket, params, response);
      case 'POST':
        if (params.has('delete')) return deleteObjects(bucket, request, target, response);
        throw notImplemented(`POST on a bucket${params.size ? ` with ?${[...params.keys()].join('&')}` : ''}`);
      default:
        throw notImplemented(`${method} on a bucket`);
    }
  }

  // --- Objects ---------------------------------------------------------------------------

  async function putObject(request: IncomingMessage, target: ParsedRequest, payloadHash: string, response: ServerResponse): Promise<void> {
    checkWriteHeaders(request, false);
    requireContentLength(request);
    const objectOptions = writeOptions(request, payloadHash);
    const record = await store.put(target.bucket!, target.key!, bodyStream(request, response, payloadHash), objectOptions);
    send(response, 200, '', { etag: record.etag, ...SSE_HEADERS });
  }

  async function copyObject(request: IncomingMessage, target: ParsedRequest, copySource: string, response: ServerResponse): Promise<void> {
    checkWriteHeaders(request, true);
    checkExpectedOwner(request, 'x-amz-source-expected-bucket-owner');
    const source = parseCopySource(copySource);
    const directive = header(request, 'x-amz-metadata-directive') ?? 'COPY';
    if (directive !== 'COPY' && directive !== 'REPLACE') throw invalidArgument(`Unknown metadata directive: ${directive}`);
    const taggingDirective = header(request, 'x-amz-tagging-directive');
    if (taggingDirective !== undefined && taggingDirective !== 'COPY' && taggingDirective !== 'REPLACE') throw invalidArgument(`Unknown tagging directive: ${taggingDirective}`);
    const record = store.head(source.bucket, source.key);
    checkCopySourcePreconditions(request, record);
    const sameObject = source.bucket === target.bucket && source.key === target.key;
    if (sameObject && directive === 'COPY' && request.headers['x-amz-server-side-encryption'] === undefined && request.headers['x-amz-storage-class'] === undefined) {
      throw new S3Error('InvalidRequest', 400, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
    }
    let replace: CopyReplacement | undefined;
    if (directive === 'REPLACE') {
      const headers = storedHeaders(request);
      replace = { contentType: header(request, 'content-type'), metadata: userMetadata(request), ...(headers ? { headers } : {}) };
    }
    const precondition = writePrecondition(request);
    request.resume();
    const copied = await store.copy(source.bucket, record, { bucket: target.bucket!, key: target.key! }, { replace, ...(precondition ? { precondition } : {}) });
    send(response, 200, xml('CopyObjectResult', element('LastModified', copied.lastModified) + element('ETag', copied.etag)), { ...SSE_HEADERS });
  }

  async function uploadPart(request: IncomingMessage, target: ParsedRequest, payloadHash: string, response: ServerResponse): Promise<void> {
    const { params } = target;
    const bucket = target.bucket!;
    const key = target.key!;
    const uploadId = params.get('uploadId')!;
    const partNumber = Number(params.get('partNumber'));
    for (const name of SSE_C_HEADERS) if (request.headers[name] !== undefined) throw notImplemented(`SSE-C (${name})`);
    const copySource = header(request, 'x-amz-copy-source');
    if (copySource === undefined) {
      requireContentLength(request);
      store.assertUpload(bucket, key, uploadId);
      const etag = await store.uploadPart(bucket, key, uploadId, partNumber, bodyStream(request, response, payloadHash), {
        sha256: /^[0-9a-f]{64}$/.test(payloadHash) ? payloadHash : undefined,
        md5Base64: contentMd5(request),
      });
      return send(response, 200, '', { etag, ...SSE_HEADERS });
    }
    // UploadPartCopy: the part is (a range of) an existing object.
    for (const name of COPY_SSE_C_HEADERS) if (request.headers[name] !== undefined) throw notImplemented(`SSE-C (${name})`);
    checkExpectedOwner(request, 'x-amz-source-expected-bucket-owner');
    store.assertUpload(bucket, key, uploadId);
    const source = parseCopySource(copySource);
    const record = store.head(source.bucket, source.key);
    checkCopySourcePreconditions(request, record);
    const rangeHeader = header(request, 'x-amz-copy-source-range');
    const range = rangeHeader === undefined ? undefined : parseCopyRange(rangeHeader, record.size);
    request.resume();
    const part = await store.uploadPartCopy(bucket, key, uploadId, partNumber, source.bucket, record, range);
    send(response, 200, xml('CopyPartResult', element('LastModified', part.lastModified) + element('ETag', part.etag)), { ...SSE_HEADERS });
  }

  /** The byte range GET ?partNumber selects (undefined: the whole of an empty object). */
  function partRange(record: ObjectRecord, partNumberText: string, headers: Record<string, string>): { start: number; end: number } | undefined {
    if (!/^\d+$/.test(partNumberText) || Number(partNumberText) < 1 || Number(partNumberText) > 10_000) {
      throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive');
    }
    const partNumber = Number(partNumberText);
    const unsatisfiable = () => new S3Error('InvalidPartNumber', 416, 'The requested partnumber is not satisfiable', undefined, { 'content-range': `bytes */${record.size}` });
    if (record.parts) {
      if (partNumber > record.parts.length) throw unsatisfiable();
      headers['x-amz-mp-parts-count'] = String(record.parts.length);
      let start = 0;
      for (let index = 0; index < partNumber - 1; index++) start += record.parts[index];
      return { start, end: start + record.parts[partNumber - 1] - 1 };
    }
    if (/-\d+"$/.test(record.etag)) throw notImplemented('GET ?partNumber on a multipart object completed before part sizes were recorded');
    if (partNumber > 1) throw unsatisfiable();
    return record.size === 0 ? undefined : { start: 0, end: record.size - 1 };
  }

  /** GET's response-* parameters: headers of this response only. */
  const RESPONSE_OVERRIDES = [
    ['response-content-type', 'content-type'],
    ['response-content-language', 'content-language'],
    ['response-expires', 'expires'],
    ['response-cache-control', 'cache-control'],
    ['response-content-disposition', 'content-disposition'],
    ['response-content-encoding', 'content-encoding'],
  ] as const;

  async function getObject(request: IncomingMessage, target: ParsedRequest, response: ServerResponse, headOnly: boolean): Promise<void> {
    const { params } = target;
    const bucket = target.bucket!;
    checkReadHeaders(request);
    checkVersionId(params.get('versionId'));
    let record: ObjectRecord;
    try {
      record = store.head(bucket, target.key!);
    } catch (error) {
      // A missing key is a 404 only to whom may list the bucket, a 403 to anyone else, as S3 answers.
      if (gate && error instanceof S3Error && error.code === 'NoSuchKey') await authorize(target, listBucketPermission(bucket, contexts[target.signer!.authType]));
      throw error;
    }
    if (notModified(request, record)) {
      response.writeHead(304, { etag: record.etag, 'last-modified': new Date(record.lastModified).toUTCString() });
      return void response.end();
    }
    const headers = objectHeaders(record);
    const partNumber = params.get('partNumber');
    let range: { start: number; end: number } | undefined;
    if (partNumber !== null) {
      if (request.headers.range !== undefined) throw new S3Error('InvalidRequest', 400, 'Cannot specify both Range header and partNumber query parameter');
      range = partRange(record, partNumber, headers);
    } else {
      range = parseRange(header(request, 'range'), record.size);
    }
    if (range) {
      headers['content-range'] = `bytes ${range.start}-${range.end}/${record.size}`;
      headers['content-length'] = String(range.end - range.start + 1);
    } else {
      headers['content-length'] = String(record.size);
    }
    if (params.size) for (const [parameter, name] of RESPONSE_OVERRIDES) {
      const value = params.get(parameter);
      if (value !== null) headers[name] = headerBytes(value);
    }
    response.writeHead(range ? 206 : 200, headers);
    if (headOnly || record.size === 0) return void response.end();
    await pipeline(store.read(bucket, record, range), response);
  }

  async function deleteObject(request: IncomingMessage, target: ParsedRequest, response: ServerResponse): Promise<void> {
    checkVersionId(target.params.get('versionId'));
    for (const name of DIRECTORY_BUCKET_CONDITIONS) if (request.headers[name] !== undefined) throw notImplemented(`${name} (directory buckets only)`);
    await store.delete(target.bucket!, target.key!, header(request, 'if-match'));
    send(response, 204, '');
  }

  function listParts(target: ParsedRequest, response: ServerResponse): void {
    const { params } = target;
    const uploadId = params.get('uploadId')!;
    const maxParts = integerParam(params, 'max-parts', 1000, 0, 1000);
    const marker = integerParam(params, 'part-number-marker', 0, 0, 10_000);
    const all = store.listParts(target.bucket!, target.key!, uploadId).filter((part) => part.partNumber > marker);
    const page = all.slice(0, maxParts);
    const truncated = all.length > maxParts;
    const parts = page.map((part) =>
      `<Part>${element('PartNumber', part.partNumber)}${element('LastModified', part.lastModified)}${element('ETag', part.etag)}${element('Size', part.size)}</Part>`).join('');
    send(response, 200, xml('ListPartsResult',
      element('Bucket', target.bucket!) + element('Key', target.key!) + element('UploadId', uploadId) + element('PartNumberMarker', marker) +
      (page.length ? element('NextPartNumberMarker', page.at(-1)!.partNumber) : '') + element('MaxParts', maxParts) +
      element('IsTruncated', truncated) + parts + `<Initiator>${element('ID', ownerId)}</Initiator>${owner}${element('StorageClass', 'STANDARD')}`));
  }

  async function multipartPost(request: IncomingMessage, target: ParsedRequest, payloadHash: string, response: ServerResponse): Promise<void> {
    const { params } = target;
    const bucket = target.bucket!;
    const key = target.key!;
    if (params.has('uploads')) {
      checkWriteHeaders(request, false);
      const uploadId = store.createMultipartUpload(bucket, key, writeOptions(request, payloadHash));
      request.resume();
      return send(response, 200, xml('InitiateMultipartUploadResult', element('Bucket', bucket) + element('Key', key) + element('UploadId', uploadId)), { ...SSE_HEADERS });
    }
    const uploadId = params.get('uploadId');
    if (!uploadId) throw notImplemented(`POST on an object${params.size ? ` with ?${[...params.keys()].join('&')}` : ''}`);
    const precondition = writePrecondition(request);
    const parsed = (await readXmlBody(request, response, contentMd5(request))).CompleteMultipartUpload as
      | { Part?: Array<{ PartNumber?: unknown; ETag?: unknown }> }
      | undefined;
    const parts = (parsed?.Part ?? []).map((part) => {
      if (typeof part.PartNumber !== 'string' || !/^\d+$/.test(part.PartNumber.trim()) || typeof part.ETag !== 'string') {
        throw new S3Error('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema: each Part needs a PartNumber and an ETag');
      }
      return { partNumber: Number(part.PartNumber.trim()), etag: part.ETag };
    });
    const record = await store.completeMultipartUpload(bucket, key, uploadId, parts, precondition);
    const location = `http://${header(request, 'host') ?? 'localhost'}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
    send(response, 200, xml('CompleteMultipartUploadResult',
      element('Location', location) + element('Bucket', bucket) + element('Key', key) + element('ETag', record.etag)), { ...SSE_HEADERS });
  }

  async function objectOperation(request: IncomingMessage, target: ParsedRequest, payloadHash: string, response: ServerResponse): Promise<void> {
    const { method, params } = target;
    switch (method) {
      case 'PUT': {
        if (params.has('acl')) {
          checkVersionId(params.get('versionId'));
          store.head(target.bucket!, target.key!);
          throw aclNotSupported();
        }
        if (params.has('uploadId')) return uploadPart(request, target, payloadHash, response);
        const copySource = header(request, 'x-amz-copy-source');
        if (copySource !== undefined) return copyObject(request, target, copySource, response);
        return putObject(request, target, payloadHash, response);
      }
      case 'GET':
      case 'HEAD':
        if (params.has('acl')) {
          checkVersionId(params.get('versionId'));
          store.head(target.bucket!, target.key!);
          return send(response, 200, method === 'HEAD' ? '' : ownerPolicy());
        }
        if (params.has('tagging')) {
          // Tags can never be set (PutObjectTagging and x-amz-tagging are refused), so every object has none.
          checkVersionId(params.get('versionId'));
          store.head(target.bucket!, target.key!);
          return send(response, 200, xml('Tagging', '<TagSet></TagSet>'));
        }
        if (params.has('uploadId')) return listParts(target, response);
        return getObject(request, target, response, method === 'HEAD');
      case 'DELETE':
        if (params.has('uploadId')) {
          await store.abortMultipartUpload(target.bucket!, target.key!, params.get('uploadId')!);
          return send(response, 204, '');
        }
        if (params.has('acl')) throw notImplemented('DELETE on an object with ?acl');
        return deleteObject(request, target, response);
      case 'POST':
        return multipartPost(request, target, payloadHash, response);
      default:
        throw notImplemented(`${method} on an object`);
    }
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = parseRequest(request);
    const signer = verifyRequest({ method: target.method, path: target.path, query: target.query, headers: request.headers }, keys!);
    const { payloadHash } = signer;
    target.signer = signer;
    checkExpectedOwner(request, 'x-amz-expected-bucket-owner');
    for (const [name] of target.query) {
      const operation = UNIMPLEMENTED_SUBRESOURCES.get(name);
      // Reading tags is answered (no object or bucket can have any): aws-cli v2's s3 cp reads them.
      if (operation !== undefined && !(name === 'tagging' && target.method === 'GET')) throw notImplemented(`${operation} (${target.method} ?${name})`);
    }
    if (gate) await authorizeRequest(target);
    if (!target.bucket) {
      if (target.method !== 'GET') throw notImplemented(`${target.method} on the service`);
      return listBuckets(target.params, response);
    }
    if (!target.key) return bucketOperation(request, target, response);
    return objectOperation(request, target, payloadHash, response);
  }

  return (request: IncomingMessage, response: ServerResponse): void => {
    response.setHeader('x-amz-request-id', requestId());
    route(request, response).catch((error: unknown) => {
      const s3Error = asS3Error(error);
      if (response.headersSent) return void response.destroy();
      // A client still waiting for 100 Continue never sends its body: close the connection after this answer.
      if (awaitingContinue.delete(request)) response.setHeader('connection', 'close');
      request.resume(); // Discard the rest of a refused body so the connection can be reused.
      const resource = s3Error.resource ? element('Resource', s3Error.resource) : '';
      const id = String(response.getHeader('x-amz-request-id'));
      const text = request.method === 'HEAD'
        ? ''
        : `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${element('Code', s3Error.code)}${element('Message', s3Error.message)}${resource}${element('RequestId', id)}</Error>`;
      send(response, s3Error.status, text, s3Error.headers);
    });
  };
}

function asS3Error(error: unknown): S3Error {
  if (error instanceof S3Error) return error;
  if (error instanceof SignatureError) return new S3Error(error.code, error.status, error.message);
  return new S3Error('InternalError', 500, `The local S3 server failed: ${(error as Error)?.message ?? String(error)}`);
}

let requestCounter = 0;
const requestId = () => `LOCAL${(++requestCounter).toString(16).toUpperCase().padStart(11, '0')}`;

function send(response: ServerResponse, status: number, text: string, headers: Readonly<Record<string, string>> = {}): void {
  const body = text ? Buffer.from(text, 'utf8') : undefined;
  response.writeHead(status, {
    ...headers,
    ...(body ? { 'content-type': 'application/xml', 'content-length': String(body.length) } : { 'content-length': '0' }),
  });
  response.end(body);
}
