import type { SQSRecord } from 'aws-lambda';
import type { FailedEvent } from '../../pipeline/job-record';
import { type RedriveEventDetail, redriveRequestOf } from '../../pipeline/outcome-event';

/** What a failure queue's message says: which function failed, on which event, why. */
export interface FailedEventMessage {
  readonly messageId: string;
  readonly target: FailedEvent['target'];
  /** The event as the function first received it (a redrive's wrapper removed, so it can be redriven again). */
  readonly event: unknown;
  /** The event's JSON text, kept verbatim on the record. */
  readonly eventText: string;
  /** The function's last error, or EventBridge's reason for not delivering. */
  readonly error: string;
  /** Lambda's request id of a failed invocation (a direct clip request's run is named by it). */
  readonly requestId?: string;
  /** The body is not JSON: nothing can be read from it, only kept. */
  readonly unreadable: boolean;
  /** The event was a redrive request: the run's own kept event is what failed again. */
  readonly redrive?: RedriveEventDetail;
}

interface LambdaFailureRecord {
  readonly requestContext: { readonly requestId?: string; readonly approximateInvokeCount?: number };
  readonly requestPayload: unknown;
  readonly responsePayload?: { readonly errorType?: string; readonly errorMessage?: string } | null;
}

const isLambdaFailureRecord = (body: unknown): body is LambdaFailureRecord =>
  typeof body === 'object' && body !== null && 'requestContext' in body && 'requestPayload' in body;

/**
 * Reads one message of a failure queue. Two kinds arrive there (modules/event-trigger.ts and
 * failure-queue.ts): Lambda's on-failure record of an invocation that failed every retry (the
 * event is its `requestPayload`, the error its `responsePayload`), and an event EventBridge could
 * not deliver at all (the body is the event; ERROR_CODE and ERROR_MESSAGE are message attributes).
 * The queue names the function: `<prefix>-ingress-failures` or `<prefix>-completion-failures`.
 */
export function readFailedEventMessage(record: SQSRecord): FailedEventMessage {
  const target: FailedEvent['target'] = record.eventSourceARN.endsWith('-completion-failures') ? 'completion' : 'ingress';
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return { messageId: record.messageId, target, event: record.body, eventText: record.body, error: 'The message body is not JSON.', unreadable: true };
  }
  const attribute = (name: string) => record.messageAttributes?.[name]?.stringValue;
  const delivered = isLambdaFailureRecord(body)
    ? {
        event: body.requestPayload,
        requestId: body.requestContext.requestId,
        error: [
          body.responsePayload?.errorType,
          body.responsePayload?.errorMessage ?? 'the function gave no error message',
          body.requestContext.approximateInvokeCount ? `(after ${body.requestContext.approximateInvokeCount} attempts)` : '',
        ]
          .filter(Boolean)
          .join(' '),
      }
    : {
        event: body,
        requestId: undefined,
        error: `EventBridge could not deliver the event: ${attribute('ERROR_CODE') ?? 'no error code'} ${attribute('ERROR_MESSAGE') ?? ''}`.trim(),
      };
  const redrive = redriveRequestOf(delivered.event);
  return {
    messageId: record.messageId,
    target,
    event: delivered.event,
    eventText: JSON.stringify(delivered.event),
    error: delivered.error,
    ...(delivered.requestId ? { requestId: delivered.requestId } : {}),
    unreadable: false,
    ...(redrive ? { redrive } : {}),
  };
}
