import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

/**
 * One structured (JSON) logger per function bundle. Service name and level come from
 * POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL, set by the stack.
 *
 * Every line carries the Lambda context (request id, cold start, function name and version:
 * `withLogContext`), and, while one video is being handled, its `videoId` and `runId`
 * (`forRun`), so one CloudWatch Logs Insights query follows a video from upload to fan-in
 * across every function (README, "Operations").
 */
export const logger = new Logger();

/** The keys of the run being handled; cleared at the start of every invocation. */
export function forRun(run: { readonly videoId?: string; readonly runId?: string }): void {
  logger.appendKeys({ videoId: run.videoId, runId: run.runId });
}

/**
 * Wraps a handler: the invocation's context on every line, and no keys left over from the
 * previous invocation of this execution environment. (Powertools' injectLambdaContext does the
 * same through middy or a class decorator; a plain wrapper keeps the handlers plain functions.)
 */
export function withLogContext<Event, Invocation extends Partial<Context> | undefined, Result>(
  handle: (event: Event, context: Invocation) => Promise<Result>,
): (event: Event, context?: Invocation) => Promise<Result> {
  return async (event, context) => {
    logger.resetKeys();
    // Lambda always passes the whole context; tests and direct callers may pass part of it.
    if (context?.functionName) logger.addContext(context as Context);
    try {
      return await handle(event, context as Invocation);
    } catch (error) {
      // One structured line under the run being handled; the invocation still fails (and is retried).
      logger.error('invocation failed', error as Error);
      throw error;
    }
  };
}
