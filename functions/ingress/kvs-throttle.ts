import { errorName } from '../shared/errors';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A stream serves at most 500 fragments of media a second, shared by GetClip, GetMedia, HLS and
 * DASH sessions and anyone else reading it. The pipeline takes no more than this share, so live
 * viewers of the same stream keep the rest.
 */
export const CLIP_FRAGMENTS_PER_SECOND = 250;

/**
 * Paces GetClip calls to a fragment rate. Each call may start once the fragments of the calls
 * before it have been "paid for" at the rate: call k starts no earlier than
 * (fragments of calls 0..k-1) / rate after the first. Over any one second that admits at most
 * rate + (largest call) fragments: 250 + 200 = 450 with the defaults, under the stream's 500.
 */
export class FragmentPacer {
  private nextStartMs: number | undefined;

  constructor(
    private readonly fragmentsPerSecond: number = CLIP_FRAGMENTS_PER_SECOND,
    private readonly clock: Clock = realClock,
  ) {}

  async take(fragments: number): Promise<void> {
    const now = this.clock.now();
    const startAt = Math.max(now, this.nextStartMs ?? now);
    if (startAt > now) await this.clock.sleep(startAt - now);
    this.nextStartMs = startAt + (fragments * 1000) / this.fragmentsPerSecond;
  }
}

export interface ThrottleRetryOptions {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly onRetry?: (attempt: number, delayMs: number) => void;
}

/**
 * KVS answers "you are over a limit" with ClientLimitExceededException (HTTP 400), which the SDK's
 * retry strategy does not treat as throttling. Ten attempts with capped exponential backoff and full
 * jitter wait up to about a minute in all, long enough for another reader's burst to pass.
 */
export const KVS_THROTTLE_RETRY: Omit<ThrottleRetryOptions, 'clock' | 'random'> = {
  maxAttempts: 10,
  baseDelayMs: 250,
  maxDelayMs: 15_000,
};

export function isThrottled(error: unknown): boolean {
  return errorName(error) === 'ClientLimitExceededException';
}

/** Runs `call`, retrying it while KVS throttles; the last throttling error is thrown when attempts run out. */
export async function retryWhileThrottled<T>(call: () => Promise<T>, options: ThrottleRetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!isThrottled(error) || attempt >= options.maxAttempts) throw error;
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.round(options.random() * ceiling);
      options.onRetry?.(attempt, delayMs);
      await options.clock.sleep(delayMs);
    }
  }
}
