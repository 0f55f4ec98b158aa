import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { RouteTarget } from './event-router';

export interface QueuePollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  /** Messages per invocation (the mapping's batch size). */
  readonly batchSize: number;
  /** Invocations at once: the mapping's maximum concurrency, bounded by the machine's cores. */
  readonly concurrency: number;
  readonly target: RouteTarget;
  readonly onError?: (message: string) => void;
  /**
   * SQS delivers at least once. Given, every batch goes to two invocations at the same time, each
   * of which may delete it, and this is told (fault injection: local/faults/fault-plan.ts).
   */
  readonly duplicate?: (description: string) => void;
}

/** SQS hands out at most 10 messages per ReceiveMessage. */
const RECEIVE_LIMIT = 10;
/** Short long-polls, so stopping the local cloud never waits long. */
const WAIT_SECONDS = 1;

interface BatchResponse {
  readonly batchItemFailures?: ReadonlyArray<{ readonly itemIdentifier?: string }>;
}

/**
 * Local Lambda event source mapping for an SQS queue, with the semantics the stack configures:
 * batches of up to `batchSize` messages; ReportBatchItemFailures (only the messages the function
 * names as failed stay on the queue; a thrown error or an unreadable response fails the whole
 * batch); nothing else is deleted, so a failed message comes back after the queue's visibility
 * timeout and moves to the dead-letter queue after maxReceiveCount receives (the queue's redrive
 * policy does that, as in SQS).
 */
export class QueuePoller {
  private running = false;
  private loops: Promise<void>[] = [];
  /** Cuts short the long polls in flight when the poller stops, so stopping never waits for one. */
  private polls = new AbortController();

  constructor(private readonly options: QueuePollerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.polls = new AbortController();
    this.loops = Array.from({ length: this.options.concurrency }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    this.polls.abort();
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        const messages = await this.receiveBatch();
        if (messages.length > 0) await this.deliver(messages);
      } catch (error) {
        if (!this.running) return;
        this.options.onError?.(`polling ${this.options.queueArn}: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  private async receiveBatch(): Promise<Message[]> {
    const { sqs, queueUrl, batchSize } = this.options;
    const batch = new Map<string, Message>();
    while (this.running && batch.size < batchSize) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(RECEIVE_LIMIT, batchSize - batch.size),
          // Wait only for the first messages of a batch; then take what is there.
          WaitTimeSeconds: batch.size === 0 ? WAIT_SECONDS : 0,
          AttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: this.polls.signal },
      );
      // Keyed by message id: a message is never handed to a function twice in one batch.
      for (const message of Messages) if (message.MessageId) batch.set(message.MessageId, message);
      if (Messages.length === 0) break;
    }
    return [...batch.values()];
  }

  private async deliver(messages: Message[]): Promise<void> {
    const { options } = this;
    const event = this.sqsEvent(messages);
    options.duplicate?.(`batch of ${messages.length} from ${options.queueArn} to ${options.target.name}`);
    const invocations = await Promise.allSettled(
      Array.from({ length: options.duplicate ? 2 : 1 }, () => options.target.invoke(event)),
    );
    // A message is done when any invocation that got it succeeded with it.
    const failedBySuccessfulInvocations = invocations.flatMap((invocation) =>
      invocation.status === 'fulfilled' ? [failedMessageIds(invocation.value as BatchResponse | null, messages)] : [],
    );
    const done = messages.filter((message) => failedBySuccessfulInvocations.some((failed) => !failed.has(message.MessageId!)));
    for (const invocation of invocations) {
      if (invocation.status === 'rejected') {
        options.onError?.(`${options.target.name} failed a batch of ${messages.length}: ${(invocation.reason as Error).message}`);
      }
    }
    for (let start = 0; start < done.length; start += RECEIVE_LIMIT) {
      await options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: done.slice(start, start + RECEIVE_LIMIT).map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle!,
          })),
        }),
      );
    }
  }

  private sqsEvent(messages: Message[]) {
    const { queueArn, region } = this.options;
    return {
      Records: messages.map((message) => ({
        messageId: message.MessageId,
        receiptHandle: message.ReceiptHandle,
        body: message.Body ?? '',
        attributes: message.Attributes ?? {},
        messageAttributes: message.MessageAttributes ?? {},
        md5OfBody: message.MD5OfBody,
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: region,
      })),
    };
  }
}

/**
 * The messages a ReportBatchItemFailures response names as failed. As Lambda does, a response
 * that names an unknown or empty identifier fails the whole batch.
 */
export function failedMessageIds(response: BatchResponse | null | undefined, messages: readonly Message[]): Set<string> {
  const all = new Set(messages.map((message) => message.MessageId!));
  const failures = response?.batchItemFailures ?? [];
  const named = new Set<string>();
  for (const failure of failures) {
    if (!failure.itemIdentifier || !all.has(failure.itemIdentifier)) return all;
    named.add(failure.itemIdentifier);
  }
  return named;
}
