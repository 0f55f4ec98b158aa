import { join } from 'node:path';
import type { StackConfig } from '../../pipeline/stack-config';
import type { EventRuleSpec } from '../../pipeline/topology';
import type { BucketName } from '../../pipeline/permissions';
import { Authorizer, type Decision, type NamedPolicy } from './authorizer';
import { type LocalAccessControl, localAccessControl } from './local-principals';
import { LOCAL_ACCOUNT_ID } from '../local-identity';

/**
 * What every local endpoint asks before it acts: whose key signed the request (for SigV4), and
 * whether that principal may do it. One gate per process (the CLI's, and the S3 and MediaConvert
 * process), built from the same definition, writing denials to one log.
 */
export interface RequestGate {
  /** The secret of a local key, for signature checks; undefined for a key nobody has. */
  secretOf(accessKeyId: string): string | undefined;
  /** The principal (`ingress`, `cli`, …) of a key; `admin` for the local cloud's own. */
  principalOf(accessKeyId: string): string | undefined;
  authorize(accessKeyId: string, request: GatedRequest): Promise<Decision>;
  /** The same, for a principal acting inside a service (MediaConvert's role reading and writing S3). */
  authorizePrincipal(principal: string, request: GatedRequest): Promise<Decision>;
}

export interface GatedRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

/** Where each process appends the requests it refused: `<data>/iam/denials.jsonl`. */
export const denialLogOf = (dataDirectory: string) => join(dataDirectory, 'iam', 'denials.jsonl');

/** `FRAMES_IAM=off` turns evaluation off (the benchmark measures its cost); it is on otherwise, and always in tests. */
export const IAM_SWITCH = 'FRAMES_IAM';
export const iamEnforced = (env: NodeJS.ProcessEnv = process.env) => env[IAM_SWITCH] !== 'off';

const ALLOWED: Decision = { allowed: true, result: 'Allowed', message: '' };

export function requestGate(options: {
  readonly config: StackConfig;
  readonly buckets: Readonly<Record<BucketName, string>>;
  readonly rules: readonly EventRuleSpec[];
  readonly dataDirectory: string;
  readonly enforce: boolean;
}): RequestGate & { readonly access: LocalAccessControl; readonly authorizer: Authorizer } {
  const access = localAccessControl(options.config, options.buckets, options.rules);
  const authorizer = new Authorizer({ accountId: LOCAL_ACCOUNT_ID, principals: access.principals, denialLog: denialLogOf(options.dataDirectory) });
  const authorizePrincipal = async (principal: string, request: GatedRequest): Promise<Decision> => {
    if (principal === 'admin' || !options.enforce) return ALLOWED;
    return authorizer.authorize({ principal, ...request, resourcePolicy: resourcePolicyOf(access, request.resource) });
  };
  return {
    access,
    authorizer,
    secretOf: (accessKeyId) => access.secretOf(accessKeyId),
    principalOf: (accessKeyId) => access.principalOfKey(accessKeyId),
    authorizePrincipal,
    authorize: (accessKeyId, request) => authorizePrincipal(access.principalOfKey(accessKeyId) ?? `unknown key ${accessKeyId}`, request),
  };
}

/** The policy on the resource an ARN names: its bucket's, or its queue's. */
function resourcePolicyOf(access: LocalAccessControl, resource: string): NamedPolicy | undefined {
  if (resource.startsWith('arn:aws:s3:::')) return access.bucketPolicy(resource.slice('arn:aws:s3:::'.length).split('/', 1)[0]);
  if (resource.startsWith('arn:aws:sqs:')) return access.queuePolicy(resource.split(':')[5]);
  return undefined;
}
