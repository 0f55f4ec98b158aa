import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request body that is too large or not JSON; each local endpoint answers it in its API's own terms. */
export class JsonBodyError extends Error {
  override readonly name = 'JsonBodyError';
}

/** Reads a JSON request body of at most `maxBytes` (local endpoints' requests are a few kilobytes). */
export async function readJsonBody(request: IncomingMessage, maxBytes = 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new JsonBodyError(`The request body is larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new JsonBodyError('The request body is not valid JSON');
  }
}

/** A JSON response; `errorType` makes it an AWS error (restJson1 and awsJson read `x-amzn-ErrorType`). */
export function sendJson(response: ServerResponse, status: number, body: object, errorType?: string): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  response.end(text);
}
