import { Construct } from 'constructs';
import { AssetType, TerraformAsset } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { LambdaFunction as LambdaFunctionResource } from '@cdktf/provider-aws/lib/lambda-function';
import { bundleFunction } from '../pipeline/bundle';
import { IamRolePolicy as IamRolePolicyResource } from '@cdktf/provider-aws/lib/iam-role-policy';
import { type PolicyStatement, policyDocument } from './policy-document';

export const LAMBDA_RUNTIME = 'nodejs22.x';

export interface LambdaFunctionProps {
  readonly functionName: string;
  /** The handler's source, e.g. functions/ingress/handler.ts; bundled with esbuild at synth. */
  readonly entry: string;
  /** Where bundles are written before they are archived (one folder per function). */
  readonly bundleDirectory: string;
  readonly description: string;
  /** What the function may do, besides writing its own logs. */
  readonly statements: readonly PolicyStatement[];
  readonly environment: Readonly<Record<string, string>>;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  readonly logRetentionDays: number;
  /** arm64 (Graviton) costs less per GB-second; x86_64 for native modules built only for it. */
  readonly architecture?: 'arm64' | 'x86_64';
  /** For the frame worker: the processor module it is built with. */
  readonly processor?: string;
}

/**
 * One Lambda function done properly: its own role with an inline least-privilege policy, a log
 * group with retention that exists before the function logs, and a bundle built at synth time
 * whose content hash drives redeploys.
 */
export class LambdaFunction extends Construct {
  readonly function: LambdaFunctionResource;
  readonly role: IamRole;
  /** The role's inline policy: anything Lambda validates against the role (a mapping) depends on it. */
  readonly policy: IamRolePolicyResource;

  constructor(scope: Construct, id: string, props: LambdaFunctionProps) {
    super(scope, id);

    const logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/lambda/${props.functionName}`,
      retentionInDays: props.logRetentionDays,
    });

    this.role = new IamRole(this, 'role', {
      name: props.functionName,
      description: `Execution role of ${props.functionName}`,
      assumeRolePolicy: policyDocument([
        {
          Effect: 'Allow',
          Principal: { Service: 'lambda.amazonaws.com' },
          Action: 'sts:AssumeRole',
        },
      ]),
    });
    const policy = (this.policy = new IamRolePolicyResource(this, 'policy', {
      name: 'least-privilege',
      role: this.role.id,
      policy: policyDocument([
        {
          Sid: 'WriteOwnLogs',
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: `${logGroup.arn}:*`,
        },
        ...props.statements,
      ]),
    }));

    const architecture = props.architecture ?? 'arm64';
    const bundle = bundleFunction(props.entry, `${props.bundleDirectory}/${props.functionName}`, {
      processor: props.processor,
      // Native modules (sharp) ship built for the function's architecture, whatever machine synthesizes.
      nativeTarget: { os: 'linux', cpu: architecture === 'arm64' ? 'arm64' : 'x64', libc: 'glibc' },
    });
    const asset = new TerraformAsset(this, 'bundle', { path: bundle.directory, type: AssetType.ARCHIVE });

    this.function = new LambdaFunctionResource(this, 'function', {
      functionName: props.functionName,
      description: props.description,
      role: this.role.arn,
      runtime: LAMBDA_RUNTIME,
      architectures: [architecture],
      handler: 'index.handler',
      filename: asset.path,
      sourceCodeHash: asset.assetHash,
      memorySize: props.memorySize,
      timeout: props.timeoutSeconds,
      environment: {
        variables: {
          POWERTOOLS_SERVICE_NAME: props.functionName,
          POWERTOOLS_LOG_LEVEL: 'INFO',
          ...props.environment,
        },
      },
      loggingConfig: { logFormat: 'JSON', logGroup: logGroup.name },
      // Permissions and the log group must exist before the first invocation.
      dependsOn: [logGroup, policy],
    });
  }
}
