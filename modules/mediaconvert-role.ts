import { Construct } from 'constructs';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import type { PolicyStatement } from '../pipeline/iam-policy';
import { policyDocument } from './policy-document';

export interface MediaConvertRoleProps {
  readonly roleName: string;
  /** Who may assume it: MediaConvert for this account's queues (pipeline/permissions.ts). */
  readonly trust: readonly PolicyStatement[];
  /** What it may do: read videos, write a run's frames and proxy (pipeline/permissions.ts). */
  readonly statements: readonly PolicyStatement[];
}

/** The role MediaConvert assumes to run this stack's jobs, rendered from the permission definition. */
export class MediaConvertRole extends Construct {
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: MediaConvertRoleProps) {
    super(scope, id);
    this.role = new IamRole(this, 'role', {
      name: props.roleName,
      description: 'Assumed by MediaConvert to split uploaded videos into frames',
      assumeRolePolicy: policyDocument(props.trust),
    });
    new IamRolePolicy(this, 'access', {
      name: 'read-videos-write-frames',
      role: this.role.id,
      policy: policyDocument(props.statements),
    });
  }
}
