import { isUtf8 } from 'node:buffer';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * AWS Signature Version 4 for S3, as the local S3 server verifies it. `signRequest` is the same
 * canonical request signed, for raw HTTP requests outside the SDK (the tests use it to reach
 * operations the SDK has no command for); the SDK's own signer (@smithy/signature-v4) is the
 * independent check, through the tests' SDK clients and presigned URLs.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export interface SignableRequest {
  readonly method: string;
  /** The path exactly as sent (already URI-encoded: S3 does not normalise or re-encode it). */
  readonly path: string;
  /** Query parameters, decoded. */
  readonly query: ReadonlyArray<readonly [string, string]>;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * A header value as its signer saw it. Node reads header bytes as latin-1; a client that sent a
 * value's UTF-8 bytes (most do, for metadata with accents) signed the UTF-8 text, so bytes that
 * are valid UTF-8 are read as UTF-8. Bytes that are not (a client that wrote latin-1, as Node's and
 * Python's HTTP clients do for characters up to U+00FF) stay latin-1, as signed.
 */
export function decodeHeaderText(value: string): string {
  if (!NON_ASCII.test(value)) return value;
  const bytes = Buffer.from(value, 'latin1');
  return isUtf8(bytes) ? bytes.toString('utf8') : value;
}

function headerValue(value: string | string[] | undefined): string {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return decodeHeaderText(joined.trim().replace(/ +/g, ' '));
}

export function canonicalRequest(request: SignableRequest, signedHeaders: readonly string[], payloadHash: string): string {
  const query = request.query
    .map(([key, value]) => [uriEncode(key), uriEncode(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const headers = signedHeaders.map((name) => `${name}:${headerValue(request.headers[name])}\n`).join('');
  return [request.method, request.path, query, headers, signedHeaders.join(';'), payloadHash].join('\n');
}

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const hmac = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();

/** The signing key is the same for a whole day, region and service: cache the last few. */
const signingKeys = new Map<string, Buffer>();
function signingKey(secret: string, scope: Scope): Buffer {
  const id = `${secret}/${scope.date}/${scope.region}/${scope.service}`;
  let key = signingKeys.get(id);
  if (!key) {
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, scope.date), scope.region), scope.service), 'aws4_request');
    if (signingKeys.size > 16) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}

interface Scope {
  readonly date: string;
  readonly region: string;
  readonly service: string;
}
const scopeText = (scope: Scope) => `${scope.date}/${scope.region}/${scope.service}/aws4_request`;

export function signature(secret: string, scope: Scope, amzDate: string, canonical: string): string {
  const stringToSign = [ALGORITHM, amzDate, scopeText(scope), sha256Hex(canonical)].join('\n');
  return createHmac('sha256', signingKey(secret, scope)).update(stringToSign, 'utf8').digest('hex');
}

/** `x-amz-date` form of a time: 20261121T093000Z. */
export const amzDate = (time: Date) => time.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/**
 * Signs a request with the Authorization header (the headers to sign must already be set,
 * `host` among them). Returns the headers to add.
 */
export function signRequest(
  request: SignableRequest,
  credentials: Credentials,
  region: string,
  payloadHash: string = UNSIGNED_PAYLOAD,
  now: Date = new Date(),
): Record<string, string> {
  const date = amzDate(now);
  const scope = { date: date.slice(0, 8), region, service: 's3' };
  const added = { 'x-amz-date': date, 'x-amz-content-sha256': payloadHash };
  const headers = { ...request.headers, ...added };
  const signedHeaders = Object.keys(headers).map((name) => name.toLowerCase()).sort();
  const canonical = canonicalRequest({ ...request, headers }, signedHeaders, payloadHash);
  const credential = `${credentials.accessKeyId}/${scopeText(scope)}`;
  return {
    ...added,
    authorization: `${ALGORITHM} Credential=${credential}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature(credentials.secretAccessKey, scope, date, canonical)}`,
  };
}

/** Why a request's signature was refused, with S3's error code and HTTP status for it. */
export class SignatureError extends Error {
  override readonly name = 'SignatureError';
  constructor(
    readonly code: 'AccessDenied' | 'InvalidAccessKeyId' | 'SignatureDoesNotMatch' | 'AuthorizationQueryParametersError' | 'RequestTimeTooSkewed' | 'InvalidRequest',
    message: string,
    readonly status: 400 | 403 = code === 'AuthorizationQueryParametersError' ? 400 : 403,
  ) {
    super(message);
  }
}

/** The longest a presigned URL may be valid: seven days, as S3 allows for SigV4. */
export const MAX_PRESIGNED_EXPIRY_SECONDS = 604_800;

/**
 * A request signed with Signature Version 2 (`Authorization: AWS AKID:signature`, or a presigned
 * URL with `AWSAccessKeyId`, `Signature` and `Expires`, as aws-cli v1's `s3 presign` makes by
 * default) is refused as S3 refuses it where SigV2 is off (regions launched since 2014, buckets
 * created since June 2020): 400 InvalidRequest, "The authorization mechanism you have provided is
 * not supported. Please use AWS4-HMAC-SHA256." S3's words come first, so what people search for
 * still matches, then what to do about it here. Nothing is read or written, and the signature is
 * not checked: a valid SigV2 signature gets no further than a forged one.
 */
const SIGV2_REFUSED =
  'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256. ' +
  'This request is signed with AWS Signature Version 2, which the local S3 server does not support: sign it with Signature Version 4 ' +
  '(aws-cli v1: `aws configure set s3.signature_version s3v4`; aws-cli v2 and the SDKs sign with SigV4 by default)';
const sigV2Refused = () => new SignatureError('InvalidRequest', SIGV2_REFUSED, 400);

const isSigV2Header = (authorization: string) => /^AWS [^\s:]+:\S+$/.test(authorization);

/** Requests may be signed up to 15 minutes away from the server's clock, as S3 allows. */
const MAX_SKEW_MS = 15 * 60 * 1000;

function parseAmzDate(text: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  return match ? Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5], +match[6]) : Number.NaN;
}

