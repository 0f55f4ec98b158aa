import { Construct } from 'constructs';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import type { PolicyStatement } from '../pipeline/iam-policy';
import { policyDocument } from './policy-document';

export interface CliPolicyProps {
  readonly policyName: string;
  /** The CLI's grants (pipeline/permissions.ts), which local mode's CLI user holds too. */
  readonly statements: readonly PolicyStatement[];
}

/**
 * What the `frames` command needs against this stack, and nothing more: upload videos (never over
 * the pipeline's own clip pieces), read job records (one, a batch, or the status index), download
 * results, and, when streams are configured, request clips on the default bus. Attach it to the
 * people's or CI's role that uses the CLI (output `cli_policy_arn`).
 */
export class CliPolicy extends Construct {
  readonly policy: IamPolicy;

  constructor(scope: Construct, id: string, props: CliPolicyProps) {
    super(scope, id);
    this.policy = new IamPolicy(this, 'policy', {
      name: props.policyName,
      description: 'Use the frames CLI with this pipeline: upload, status, watch, list, results, report, clip',
      policy: policyDocument(props.statements),
    });
  }
}
