import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ffmpegPath } from '../ffmpeg';
import { JsonBodyError, readJsonBody, sendJson } from '../json-http';
import { type LoopbackServer, listenOnLoopback } from '../loopback-server';
import type { RequestGate } from '../iam/request-gate';
import { readSignedRequest } from '../iam/signed-request';
import { SignatureError } from '../s3/sigv4';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../local-identity';
import { type LocalFragment, type LocalStream, findStream, fragmentPath } from './stream-registry';

export type LocalKvsServer = LoopbackServer;

/** KVS's limits, as the service applies them (FIELD-NOTES "S3 and KVS"). */
export const LOCAL_KVS_LIMITS = {
  clipMaxFragments: 200,
  clipMaxBytes: 100_000_000,
  listDefaultResults: 100,
  listMaxResults: 1000,
  /** Fragments of media a stream serves per second, across GetClip and friends. */
  fragmentsPerSecond: 500,
  maxRangeMs: 24 * 60 * 60 * 1000,
} as const;

/** GetClip serves H.264 and H.265 video only ("the codec ID of track 1 should be V_MPEG/ISO/AVC or V_MPEGH/ISO/HEVC"). */
const CLIP_CODECS = new Set(['h264', 'hevc']);
const API_NAMES = new Set(['GET_CLIP', 'LIST_FRAGMENTS', 'GET_MEDIA', 'GET_MEDIA_FOR_FRAGMENT_LIST', 'GET_IMAGES', 'GET_HLS_STREAMING_SESSION_URL', 'GET_DASH_STREAMING_SESSION_URL', 'PUT_MEDIA']);

