import { ERROR_CODE } from '../../pipeline/job-record';

/**
 * The pipeline's errors. Every error has a stable `code`; the ones a person caused carry a message
 * that says what to change. Catch blocks narrow `unknown` with these classes or `errorName`.
 */
export class PipelineError extends Error {
  override readonly name: string = 'PipelineError';

  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The input cannot be processed as it is (bad key, bad override, empty file, refused settings).
 * Retrying cannot help: the job is recorded as FAILED with this code and message.
 */
export class RejectedInputError extends PipelineError {
  override readonly name = 'RejectedInputError';
}

/** The function was deployed without a setting it needs; fails the cold start. */
export class ConfigurationError extends PipelineError {
  override readonly name = 'ConfigurationError';

  constructor(message: string) {
    super(ERROR_CODE.configuration, message);
  }
}

/** The name of an SDK or JS error, for errors of unknown type. */
export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** The HTTP status an SDK error carries, if any. */
export function httpStatusOf(error: unknown): number | undefined {
  const metadata = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return metadata?.httpStatusCode;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** DynamoDB refused a conditional write: the item is not in the state the write expected. */
export function isConditionFailure(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}
