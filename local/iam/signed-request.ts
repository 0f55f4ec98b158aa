import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SignatureError, UNSIGNED_PAYLOAD, verifyRequest } from '../s3/sigv4';
import type { RequestGate } from './request-gate';

/** A request whose SigV4 signature checked out: who signed it, and its body. */
export interface SignedRequest {
  readonly accessKeyId: string;
  readonly body: Buffer;
}

/**
 * Reads a request to a local JSON or REST endpoint (at most `maxBytes`) and checks its SigV4
 * signature for `service` with the signer's local key, body hash included: the key names the
 * principal the endpoint then authorises. Throws SignatureError as the services refuse requests.
 */
export async function readSignedRequest(request: IncomingMessage, gate: Pick<RequestGate, 'secretOf'>, service: string, maxBytes = 1024 * 1024): Promise<SignedRequest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new SignatureError('AccessDenied', `The request body is larger than ${maxBytes} bytes`, 400);
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  const bodyHash = createHash('sha256').update(body).digest('hex');
  const url = new URL(request.url ?? '/', 'http://localhost');
  const { payloadHash, accessKeyId } = verifyRequest(
    // The path as sent: SigV4 for these services signs the encoded path.
    { method: request.method ?? 'GET', path: (request.url ?? '/').split('?')[0], query: [...url.searchParams.entries()], headers: request.headers },
    (id) => gate.secretOf(id),
    { service, bodyHash },
  );
  if (payloadHash !== UNSIGNED_PAYLOAD && payloadHash !== bodyHash) {
    throw new SignatureError('SignatureDoesNotMatch', 'The request body does not match the signed payload hash');
  }
  return { accessKeyId, body };
}
