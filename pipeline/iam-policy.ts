/**
 * IAM policy statements as plain typed data: the permission definition (pipeline/permissions.ts)
 * builds them, the stack serialises them into Terraform (modules/policy-document.ts), and local
 * mode evaluates them on every request.
 */
export type ConditionBlock = Readonly<Record<string, Readonly<Record<string, string | boolean | readonly string[]>>>>;

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: '*' | { readonly Service?: string | string[]; readonly AWS?: string | string[] };
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: ConditionBlock;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

export const policyOf = (statements: readonly PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });

/** The AWS services that act as principals in this pipeline's trust and resource policies. */
export const SERVICE_PRINCIPALS = {
  lambda: 'lambda.amazonaws.com',
  mediaConvert: 'mediaconvert.amazonaws.com',
  events: 'events.amazonaws.com',
  cloudWatch: 'cloudwatch.amazonaws.com',
} as const;

/** Denies any request to `resources` that does not use TLS (for S3, TLS 1.2 or later). */
export function denyInsecureTransport(service: 's3' | 'sqs' | 'sns', resources: readonly string[]): PolicyStatement[] {
  const statements: PolicyStatement[] = [
    {
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      // A deny of every action of the service is the point here: no request without TLS at all.
      Action: `${service}:*`,
      Resource: resources,
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ];
  if (service === 's3') {
    statements.push({
      Sid: 'DenyOutdatedTls',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: resources,
      Condition: { NumericLessThan: { 's3:TlsVersion': '1.2' } },
    });
  }
  return statements;
}