class KvsError extends Error {
  constructor(
    override readonly name: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const invalidArgument = (message: string) => new KvsError('InvalidArgumentException', 400, message);
const notFound = (message = 'The requested stream is not found or not active.') => new KvsError('ResourceNotFoundException', 404, message);

/**
 * Kinesis Video Streams on 127.0.0.1, over the streams registered in the data directory
 * (local/kvs/stream-registry.ts): GetDataEndpoint (the control plane, which answers with this same
 * server as the data endpoint), ListFragments and GetClip (archived media), on their real REST
 * paths, so the unmodified SDK clients work against it. It applies KVS's rules that shape the
 * pipeline: fragments that start in the range (both ends inclusive), ListFragments pages in no
 * order, GetClip's silent cut at 200 fragments or 100 MB, the 500 fragments a second budget
 * (ClientLimitExceededException), and KVS's error names. With a gate, each request's signature is
 * checked and its signer must hold the action on the stream's ARN, as IAM decides it for KVS.
 */
export async function startKvsServer(options: { readonly dataDirectory: string; readonly port?: number; readonly gate?: RequestGate }): Promise<LocalKvsServer> {
  const served = new Map<string, Array<{ atMs: number; fragments: number }>>();
  return listenOnLoopback((request, response) => {
    handle(options.dataDirectory, served, request, response, options.gate).catch((error: unknown) => sendError(response, error));
  }, options.port);
}

/** The IAM action of each operation; the control plane's refusal is AccessDenied, archived media's NotAuthorized. */
const OPERATIONS: Record<string, { readonly action: string; readonly denied: string }> = {
  '/getDataEndpoint': { action: 'kinesisvideo:GetDataEndpoint', denied: 'AccessDeniedException' },
  '/listFragments': { action: 'kinesisvideo:ListFragments', denied: 'NotAuthorizedException' },
  '/getClip': { action: 'kinesisvideo:GetClip', denied: 'NotAuthorizedException' },
};

/** The body of a request its signer may make: the operation's action on the stream's ARN. */
async function authorizedBody(dataDirectory: string, path: string, request: IncomingMessage, gate: RequestGate): Promise<StreamParameters & Record<string, unknown>> {
  const operation = OPERATIONS[path];
  if (!operation) throw invalidArgument(`The local KVS endpoint does not implement POST ${path}`);
  let signed;
  try {
    signed = await readSignedRequest(request, gate, 'kinesisvideo');
  } catch (error) {
    if (error instanceof SignatureError) throw new KvsError(operation.denied, 401, error.message);
    throw error;
  }
  let body: StreamParameters & Record<string, unknown>;
  try {
    body = JSON.parse(signed.body.toString('utf8') || '{}') as StreamParameters & Record<string, unknown>;
  } catch {
    throw new JsonBodyError('The request body is not valid JSON');
  }
  const stream = findStream(dataDirectory, { name: body.StreamName, arn: body.StreamARN });
  // A stream that is not there is judged by the ARN it would have, as IAM judges a request before the service looks.
  const resource = body.StreamARN ?? stream?.arn ?? `arn:aws:kinesisvideo:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stream/${body.StreamName}/0`;
  const decision = await gate.authorize(signed.accessKeyId, { action: operation.action, resource });
  if (!decision.allowed) throw new KvsError(operation.denied, 401, decision.message);
  return body;
}

interface StreamParameters {
  StreamName?: string;
  StreamARN?: string;
}

interface Selector {
  FragmentSelectorType?: string;
  TimestampRange?: { StartTimestamp?: number; EndTimestamp?: number };
}

async function handle(
  dataDirectory: string,
  served: Map<string, Array<{ atMs: number; fragments: number }>>,
  request: IncomingMessage,
  response: ServerResponse,
  gate: RequestGate | undefined,
): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (request.method !== 'POST') throw invalidArgument(`${request.method} ${path} is not a KVS operation`);
  const body = gate ? await authorizedBody(dataDirectory, path, request, gate) : ((await readJsonBody(request)) as StreamParameters & Record<string, unknown>);

  if (path === '/getDataEndpoint') {
    streamOf(dataDirectory, body);
    if (!API_NAMES.has(String(body.APIName))) throw invalidArgument(`APIName ${JSON.stringify(body.APIName)} is not valid`);
    return sendJson(response, 200, { DataEndpoint: `http://${request.headers.host}` });
  }
  if (path === '/listFragments') {
    const stream = streamOf(dataDirectory, body);
    const selector = body.FragmentSelector as Selector | undefined;
    const matching = selector ? fragmentsIn(stream, selector) : [...stream.fragments];
    return sendJson(response, 200, listPage(matching, body.MaxResults, body.NextToken));
  }
  if (path === '/getClip') {
    const stream = streamOf(dataDirectory, body);
    const selector = body.ClipFragmentSelector as Selector | undefined;
    if (!selector) throw invalidArgument('ClipFragmentSelector is required');
    if (stream.dataRetentionHours === 0) {
      throw new KvsError('NoDataRetentionException', 400, 'A streaming session was requested for a stream that does not retain data (DataRetentionInHours is 0).');
    }
    if (!CLIP_CODECS.has(stream.codec)) {
      throw new KvsError('UnsupportedStreamMediaTypeException', 400, `The type of the media (${stream.codec}) is not supported: GetClip serves H.264 and H.265 video.`);
    }
    const clip = clipFragments(fragmentsIn(stream, selector));
    if (clip.length === 0) throw notFound('No fragments found in the stream for the requested time range.');
    takeBudget(served, stream.name, clip.length);
    return streamClip(dataDirectory, stream, clip, response);
  }
  throw invalidArgument(`The local KVS endpoint does not implement POST ${path}`);
}

function streamOf(dataDirectory: string, parameters: StreamParameters): LocalStream {
  if (!parameters.StreamName && !parameters.StreamARN) throw invalidArgument('Either StreamName or StreamARN is required');
  const stream = findStream(dataDirectory, { name: parameters.StreamName, arn: parameters.StreamARN });
  if (!stream) throw notFound();
  return stream;
}

/** The fragments whose start (by the selector's timestamp) is in the range, both ends inclusive. */
function fragmentsIn(stream: LocalStream, selector: Selector): LocalFragment[] {
  const type = selector.FragmentSelectorType;
  if (type !== 'PRODUCER_TIMESTAMP' && type !== 'SERVER_TIMESTAMP') {
    throw invalidArgument(`FragmentSelectorType ${JSON.stringify(type)} must be PRODUCER_TIMESTAMP or SERVER_TIMESTAMP`);
  }
  const startMs = Math.round(Number(selector.TimestampRange?.StartTimestamp) * 1000);
  const endMs = Math.round(Number(selector.TimestampRange?.EndTimestamp) * 1000);
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs)) throw invalidArgument('TimestampRange needs StartTimestamp and EndTimestamp');
  if (endMs <= startMs) throw invalidArgument('EndTimestamp must be later than StartTimestamp');
  if (endMs - startMs > LOCAL_KVS_LIMITS.maxRangeMs) throw invalidArgument('EndTimestamp must be within 24 hours of StartTimestamp');
  if (type === 'SERVER_TIMESTAMP' && endMs > Date.now()) throw invalidArgument('With SERVER_TIMESTAMP, EndTimestamp must be in the past');
  const at = (fragment: LocalFragment) => (type === 'PRODUCER_TIMESTAMP' ? fragment.producerMs : fragment.serverMs);
  return stream.fragments.filter((fragment) => at(fragment) >= startMs && at(fragment) <= endMs);
}

