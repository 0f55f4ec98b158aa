// @ts-check
/**
 * One local "execution environment": loads a function bundle once (its cold start) and runs
 * invocations sent by local/lambda-runner.ts over IPC, one at a time, as Lambda does. The
 * environment (the function's variables, local endpoints and credentials) was set by the runner.
 */
const { randomUUID } = require('node:crypto');

const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local';
/** @type {{ handler: (event: unknown, context: object) => Promise<unknown> }} */
const bundle = require(/** @type {string} */ (process.env.FRAMES_LOCAL_BUNDLE));

process.on('message', async (/** @type {{ id: number, event: unknown, deadline: number }} */ invocation) => {
  const requestId = randomUUID();
  const context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: process.env.FRAMES_LOCAL_FUNCTION_ARN,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${process.pid}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, invocation.deadline - Date.now()),
  };
  try {
    const result = await bundle.handler(invocation.event, context);
    process.send?.({ id: invocation.id, ok: true, result: result ?? null });
  } catch (error) {
    const failure = /** @type {Error} */ (error);
    process.send?.({
      id: invocation.id,
      ok: false,
      error: { errorType: failure?.name ?? 'Error', errorMessage: failure?.message ?? String(error) },
    });
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