/** The secret of an access key id, or undefined for a key nobody here has. */
export type KeyChain = (accessKeyId: string) => string | undefined;

export interface VerifiedRequest {
  /** The payload hash the signer declared: a hex SHA-256 the body must match, or an UNSIGNED/STREAMING marker. */
  readonly payloadHash: string;
  /** Who signed it: the principal local mode then authorises. */
  readonly accessKeyId: string;
  /** How it was signed, as S3's `s3:authType` condition key names it: the Authorization header, or a presigned URL. */
  readonly authType: 'REST-HEADER' | 'REST-QUERY-STRING';
}

/**
 * Verifies a request signed with the Authorization header or presigned in its query string, for
 * `service` (the credential scope's service: s3, dynamodb, sqs, mediaconvert, kinesisvideo,
 * events), with the secret of whichever local key signed it. Throws SignatureError as S3 would
 * refuse the request.
 */
export function verifyRequest(
  request: SignableRequest,
  keys: Credentials | KeyChain,
  options: {
    readonly service?: string;
    readonly now?: number;
    /**
     * The body's SHA-256 (hex), for services other than S3: their signers put it in the canonical
     * request without sending x-amz-content-sha256.
     */
    readonly bodyHash?: string;
  } = {},
): VerifiedRequest {
  const now = options.now ?? Date.now();
  const expectedService = options.service ?? 's3';
  const secretOf: KeyChain = typeof keys === 'function' ? keys : (id) => (id === keys.accessKeyId ? keys.secretAccessKey : undefined);
  const authorization = headerValue(request.headers.authorization);
  const queryValue = (name: string) => request.query.find(([key]) => key === name)?.[1];
  let credential: string;
  let signedHeaders: string[];
  let provided: string;
  let date: string;
  let payloadHash: string;
  let query = request.query;
  if (authorization) {
    if (isSigV2Header(authorization)) throw sigV2Refused();
    const match = /^AWS4-HMAC-SHA256 Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(authorization);
    if (!match) throw new SignatureError('AccessDenied', 'Only AWS4-HMAC-SHA256 Authorization headers are supported');
    [, credential, , provided] = match;
    signedHeaders = match[2].split(';');
    date = headerValue(request.headers['x-amz-date']);
    payloadHash = headerValue(request.headers['x-amz-content-sha256']) || options.bodyHash || UNSIGNED_PAYLOAD;
  } else if (queryValue('X-Amz-Signature')) {
    if (queryValue('X-Amz-Algorithm') !== ALGORITHM) {
      throw new SignatureError('AuthorizationQueryParametersError', `X-Amz-Algorithm must be ${ALGORITHM}`);
    }
    credential = queryValue('X-Amz-Credential') ?? '';
    signedHeaders = (queryValue('X-Amz-SignedHeaders') ?? 'host').split(';');
    provided = queryValue('X-Amz-Signature')!;
    date = queryValue('X-Amz-Date') ?? '';
    payloadHash = UNSIGNED_PAYLOAD;
    const expiresText = queryValue('X-Amz-Expires');
    if (expiresText === undefined || credential === '' || date === '' || queryValue('X-Amz-SignedHeaders') === undefined) {
      throw new SignatureError(
        'AuthorizationQueryParametersError',
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      );
    }
    if (!/^-?\d+$/.test(expiresText)) throw new SignatureError('AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
    const expires = Number(expiresText);
    if (expires < 0) throw new SignatureError('AuthorizationQueryParametersError', 'X-Amz-Expires must be non-negative');
    if (expires > MAX_PRESIGNED_EXPIRY_SECONDS) {
      throw new SignatureError('AuthorizationQueryParametersError', `X-Amz-Expires must be less than a week (in seconds) that is; ${MAX_PRESIGNED_EXPIRY_SECONDS}`);
    }
    if (!(now < parseAmzDate(date) + expires * 1000)) throw new SignatureError('AccessDenied', 'Request has expired');
    query = request.query.filter(([key]) => key !== 'X-Amz-Signature');
  } else if (queryValue('AWSAccessKeyId') !== undefined || queryValue('Signature') !== undefined) {
    throw sigV2Refused();
  } else {
    throw new SignatureError('AccessDenied', 'Anonymous requests are refused: the local buckets are private, as the deployed ones are');
  }

  const [accessKeyId, scopeDate, region, service, terminator] = credential.split('/');
  const secret = secretOf(accessKeyId);
  if (secret === undefined) {
    throw new SignatureError('InvalidAccessKeyId', `The AWS access key id ${accessKeyId} does not exist in the local cloud's records`);
  }
  if (!scopeDate || !region || service !== expectedService || terminator !== 'aws4_request' || !date.startsWith(scopeDate)) {
    throw new SignatureError('AccessDenied', `Malformed credential scope: ${credential}`);
  }
  if (authorization && !(Math.abs(now - parseAmzDate(date)) <= MAX_SKEW_MS)) {
    throw new SignatureError('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large');
  }
  const canonical = canonicalRequest({ ...request, query }, signedHeaders, payloadHash);
  const expected = signature(secret, { date: scopeDate, region, service }, date, canonical);
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(provided.padEnd(expected.length).slice(0, expected.length)))) {
    throw new SignatureError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided');
  }
  return { payloadHash, accessKeyId, authType: authorization ? 'REST-HEADER' : 'REST-QUERY-STRING' };
}
