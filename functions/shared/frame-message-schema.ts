import * as z from 'zod/mini';
import type { SQSRecord } from 'aws-lambda';
import { type FrameBatchMessage, FRAME_MESSAGE_VERSION } from '../../pipeline/frame-message';
import { logger } from './logger';
import { PipelineError } from './errors';
import { ERROR_CODE } from '../../pipeline/job-record';

const frameReference = z.object({
  key: z.string().check(z.minLength(1)),
  index: z.int().check(z.nonnegative()),
  timestampMs: z.number().check(z.nonnegative()),
  producerTimestampMs: z.optional(z.number()),
});

const frameBatchMessage = z.object({
  version: z.literal(FRAME_MESSAGE_VERSION),
  videoId: z.string().check(z.minLength(1)),
  runId: z.string().check(z.minLength(1)),
  bucket: z.string().check(z.minLength(1)),
  batch: z.int().check(z.nonnegative()),
  frames: z.array(frameReference).check(z.minLength(1)),
});

/** A queue message that is not a frame batch this code understands (bad JSON, shape or version). */
export class UnreadableMessageError extends PipelineError {
  override readonly name = 'UnreadableMessageError';

  constructor(message: string) {
    super(ERROR_CODE.unreadableMessage, message);
  }
}

/** Parses a frame queue message body at the handler boundary. */
export function parseFrameBatchMessage(body: string): FrameBatchMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new UnreadableMessageError(`The message body is not JSON: ${body.slice(0, 120)}`);
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (version !== FRAME_MESSAGE_VERSION) {
    throw new UnreadableMessageError(
      `Frame message version ${JSON.stringify(version)} is not supported (this worker reads version ${FRAME_MESSAGE_VERSION}).`,
    );
  }
  const parsed = frameBatchMessage.safeParse(json);
  if (!parsed.success) {
    throw new UnreadableMessageError(`Not a frame batch message: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/**
 * Reads a frame queue record at a handler's boundary. One that is unreadable (an unknown contract
 * version, a foreign producer) is logged with the reason and what becomes of it, then thrown
 * again, so the batch response reports it failed and SQS keeps it (or moves it to the DLQ).
 */
export function readFrameBatchRecord(record: SQSRecord, whatBecomesOfIt: string): FrameBatchMessage {
  try {
    return parseFrameBatchMessage(record.body);
  } catch (error) {
    if (error instanceof UnreadableMessageError) {
      logger.error(`unreadable frame message ${whatBecomesOfIt}`, {
        messageId: record.messageId,
        receiveCount: record.attributes.ApproximateReceiveCount,
        reason: error.message,
      });
    }
    throw error;
  }
}
