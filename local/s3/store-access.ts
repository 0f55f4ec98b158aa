import type { Readable } from 'node:stream';
import type { RequestGate } from '../iam/request-gate';
import { LOCAL_ACCOUNT_ID } from '../local-identity';
import { type ObjectStore, S3Error } from './object-store';
import { accessDenied, baseContexts, listBucketPermission, objectArn, type S3Permission } from './s3-authorization';

/**
 * Reads and writes of the object store by a service principal inside this process, authorized as
 * S3 authorizes the same requests over HTTP: MediaConvert reads its input and writes its outputs
 * with its role's grants (s3:GetObject on the input, s3:PutObject on each output key), without the
 * HTTP round trip each frame would cost. A refusal is the S3Error S3 answers (403 AccessDenied,
 * and 403 rather than 404 for a missing key unless the principal may list the bucket), and nothing
 * is read or written.
 *
 * The decision for a run's frames is cached by the authorizer (they match the same Resource
 * patterns), so writing 1,800 frames costs one evaluation.
 */

/** The gate, as in-process callers use it: local/iam/request-gate.ts. */
export type PrincipalGate = Pick<RequestGate, 'authorizePrincipal'>;

export interface AuthorizedStoreAccess {
  /** The principal every read and write is authorized as (`mediaConvert`, …). */
  readonly principal: string;
  /** Throws the S3Error S3 would answer unless the principal may do `action` on the object. */
  authorize(action: string, bucket: string, key: string): Promise<void>;
  /** The object's bytes, as GetObject reads them: s3:GetObject, then the object. */
  read(bucket: string, key: string): Promise<Readable>;
  /**
   * Stores an object, as PutObject does: s3:PutObject, then the write. A refused stream body is
   * destroyed (closing its file, if it reads one); nothing is written.
   */
  write(bucket: string, key: string, body: Buffer | Readable, contentType: string): Promise<void>;
}

/**
 * `store`'s objects as `principal` may read and write them. Shaped as MediaConvert's JobStorage
 * (read and write), so local/mediaconvert can take it as its storage.
 */
export function authorizedStoreAccess(store: ObjectStore, gate: PrincipalGate, principal: string, account: string = LOCAL_ACCOUNT_ID): AuthorizedStoreAccess {
  // In-process access has no signature; it is evaluated as a signed SigV4 request would be.
  const context = baseContexts(account)['REST-HEADER'];
  const check = async (permission: S3Permission): Promise<void> => {
    const decision = await gate.authorizePrincipal(principal, permission);
    if (!decision.allowed) throw accessDenied(decision, permission);
  };
  const authorize = (action: string, bucket: string, key: string) => check({ action, resource: objectArn(bucket, key), context });
  return {
    principal,
    authorize,
    async read(bucket, key) {
      store.bucket(bucket);
      await authorize('s3:GetObject', bucket, key);
      let record;
      try {
        record = store.head(bucket, key);
      } catch (error) {
        if (error instanceof S3Error && error.code === 'NoSuchKey') await check(listBucketPermission(bucket, context));
        throw error;
      }
      return store.read(bucket, record);
    },
    async write(bucket, key, body, contentType) {
      try {
        store.bucket(bucket);
        await authorize('s3:PutObject', bucket, key);
      } catch (error) {
        if (!Buffer.isBuffer(body)) body.destroy();
        throw error;
      }
      await store.put(bucket, key, body, { contentType });
    },
  };
}
