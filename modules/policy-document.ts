import { type PolicyStatement, policyOf } from '../pipeline/iam-policy';

/**
 * A policy document for a Terraform resource. Serialised with JSON.stringify: CDKTF resolves the
 * resource references inside (bucket ARNs and the like) to Terraform interpolations, and the
 * synthesized JSON stays readable for reviewers and the infra tests. The statements come from
 * pipeline/permissions.ts, which local mode evaluates too.
 */
export function policyDocument(statements: readonly PolicyStatement[]): string {
  return JSON.stringify(policyOf(statements));
}
