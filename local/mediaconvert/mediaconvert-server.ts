import type { IncomingMessage, ServerResponse } from 'node:http';
import { JsonBodyError, readJsonBody, sendJson } from '../json-http';
import { type LoopbackServer, listenOnLoopback } from '../loopback-server';
import type { RequestGate } from '../iam/request-gate';
import { readSignedRequest } from '../iam/signed-request';
import { SignatureError } from '../s3/sigv4';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../local-identity';
import { SERVICE_PRINCIPALS } from '../../pipeline/iam-policy';
import { wire } from './job-events';
import { BadRequestError } from './job-settings';
import { ConflictError, type LocalMediaConvert, NotFoundError } from './mediaconvert-service';

export type LocalMediaConvertServer = LoopbackServer;

/**
 * MediaConvert's REST API (restJson1) on 127.0.0.1, so `@aws-sdk/client-mediaconvert` and
 * `aws mediaconvert --endpoint-url` work against local mode: CreateJob `POST /2017-08-29/jobs`
 * (201), GetJob `GET /2017-08-29/jobs/{id}`, ListJobs `GET /2017-08-29/jobs`, CancelJob
 * `DELETE /2017-08-29/jobs/{id}` (202). Errors carry `x-amzn-ErrorType` and `{message}`, as
 * MediaConvert's do. With a gate, every request's signature is checked and its signer must hold
 * the action (CreateJob on the queue with the request's tags and iam:PassRole of the job's role to
 * MediaConvert; GetJob and CancelJob on the job with its tags; ListJobs on the queue), or the
 * answer is MediaConvert's 403 ForbiddenException.
 */
export async function startMediaConvertServer(
  service: LocalMediaConvert,
  options: MediaConvertServerOptions = {},
): Promise<LocalMediaConvertServer> {
  return listenOnLoopback((request, response) => {
    handle(service, request, response, options).catch((error: unknown) => sendError(response, error));
  }, options.port);
}

export interface MediaConvertServerOptions {
  readonly port?: number;
  readonly gate?: RequestGate;
  readonly identity?: { readonly region: string; readonly account: string };
  /**
   * Fault injection (mediaconvert-unavailable): while this answers a reason, every authorised
   * CreateJob is answered 500 InternalServerErrorException with it.
   */
  readonly unavailable?: () => string | undefined;
}

/** A request MediaConvert refuses: a signature it cannot verify, or a grant the signer lacks. */
class ForbiddenError extends Error {
  override readonly name = 'ForbiddenException';
}

/** The context keys of a job's tags: aws:RequestTag/<key> on CreateJob, aws:ResourceTag/<key> on the job. */
const tagContext = (kind: 'RequestTag' | 'ResourceTag', tags: Record<string, string>): Record<string, string | string[]> => ({
  ...Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:${kind}/${key}`, value])),
  ...(kind === 'RequestTag' && Object.keys(tags).length > 0 ? { 'aws:TagKeys': Object.keys(tags) } : {}),
});

async function authorized(gate: RequestGate, accessKeyId: string, checks: ReadonlyArray<Parameters<RequestGate['authorize']>[1]>): Promise<void> {
  for (const check of checks) {
    const decision = await gate.authorize(accessKeyId, check);
    if (!decision.allowed) throw new ForbiddenError(decision.message);
  }
}

const JOBS = '/2017-08-29/jobs';

async function handle(
  service: LocalMediaConvert,
  request: IncomingMessage,
  response: ServerResponse,
  options: MediaConvertServerOptions,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const path = url.pathname.replace(/\/+$/, '');
  const jobId = path.startsWith(`${JOBS}/`) ? decodeURIComponent(path.slice(JOBS.length + 1)) : undefined;
  const { gate } = options;
  let signer = '';
  let body: unknown;
  if (gate) {
    try {
      const signed = await readSignedRequest(request, gate, 'mediaconvert');
      signer = signed.accessKeyId;
      body = JSON.parse(signed.body.toString('utf8') || '{}');
    } catch (error) {
      if (error instanceof SignatureError) throw new ForbiddenError(error.message);
      if (error instanceof SyntaxError) throw new JsonBodyError('The request body is not valid JSON');
      throw error;
    }
  }
  const { region, account } = options.identity ?? { region: LOCAL_REGION, account: LOCAL_ACCOUNT_ID };
  const queueArn = `arn:aws:mediaconvert:${region}:${account}:queues/Default`;
  const jobChecks = (action: string, id: string) => {
    const job = service.getJob(id);
    return [{ action, resource: job.arn, context: tagContext('ResourceTag', job.tags) }];
  };

  if (path === JOBS && request.method === 'POST') {
    if (gate) {
      const { role, tags } = (body ?? {}) as { role?: string; tags?: Record<string, string> };
      await authorized(gate, signer, [
        // The local account's input policy allows S3 inputs only: this endpoint reads nothing else.
        { action: 'mediaconvert:CreateJob', resource: queueArn, context: { ...tagContext('RequestTag', tags ?? {}), 'mediaconvert:HttpInputsAllowed': 'false', 'mediaconvert:HttpsInputsAllowed': 'false', 'mediaconvert:S3InputsAllowed': 'true' } },
        { action: 'iam:PassRole', resource: String(role), context: { 'iam:PassedToService': SERVICE_PRINCIPALS.mediaConvert } },
      ]);
    }
    const unavailable = options.unavailable?.();
    if (unavailable) return sendJson(response, 500, { message: unavailable }, 'InternalServerErrorException');
    const job = service.createJob(gate ? body : await readJsonBody(request));
    return sendJson(response, 201, { job: wire(job) });
  }
  if (path === JOBS && request.method === 'GET') {
    if (gate) await authorized(gate, signer, [{ action: 'mediaconvert:ListJobs', resource: queueArn }]);
    const maxResults = url.searchParams.get('maxResults');
    const page = service.listJobs({
      order: url.searchParams.get('order') ?? undefined,
      status: url.searchParams.get('status') ?? undefined,
      maxResults: maxResults === null ? undefined : Number(maxResults),
      nextToken: url.searchParams.get('nextToken') ?? undefined,
    });
    return sendJson(response, 200, { jobs: page.jobs.map(wire), nextToken: page.nextToken });
  }
  if (jobId && request.method === 'GET') {
    if (gate) await authorized(gate, signer, jobChecks('mediaconvert:GetJob', jobId));
    return sendJson(response, 200, { job: wire(service.getJob(jobId)) });
  }
  if (jobId && request.method === 'DELETE') {
    if (gate) await authorized(gate, signer, jobChecks('mediaconvert:CancelJob', jobId));
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
  ForbiddenException: 403,
  NotFoundException: 404,
  ConflictException: 409,
};

function sendError(response: ServerResponse, error: unknown): void {
  if (error instanceof JsonBodyError) return sendJson(response, 400, { message: error.message }, 'BadRequestException');
  const known = error instanceof BadRequestError || error instanceof NotFoundError || error instanceof ConflictError || error instanceof ForbiddenError;
  const type = known ? error.name : 'InternalServerErrorException';
  const message = known ? error.message : `Internal error: ${(error as Error).message}`;
  sendJson(response, STATUS_OF[type] ?? 500, { message }, type);
}