/** ListFragments "returns fragments in no order": each listing is shuffled, its pages stable. */
function listPage(fragments: LocalFragment[], maxResults: unknown, nextToken: unknown) {
  const size = Math.min(Number(maxResults ?? LOCAL_KVS_LIMITS.listDefaultResults), LOCAL_KVS_LIMITS.listMaxResults);
  if (!Number.isInteger(size) || size < 1) throw invalidArgument('MaxResults must be 1 to 1000');
  let cursor = { seed: randomInt(1, 2 ** 31 - 1), offset: 0 };
  if (nextToken !== undefined) {
    try {
      cursor = JSON.parse(Buffer.from(String(nextToken), 'base64url').toString('utf8')) as typeof cursor;
    } catch {
      throw invalidArgument('NextToken is not valid');
    }
  }
  const order = seededShuffle(fragments, cursor.seed);
  const page = order.slice(cursor.offset, cursor.offset + size);
  const next = cursor.offset + size < order.length ? { seed: cursor.seed, offset: cursor.offset + size } : undefined;
  return {
    Fragments: page.map((fragment) => ({
      FragmentNumber: fragment.number,
      FragmentSizeInBytes: fragment.sizeBytes,
      ProducerTimestamp: fragment.producerMs / 1000,
      ServerTimestamp: fragment.serverMs / 1000,
      FragmentLengthInMilliseconds: fragment.lengthMs,
    })),
    ...(next ? { NextToken: Buffer.from(JSON.stringify(next)).toString('base64url') } : {}),
  };
}

function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i -= 1) {
    state = (state * 48271) % 2147483647;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/** GetClip's cut, silent as the service's: "the first 100 MB or the first 200 fragments". */
function clipFragments(fragments: LocalFragment[]): LocalFragment[] {
  const clip: LocalFragment[] = [];
  let bytes = 0;
  for (const fragment of fragments) {
    if (clip.length >= LOCAL_KVS_LIMITS.clipMaxFragments || (clip.length > 0 && bytes + fragment.sizeBytes > LOCAL_KVS_LIMITS.clipMaxBytes)) break;
    clip.push(fragment);
    bytes += fragment.sizeBytes;
  }
  return clip;
}

/** The stream's fragment budget over the last second; over it, the call is throttled. */
function takeBudget(served: Map<string, Array<{ atMs: number; fragments: number }>>, stream: string, fragments: number): void {
  const now = Date.now();
  const recent = (served.get(stream) ?? []).filter((entry) => now - entry.atMs < 1000);
  const used = recent.reduce((sum, entry) => sum + entry.fragments, 0);
  if (used + fragments > LOCAL_KVS_LIMITS.fragmentsPerSecond) {
    served.set(stream, recent);
    throw new KvsError('ClientLimitExceededException', 400, `Stream ${stream} served ${used} fragments in the last second; its limit is ${LOCAL_KVS_LIMITS.fragmentsPerSecond}.`);
  }
  served.set(stream, [...recent, { atMs: now, fragments }]);
}

/**
 * The clip as an MP4 streamed as ffmpeg writes it: the fragments' MPEG-TS files joined byte for
 * byte and remuxed with stream copy (exact, nothing re-encoded) into fragmented MP4, which can be
 * written to a pipe.
 */
function streamClip(dataDirectory: string, stream: LocalStream, fragments: LocalFragment[], response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(
      ffmpegPath(),
      ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'mpegts', '-i', 'pipe:0', '-map', '0', '-c', 'copy',
        // TS carries AAC with ADTS headers; MP4 wants them as codec configuration.
        ...(stream.audioCodec === 'aac' ? ['-bsf:a', 'aac_adtstoasc'] : []),
        '-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', 'pipe:1'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const files = fragments.map((fragment) => fragmentPath(dataDirectory, stream, fragment));
    pipeline(Readable.from(joinedFiles(files)), child.stdin).catch(() => child.kill());
    let errors = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
    response.on('close', () => child.kill());
    child.stdout.once('data', () => response.writeHead(200, { 'content-type': 'video/mp4' }));
    child.stdout.pipe(response, { end: false });
    child.once('close', (code) => {
      if (code === 0 && response.headersSent) response.end();
      else if (!response.headersSent) sendError(response, new KvsError('ServiceException', 500, `ffmpeg could not assemble the clip: ${errors.trim()}`));
      // Headers already sent: cut the body short, so the client sees a broken clip, never a short one.
      else response.destroy(new Error(`ffmpeg failed mid-clip: ${errors.trim()}`));
      resolve();
    });
  });
}

async function* joinedFiles(paths: readonly string[]): AsyncGenerator<Buffer> {
  for (const path of paths) yield await readFile(path);
}

function sendError(response: ServerResponse, error: unknown): void {
  if (response.headersSent) return void response.destroy();
  if (error instanceof JsonBodyError) return sendJson(response, 400, { message: error.message }, 'InvalidArgumentException');
  if (error instanceof KvsError) return sendJson(response, error.status, { message: error.message }, error.name);
  sendJson(response, 500, { message: `Internal error: ${(error as Error).message}` }, 'ServiceException');
}
