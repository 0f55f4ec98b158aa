import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { wire } from './job-events';
import { BadRequestError } from './job-settings';
import { ConflictError, type LocalMediaConvert, NotFoundError } from './mediaconvert-service';

export interface LocalMediaConvertServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Request bodies above this are refused; a job's settings are a few kilobytes. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * MediaConvert's REST API (restJson1) on 127.0.0.1, so `@aws-sdk/client-mediaconvert` and
 * `aws mediaconvert --endpoint-url` work against local mode: CreateJob `POST /2017-08-29/jobs`
 * (201), GetJob `GET /2017-08-29/jobs/{id}`, ListJobs `GET /2017-08-29/jobs`, CancelJob
 * `DELETE /2017-08-29/jobs/{id}` (202). Errors carry `x-amzn-ErrorType` and `{message}`, as
 * MediaConvert's do. Requests are not authenticated: the server listens on loopback only.
 */
export async function startMediaConvertServer(
  service: LocalMediaConvert,
  options: { readonly port?: number } = {},
): Promise<LocalMediaConvertServer> {
  const server = createServer((request, response) => {
    handle(service, request, response).catch((error: unknown) => sendError(response, error));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const JOBS = '/2017-08-29/jobs';

async function handle(service: LocalMediaConvert, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const path = url.pathname.replace(/\/+$/, '');
  const jobId = path.startsWith(`${JOBS}/`) ? decodeURIComponent(path.slice(JOBS.length + 1)) : undefined;

  if (path === JOBS && request.method === 'POST') {
    const job = service.createJob(await readJson(request));
    return send(response, 201, { job: wire(job) });
  }
  if (path === JOBS && request.method === 'GET') {
    const maxResults = url.searchParams.get('maxResults');
    const page = service.listJobs({
      order: url.searchParams.get('order') ?? undefined,
      status: url.searchParams.get('status') ?? undefined,
      maxResults: maxResults === null ? undefined : Number(maxResults),
      nextToken: url.searchParams.get('nextToken') ?? undefined,
    });
    return send(response, 200, { jobs: page.jobs.map(wire), nextToken: page.nextToken });
  }
  if (jobId && request.method === 'GET') return send(response, 200, { job: wire(service.getJob(jobId)) });
  if (jobId && request.method === 'DELETE') {
    service.cancelJob(jobId);
    return send(response, 202, {});
  }
  if (path === '/2017-08-29/endpoints' && request.method === 'POST') {
    // Deprecated in MediaConvert, answered for old clients: the endpoint is this server.
    return send(response, 200, { endpoints: [{ url: `http://${request.headers.host}` }] });
  }
  throw new NotFoundError(`The local MediaConvert endpoint does not implement ${request.method} ${url.pathname}`);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequestError('The request body is larger than 1 MiB');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new BadRequestError('The request body is not valid JSON');
  }
}

function send(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

const STATUS_OF: Record<string, number> = {
  BadRequestException: 400,
  NotFoundException: 404,
  ConflictException: 409,
};

function sendError(response: ServerResponse, error: unknown): void {
  const known = error instanceof BadRequestError || error instanceof NotFoundError || error instanceof ConflictError;
  const type = known ? error.name : 'InternalServerErrorException';
  const message = known ? error.message : `Internal error: ${(error as Error).message}`;
  const text = JSON.stringify({ message });
  response.writeHead(STATUS_OF[type] ?? 500, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-errortype': type,
  });
  response.end(text);
}
