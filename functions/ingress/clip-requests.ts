import { randomUUID } from 'node:crypto';
import { CLIP_REQUEST_EVENT, clipRequestEventSchema, clipRequestSchema } from '../../pipeline/clip-request';
import { describeIssues } from '../shared/schema-issues';
import type { ClipDelivery } from './submit-clip';
import { PipelineError } from '../shared/errors';
import { ERROR_CODE } from '../../pipeline/job-record';

/** A clip request whose shape is wrong: there is no stream, range or video id to record a job under. */
export class MalformedClipRequestError extends PipelineError {
  override readonly name = 'MalformedClipRequestError';

  constructor(message: string) {
    super(ERROR_CODE.unrecognisedEvent, message);
  }
}

const looksLikeDirectRequest = (event: unknown): boolean =>
  typeof event === 'object' && event !== null && 'stream' in event && !('source' in event) && !('Records' in event);

/**
 * The clip request an event carries, or undefined when the event is not one (an upload).
 * EventBridge deliveries take their event id as the request id, so redeliveries are the same run;
 * direct invocations take the request's own `requestId`, else Lambda's request id, which Lambda
 * keeps when it retries an asynchronous invocation.
 */
export function clipDeliveryOf(event: unknown, awsRequestId: string | undefined, now: Date): ClipDelivery | undefined {
  const bridged = clipRequestEventSchema.safeParse(event);
  if (bridged.success) {
    // The schema keeps only the envelope's fields it names; the request is the whole detail.
    const detail = (event as { detail: unknown }).detail;
    return { request: parseRequest(detail), requestId: requestIdOf(detail) ?? bridged.data.id, receivedAt: now };
  }
  const source = (event as { source?: unknown } | null)?.source;
  if (source === CLIP_REQUEST_EVENT.source) {
    throw new MalformedClipRequestError(`Not a "${CLIP_REQUEST_EVENT.detailType}" event: ${describeIssues(bridged.error)}`);
  }
  if (!looksLikeDirectRequest(event)) return undefined;
  return { request: parseRequest(event), requestId: requestIdOf(event) ?? awsRequestId ?? randomUUID(), receivedAt: now };
}

function requestIdOf(request: unknown): string | undefined {
  const id = (request as { requestId?: unknown }).requestId;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

function parseRequest(candidate: unknown) {
  const parsed = clipRequestSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new MalformedClipRequestError(
      `The clip request is malformed; it needs at least {"stream", "start", "end"}: ${describeIssues(parsed.error)}`,
    );
  }
  return parsed.data;
}
