import { randomUUID } from 'node:crypto';
import type { EventRuleSpec } from '../pipeline/topology';
import { ASYNC_INVOCATION_RETRIES } from '../pipeline/topology';
import { matchesPattern } from './event-pattern';

export interface RouteTarget {
  readonly name: string;
  readonly arn: string;
  invoke(event: unknown): Promise<unknown>;
}

export interface Route {
  readonly rule: EventRuleSpec;
  readonly target: RouteTarget;
  /** Receives Lambda's on-failure destination record when every attempt failed. */
  readonly onFailure: (record: object) => Promise<void>;
}

/**
 * Lambda waits about one and then two minutes between attempts of an asynchronous invocation;
 * locally one and two seconds, so a failing run finishes while someone is watching.
 */
export const LOCAL_RETRY_DELAYS_MS = [1_000, 2_000] as const;

/**
 * Local EventBridge: applies each rule's pattern (the very JSON the stack deploys) to every
 * published event and invokes the matching rule's function asynchronously, with Lambda's retry
 * count for asynchronous invocations; an event that fails every attempt goes to the rule's failure
 * queue as Lambda's on-failure destination record, so nothing is lost silently.
 */
export class EventRouter {
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  private readonly retryDelaysMs: readonly number[];
  private readonly onError: (message: string) => void;
  private readonly duplicate?: (description: string) => void;

  constructor(
    private readonly routes: readonly Route[],
    options: {
      readonly retryDelaysMs?: readonly number[];
      readonly onError?: (message: string) => void;
      /**
       * EventBridge delivers at least once. Given, every matching event is delivered twice at the
       * same time, and this is told (fault injection: local/faults/fault-plan.ts, duplicate-delivery).
       */
      readonly duplicate?: (description: string) => void;
    } = {},
  ) {
    this.retryDelaysMs = options.retryDelaysMs ?? LOCAL_RETRY_DELAYS_MS;
    this.onError = options.onError ?? (() => undefined);
    this.duplicate = options.duplicate;
  }

  publish(event: object): void {
    for (const route of this.routes) {
      if (!matchesPattern(event, route.rule.pattern)) continue;
      const copies = this.duplicate ? 2 : 1;
      this.duplicate?.(`${(event as { 'detail-type'?: string })['detail-type']} event to ${route.target.name}`);
      for (let copy = 0; copy < copies; copy += 1) {
        const delivery = this.deliver(route, event)
          // A delivery never rejects into nowhere: what went wrong is a warning for a person.
          .catch((error: Error) => this.onError(`${route.rule.name} → ${route.target.name}: ${error.message}`))
          .finally(() => this.inFlight.delete(delivery));
        this.inFlight.add(delivery);
      }
    }
  }

  /**
   * The cloud is stopping: deliveries waiting to retry end without another attempt and without a
   * failure record (the queues are going away with the rest; a new cloud starts from the job table).
   */
  stop(): void {
    this.stopped = true;
  }

  /** Resolves when every delivery started so far has finished. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private async deliver(route: Route, event: object): Promise<void> {
    const attempts = ASYNC_INVOCATION_RETRIES + 1;
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      if (this.stopped) return;
      try {
        await route.target.invoke(event);
        return;
      } catch (error) {
        lastError = error as Error;
        if (attempt < attempts) await sleep(this.retryDelaysMs[attempt - 1] ?? this.retryDelaysMs.at(-1) ?? 0);
      }
    }
    if (this.stopped) return;
    this.onError(`${route.rule.name} → ${route.target.name} failed ${attempts} times: ${lastError?.message}`);
    await route.onFailure({
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId: randomUUID(),
        functionArn: `${route.target.arn}:$LATEST`,
        condition: 'RetriesExhausted',
        approximateInvokeCount: attempts,
      },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorMessage: lastError?.message },
    });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
