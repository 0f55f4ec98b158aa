import type { IncomingMessage, ServerResponse } from 'node:http';
import { JsonBodyError, readJsonBody, sendJson } from '../json-http';
import { type LoopbackServer, listenOnLoopback } from '../loopback-server';
import { wire } from './job-events';
import { BadRequestError } from './job-settings';
import { ConflictError, type LocalMediaConvert, NotFoundError } from './mediaconvert-service';

export type LocalMediaConvertServer = LoopbackServer;

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
  return listenOnLoopback((request, response) => {
    handle(service, request, response).catch((error: unknown) => sendError(response, error));
  }, options.port);
}

const JOBS = '/2017-08-29/jobs';

async function handle(service: LocalMediaConvert, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const path = url.pathname.replace(/\/+$/, '');
  const jobId = path.startsWith(`${JOBS}/`) ? decodeURIComponent(path.slice(JOBS.length + 1)) : undefined;

  if (path === JOBS && request.method === 'POST') {
    const job = service.createJob(await readJsonBody(request));
    return sendJson(response, 201, { job: wire(job) });
  }
  if (path === JOBS && request.method === 'GET') {
    const maxResults = url.searchParams.get('maxResults');
    const page = service.listJobs({
      order: url.searchParams.get('order') ?? undefined,
      status: url.searchParams.get('status') ?? undefined,
      maxResults: maxResults === null ? undefined : Number(maxResults),
      nextToken: url.searchParams.get('nextToken') ?? undefined,
    });
    return sendJson(response, 200, { jobs: page.jobs.map(wire), nextToken: page.nextToken });
  }
  if (jobId && request.method === 'GET') return sendJson(response, 200, { job: wire(service.getJob(jobId)) });
  if (jobId && request.method === 'DELETE') {
    service.cancelJob(jobId);
    return sendJson(response, 202, {});
  }
  if (path === '/2017-08-29/endpoints' && request.method === 'POST') {
    // Deprecated in MediaConvert, answered for old clients: the endpoint is this server.
    return sendJson(response, 200, { endpoints: [{ url: `http://${request.headers.host}` }] });
  }
  throw new NotFoundError(`The local MediaConvert endpoint does not implement ${request.method} ${url.pathname}`);
}

const STATUS_OF: Record<string, number> = {
  BadRequestException: 400,
  NotFoundException: 404,
  ConflictException: 409,
};

function sendError(response: ServerResponse, error: unknown): void {
  if (error instanceof JsonBodyError) return sendJson(response, 400, { message: error.message }, 'BadRequestException');
  const known = error instanceof BadRequestError || error instanceof NotFoundError || error instanceof ConflictError;
  const type = known ? error.name : 'InternalServerErrorException';
  const message = known ? error.message : `Internal error: ${(error as Error).message}`;
  sendJson(response, STATUS_OF[type] ?? 500, { message }, type);
}
