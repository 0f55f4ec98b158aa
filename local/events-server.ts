import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { JsonBodyError, readJsonBody, sendJson } from './json-http';
import { type LoopbackServer, listenOnLoopback } from './loopback-server';
import type { RequestGate } from './iam/request-gate';
import { readSignedRequest } from './iam/signed-request';
import { SignatureError } from './s3/sigv4';

export type LocalEventsServer = LoopbackServer;

interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: number;
}

/** PutEvents takes at most 10 entries a call. */
const MAX_ENTRIES = 10;

/**
 * EventBridge's PutEvents (awsJson1.1, `X-Amz-Target: AWSEvents.PutEvents`) on 127.0.0.1, for the
 * default bus: each entry becomes an event in EventBridge's envelope, handed to `publish` (the
 * local event router, which applies the stack's rules). So `frames clip` and any SDK or
 * `aws events put-events --endpoint-url` reach local mode exactly as they reach the cloud. An
 * entry EventBridge would refuse is reported in the response as EventBridge reports it.
 */
export async function startEventsServer(options: {
  readonly identity: { readonly region: string; readonly account: string };
  readonly publish: (event: object) => void;
  readonly port?: number;
  /** Checks each request's signature and the signer's grant (events:PutEvents with events:source). */
  readonly gate?: RequestGate;
}): Promise<LocalEventsServer> {
  return listenOnLoopback((request, response) => {
    void (async () => {
      try {
        if (request.method !== 'POST' || request.headers['x-amz-target'] !== 'AWSEvents.PutEvents') {
          return sendJson(response, 400, { message: `The local EventBridge endpoint implements PutEvents only (got ${String(request.headers['x-amz-target'])})` }, 'UnknownOperationException');
        }
        const body = (options.gate ? await authorizedBody(request, options.gate, options.identity) : await readJsonBody(request)) as { Entries?: PutEventsEntry[] };
        const entries = body.Entries ?? [];
        if (entries.length === 0 || entries.length > MAX_ENTRIES) {
          return sendJson(response, 400, { message: `Entries must hold 1 to ${MAX_ENTRIES} entries` }, 'ValidationException');
        }
        const results = entries.map((entry) => putEntry(entry, options));
        sendJson(response, 200, { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results });
      } catch (error) {
        if (error instanceof EventsAccessError) return sendJson(response, 400, { message: error.message }, error.code);
        const message = error instanceof JsonBodyError ? error.message : `Internal error: ${(error as Error).message}`;
        sendJson(response, error instanceof JsonBodyError ? 400 : 500, { message }, error instanceof JsonBodyError ? 'ValidationException' : 'InternalException');
      }
    })();
  }, options.port);
}

function putEntry(
  entry: PutEventsEntry,
  options: { readonly identity: { readonly region: string; readonly account: string }; readonly publish: (event: object) => void },
): { EventId: string } | { ErrorCode: string; ErrorMessage: string } {
  if (entry.EventBusName && entry.EventBusName !== 'default' && !entry.EventBusName.endsWith(':event-bus/default')) {
    return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${entry.EventBusName} does not exist locally; use the default bus.` };
  }
  if (!entry.Source || !entry.DetailType || entry.Detail === undefined) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Source, DetailType and Detail are required.' };
  }
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail);
  } catch {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not valid JSON.' };
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail must be a JSON object.' };
  }
  const id = randomUUID();
  options.publish({
    version: '0',
    id,
    'detail-type': entry.DetailType,
    source: entry.Source,
    account: options.identity.account,
    time: (entry.Time ? new Date(entry.Time * 1000) : new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: options.identity.region,
    resources: entry.Resources ?? [],
    detail,
  });
  return { EventId: id };
}

/** A request EventBridge refuses before it looks at the entries: a bad signature, or no grant. */
class EventsAccessError extends Error {
  constructor(
    readonly code: 'AccessDeniedException' | 'UnrecognizedClientException' | 'InvalidSignatureException',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The body of a PutEvents its signer may make: events:PutEvents on the default bus, with every
 * entry's source (events:source, multivalued) and detail type, as EventBridge evaluates it.
 */
async function authorizedBody(request: IncomingMessage, gate: RequestGate, identity: { readonly region: string; readonly account: string }): Promise<unknown> {
  let signed;
  try {
    signed = await readSignedRequest(request, gate, 'events');
  } catch (error) {
    if (!(error instanceof SignatureError)) throw error;
    throw new EventsAccessError(error.code === 'InvalidAccessKeyId' ? 'UnrecognizedClientException' : 'InvalidSignatureException', error.message);
  }
  let body: { Entries?: PutEventsEntry[] };
  try {
    body = JSON.parse(signed.body.toString('utf8') || '{}') as { Entries?: PutEventsEntry[] };
  } catch {
    throw new JsonBodyError('The request body is not valid JSON');
  }
  const entries = body.Entries ?? [];
  const values = (field: 'Source' | 'DetailType') => [...new Set(entries.map((entry) => entry[field]).filter((value): value is string => !!value))];
  const decision = await gate.authorize(signed.accessKeyId, {
    action: 'events:PutEvents',
    resource: `arn:aws:events:${identity.region}:${identity.account}:event-bus/default`,
    context: { 'events:source': values('Source'), 'events:detail-type': values('DetailType') },
  });
  if (!decision.allowed) throw new EventsAccessError('AccessDeniedException', decision.message);
  return body;
}
