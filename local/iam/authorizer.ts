import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument, PolicyStatement } from '../../pipeline/iam-policy';

/**
 * Local mode's IAM: every request a local endpoint receives is evaluated here, as AWS would
 * evaluate it, against the principal's identity policy and the resource's policy, with
 * @cloud-copilot/iam-simulate (AWS's published actions, resource types and condition keys). The
 * policies are the stack's own (pipeline/permissions.ts), so a grant missing from the definition
 * fails a local run with AccessDenied instead of passing every test and failing in an account.
 */

export interface AuthorizationRequest {
  /** Who asks: a key of the principal table (`ingress`, `frameWorker`, `mediaConvert`, `cli`, …). */
  readonly principal: string;
  /** The IAM action, e.g. `s3:GetObject`. */
  readonly action: string;
  /** The resource's ARN. */
  readonly resource: string;
  /** The request's condition keys (`s3:prefix`, `events:source`, `aws:RequestTag/pipeline`, …). */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
  /** The policy on the resource (a bucket's or a queue's), if it has one, under a name unique to it. */
  readonly resourcePolicy?: NamedPolicy;
}

export interface NamedPolicy {
  readonly name: string;
  readonly statements: readonly PolicyStatement[];
}

export interface Decision {
  readonly allowed: boolean;
  /** iam-simulate's verdict: Allowed, ExplicitlyDenied or ImplicitlyDenied (or the simulator's error). */
  readonly result: string;
  /** One line for an AccessDenied message: who may not do what on which resource, and why. */
  readonly message: string;
  /** The principal's IAM ARN, for the service's own AccessDenied wording. */
  readonly principalArn?: string;
  /** For an explicit deny: whether the principal's policy or the resource's refused it. */
  readonly deniedBy?: 'identity' | 'resource';
}

export interface LocalPrincipal {
  /** The IAM ARN it evaluates as: a role, or the CLI's user. */
  readonly arn: string;
  readonly policy: readonly PolicyStatement[];
}

export interface AuthorizerOptions {
  readonly accountId: string;
  readonly principals: Readonly<Record<string, LocalPrincipal>>;
  /** Where every denial is appended as one JSON line (tests read it); none to keep them in memory only. */
  readonly denialLog?: string;
}

/**
 * Evaluates requests, caching decisions: a decision depends on the resource only through which of
 * the policies' Resource patterns match it (no policy here uses policy variables), so the cache
 * key is the principal, action, context and that match vector, and the 1,800 frames of a run cost
 * one evaluation, not 1,800 (iam-simulate takes about 1 ms a call).
 */
export class Authorizer {
  private readonly cache = new Map<string, Promise<Decision>>();
  private readonly matchers = new Map<string, readonly RegExp[]>();
  readonly denials: Array<AuthorizationRequest & { readonly result: string }> = [];
  /** Evaluations run (not answered from the cache): the benchmark and tests watch it. */
  evaluations = 0;

  constructor(private readonly options: AuthorizerOptions) {
    if (options.denialLog) mkdirSync(join(options.denialLog, '..'), { recursive: true });
  }

  async authorize(request: AuthorizationRequest): Promise<Decision> {
    const principal = this.options.principals[request.principal];
    if (!principal) return { allowed: false, result: 'UnknownPrincipal', message: `${request.principal} is no principal of this pipeline` };
    const key = this.cacheKey(request, principal);
    let decision = this.cache.get(key);
    if (!decision) {
      this.evaluations += 1;
      decision = this.evaluate(request, principal);
      this.cache.set(key, decision);
    }
    const settled = await decision;
    if (!settled.allowed) this.recordDenial(request, settled);
    return settled;
  }

  private async evaluate(request: AuthorizationRequest, principal: LocalPrincipal): Promise<Decision> {
    const policy = (statements: readonly PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });
    const response = await runSimulation(
      {
        identityPolicies: [{ name: `${request.principal}-policy`, policy: policy(principal.policy) as never }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(request.resourcePolicy ? { resourcePolicy: policy(request.resourcePolicy.statements) as never } : {}),
        request: {
          principal: principal.arn,
          action: request.action,
          resource: { resource: request.resource, accountId: this.options.accountId },
          // Loopback stands in for TLS: the deployed stack denies plain HTTP, and every local
          // client is on the machine itself (the README says so).
          contextVariables: { 'aws:SecureTransport': 'true', ...(request.context as Record<string, string | string[]>) },
        },
      },
      {},
    );
    if (response.resultType === 'error') {
      const why = JSON.stringify(response.errors);
      return { allowed: false, result: 'SimulationError', message: `${request.action} on ${request.resource} could not be evaluated: ${why}` };
    }
    const result = response.overallResult;
    const allowed = result === 'Allowed';
    const analysis = response.resultType === 'single' ? response.result.analysis : undefined;
    const deniedBy = result !== 'ExplicitlyDenied' ? undefined : analysis?.resourceAnalysis?.denyStatements.length ? 'resource' : 'identity';
    const how = result === 'ExplicitlyDenied' ? `a Deny statement of the ${deniedBy} policy refuses it` : 'no statement in pipeline/permissions.ts allows it';
    return {
      allowed,
      result,
      message: `${principal.arn} is not authorized to perform ${request.action} on ${request.resource}: ${how}`,
      principalArn: principal.arn,
      ...(deniedBy ? { deniedBy } : {}),
    };
  }

  /** Principal, action, context, the ARN up to its resource part, and which Resource patterns match it. */
  private cacheKey(request: AuthorizationRequest, principal: LocalPrincipal): string {
    const matches = this.matchersFor(request, principal)
      .map((pattern) => (pattern.test(request.resource) ? '1' : '0'))
      .join('');
    const head = request.resource.split(':', 5).join(':');
    const context = request.context ? JSON.stringify(request.context) : '';
    return `${request.principal}|${request.action}|${request.resourcePolicy?.name ?? ''}|${head}|${matches}|${context}`;
  }

  /** The Resource patterns of the principal's policy and the resource's, as regular expressions, made once. */
  private matchersFor(request: AuthorizationRequest, principal: LocalPrincipal): readonly RegExp[] {
    const id = `${request.principal}|${request.resourcePolicy?.name ?? ''}`;
    let matchers = this.matchers.get(id);
    if (!matchers) {
      matchers = [...principal.policy, ...(request.resourcePolicy?.statements ?? [])]
        .flatMap((statement) => (typeof statement.Resource === 'string' ? [statement.Resource] : [...(statement.Resource ?? [])]))
        .map((pattern) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`));
      this.matchers.set(id, matchers);
    }
    return matchers;
  }

  private recordDenial(request: AuthorizationRequest, decision: Decision): void {
    const entry = { principal: request.principal, action: request.action, resource: request.resource, context: request.context ?? {}, result: decision.result };
    this.denials.push(entry);
    if (this.options.denialLog) appendFileSync(this.options.denialLog, `${JSON.stringify({ at: new Date().toISOString(), ...entry, message: decision.message })}\n`);
  }
}
