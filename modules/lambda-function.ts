import { Construct } from 'constructs';
import { AssetType, TerraformAsset } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { LambdaFunction as LambdaFunctionResource } from '@cdktf/provider-aws/lib/lambda-function';
import { bundleFunction } from '../pipeline/bundle';
import { type FunctionSpec, runtimeEnvironment } from '../pipeline/topology';
import { IamRolePolicy as IamRolePolicyResource } from '@cdktf/provider-aws/lib/iam-role-policy';
import type { PolicyStatement } from '../pipeline/iam-policy';
import { policyDocument } from './policy-document';

export const LAMBDA_RUNTIME = 'nodejs22.x';

export interface LambdaFunctionProps {
  /**
   * Name, handler source (bundled with esbuild at synth), environment, memory and timeout, from the
   * pipeline topology that local mode runs too.
   */
  readonly spec: FunctionSpec;
  /** Where bundles are written before they are archived (one folder per function). */
  readonly bundleDirectory: string;
  /** What the function may do, writing its own logs included (pipeline/permissions.ts). */
  readonly statements: readonly PolicyStatement[];
  /** Who may assume its role (pipeline/permissions.ts: Lambda). */
  readonly trust: readonly PolicyStatement[];
  readonly logRetentionDays: number;
  /** arm64 (Graviton) costs less per GB-second; x86_64 for native modules built only for it. */
  readonly architecture?: 'arm64' | 'x86_64';
}

/**
 * One Lambda function done properly: its own role with an inline least-privilege policy, a log
 * group with retention that exists before the function logs, and a bundle built at synth time
 * whose content hash drives redeploys.
 */
export class LambdaFunction extends Construct {
  readonly function: LambdaFunctionResource;
  readonly role: IamRole;
  /** `/aws/lambda/<name>`, where the function logs JSON: metric filters read it. */
  readonly logGroup: CloudwatchLogGroup;
  /** The role's inline policy: anything Lambda validates against the role (a mapping) depends on it. */
  readonly policy: IamRolePolicyResource;

  constructor(scope: Construct, id: string, props: LambdaFunctionProps) {
    super(scope, id);
    const { spec } = props;

    const logGroup = (this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/lambda/${spec.name}`,
      retentionInDays: props.logRetentionDays,
    }));

    this.role = new IamRole(this, 'role', {
      name: spec.name,
      description: `Execution role of ${spec.name}`,
      assumeRolePolicy: policyDocument(props.trust),
    });
    const policy = (this.policy = new IamRolePolicyResource(this, 'policy', {
      name: 'least-privilege',
      role: this.role.id,
      policy: policyDocument(props.statements),
    }));

    const architecture = props.architecture ?? 'arm64';
    const bundle = bundleFunction(spec.entry, `${props.bundleDirectory}/${spec.name}`, {
      processor: spec.processor,
      // Native modules (sharp) ship built for the function's architecture, whatever machine synthesizes.
      nativeTarget: { os: 'linux', cpu: architecture === 'arm64' ? 'arm64' : 'x64', libc: 'glibc' },
    });
    const asset = new TerraformAsset(this, 'bundle', { path: bundle.directory, type: AssetType.ARCHIVE });

    this.function = new LambdaFunctionResource(this, 'function', {
      functionName: spec.name,
      description: spec.description,
      role: this.role.arn,
      runtime: LAMBDA_RUNTIME,
      architectures: [architecture],
      handler: 'index.handler',
      filename: asset.path,
      sourceCodeHash: asset.assetHash,
      memorySize: spec.memoryMb,
      timeout: spec.timeoutSeconds,
      environment: {
        variables: runtimeEnvironment(spec),
      },
      loggingConfig: { logFormat: 'JSON', logGroup: logGroup.name },
      // Permissions and the log group must exist before the first invocation.
      dependsOn: [logGroup, policy],
    });
  }
}
