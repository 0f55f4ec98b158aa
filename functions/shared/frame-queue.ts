import { SQSClient, SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { PipelineError } from './errors';
import { ERROR_CODE } from '../../pipeline/job-record';
import type { FrameBatchMessage } from '../../pipeline/frame-message';

/** The frame queue, as the completion function fans out to it. */
export interface FrameQueue {
  /** Sends every message (ten to a SendMessageBatch call); throws if any is still unsent after retries. */
  sendAll(messages: Iterable<FrameBatchMessage>): Promise<{ readonly messages: number }>;
}

export interface SqsFrameQueueOptions {
  /** SendMessageBatch calls in flight at once. */
  readonly concurrency?: number;
  /** Tries per entry when SQS answers a batch with some entries failed. */
  readonly maxAttempts?: number;
  readonly backoffMs?: number;
}

/** SQS's most entries per SendMessageBatch. */
const ENTRIES_PER_CALL = 10;

export class FrameQueueError extends PipelineError {
  override readonly name = 'FrameQueueError';
}

export class SqsFrameQueue implements FrameQueue {
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    options: SqsFrameQueueOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 4;
    this.maxAttempts = options.maxAttempts ?? 6;
    this.backoffMs = options.backoffMs ?? 100;
  }

  async sendAll(messages: Iterable<FrameBatchMessage>): Promise<{ readonly messages: number }> {
    // Messages are drawn from the iterable as calls go out, so a million-frame fan-out holds only
    // `concurrency` calls' worth of messages in memory.
    const iterator = messages[Symbol.iterator]();
    let sent = 0;
    const nextCall = (): SendMessageBatchRequestEntry[] => {
      const entries: SendMessageBatchRequestEntry[] = [];
      for (let next = iterator.next(); !next.done; next = iterator.next()) {
        entries.push({ Id: `batch-${next.value.batch}`, MessageBody: JSON.stringify(next.value) });
        if (entries.length === ENTRIES_PER_CALL) break;
      }
      return entries;
    };
    const lane = async () => {
      for (let entries = nextCall(); entries.length > 0; entries = nextCall()) {
        await this.sendBatch(entries);
        sent += entries.length;
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, lane));
    return { messages: sent };
  }

  /** One SendMessageBatch, then again with only the entries SQS reported as failed. */
  private async sendBatch(entries: SendMessageBatchRequestEntry[]): Promise<void> {
    let pending = entries;
    for (let attempt = 1; ; attempt += 1) {
      const response = await this.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }),
      );
      const failed = response.Failed ?? [];
      if (failed.length === 0) return;
      const senderFault = failed.find((entry) => entry.SenderFault);
      if (senderFault || attempt >= this.maxAttempts) {
        const sample = senderFault ?? failed[0]!;
        throw new FrameQueueError(
          ERROR_CODE.fanOutFailed,
          `SQS did not accept ${failed.length} frame batch message(s) after ${attempt} attempt(s): ${sample.Id} ${sample.Code}: ${sample.Message ?? ''}`,
        );
      }
      const failedIds = new Set(failed.map((entry) => entry.Id));
      pending = pending.filter((entry) => failedIds.has(entry.Id));
      await new Promise((resolve) => setTimeout(resolve, this.backoffMs * 2 ** (attempt - 1)));
    }
  }
}
