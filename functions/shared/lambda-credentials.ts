/**
 * The credential provider chain of the function bundles: pipeline/bundle.ts aliases
 * `@aws-sdk/credential-provider-node` to this file.
 *
 * Why: the SDK's default chain also bundles the SSO, INI-profile, process and web-identity
 * providers with their own STS/SSO clients, about 95 KB of every bundle that can never run in a
 * function. Lambda hands the execution role's credentials to the function in AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; environments that serve them from an endpoint set
 * AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI. Local mode sets the environment variables.
 * Same export name and refresh rule as the SDK's default provider.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import { chain, memoize } from '@smithy/core/config';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

type ProviderInit = Parameters<typeof fromEnv>[0] & Parameters<typeof fromHttp>[0];

const REFRESH_BEFORE_EXPIRY_MS = 5 * 60 * 1000;

const expiresSoon = (credentials: AwsCredentialIdentity) =>
  credentials.expiration !== undefined &&
  credentials.expiration.getTime() - Date.now() < REFRESH_BEFORE_EXPIRY_MS;

const canExpire = (credentials: AwsCredentialIdentity) => credentials.expiration !== undefined;

export const defaultProvider = (init: ProviderInit = {}): AwsCredentialIdentityProvider =>
  memoize(
    chain(
      fromEnv(init),
      // fromHttp throws as soon as it is built when no endpoint is configured, so build it only
      // when the environment had no credentials.
      () => fromHttp(init)(),
    ),
    expiresSoon,
    canExpire,
  );
