/**
 * IAM policy documents as plain typed data. They are serialised with JSON.stringify: CDKTF resolves
 * the resource references inside (bucket ARNs and the like) to Terraform interpolations, and the
 * synthesized JSON stays readable for reviewers and the infra tests.
 */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: '*' | { readonly Service?: string | string[]; readonly AWS?: string | string[] };
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export function policyDocument(statements: readonly PolicyStatement[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** Denies any request to `resources` that does not use TLS 1.2 or later. */
export function denyInsecureTransport(
  service: 's3' | 'sqs',
  resources: readonly string[],
): PolicyStatement[] {
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
