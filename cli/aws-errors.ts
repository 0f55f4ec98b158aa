import { CliError, EXIT } from './exit-codes';
import type { DeployedTarget } from './stack-target';

const REFUSED_CREDENTIALS = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'TokenRefreshRequired',
]);
const NOT_ALLOWED = new Set(['AccessDenied', 'AccessDeniedException', 'Forbidden', 'UnauthorizedOperation']);
const MISSING_RESOURCE = new Set(['ResourceNotFoundException', 'NoSuchBucket']);
const UNREACHABLE = new Set(['ENOTFOUND', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'TimeoutError']);

/**
 * What an AWS SDK error means for a person using a deployed stack, and what to do about it:
 * missing or refused credentials, a policy that does not allow the call, a stack that is not
 * there (a destroyed stack, or outputs from another account or region), a network that does
 * not reach AWS. Anything else passes through unchanged.
 */
export function explainAwsError(error: unknown, stack: DeployedTarget, region: string | undefined): unknown {
  if (error instanceof CliError || !(error instanceof Error)) return error;
  const name = error.name;
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${stack.source}${region ? `, region ${region}` : ''}`;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(error.message)) {
    return new CliError(
      `No AWS credentials found for the stack in ${where}. Use the standard AWS setup: AWS_PROFILE (after aws configure or aws sso login), ` +
        'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an instance or task role. Or pass --local for the local cloud.',
      EXIT.environment,
    );
  }
  if (/Region is missing/i.test(error.message)) {
    return new CliError(`No AWS region for the stack in ${where}: set AWS_REGION, or use the outputs file (--stack-outputs), which names it.`, EXIT.usage);
  }
  if (REFUSED_CREDENTIALS.has(name)) {
    return new CliError(`AWS refused the credentials (${name}: ${error.message}). Refresh them (aws sso login, or new keys) and try again.`, EXIT.environment);
  }
  if (NOT_ALLOWED.has(name)) {
    return new CliError(
      `Your AWS identity may not do this (${name}: ${error.message}). Attach the stack's CLI policy (output cli_policy_arn) to it.`,
      EXIT.environment,
    );
  }
  if (MISSING_RESOURCE.has(name)) {
    return new CliError(
      `Stack not found: ${error.message} (${name}). ${stack.source} names job table ${stack.jobTable} and buckets ${stack.ingressBucket} ` +
        `and ${stack.egressBucket}${region ? ` in ${region}` : ''}. Was the stack destroyed, or are these another account's or region's? ` +
        'Run cdktf deploy --outputs-file again, or check AWS_PROFILE.',
      EXIT.environment,
    );
  }
  if ((code && UNREACHABLE.has(code)) || UNREACHABLE.has(name)) {
    return new CliError(`Cannot reach AWS in ${where} (${code ?? name}: ${error.message}). Check the network or proxy settings.`, EXIT.environment);
  }
  return error;
}
