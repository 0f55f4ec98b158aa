import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { FramePipelineStack } from '../../modules/frame-pipeline-stack';
import { type StackConfigOverrides, resolveStackConfig } from '../../pipeline/stack-config';

export type Resources = Record<string, Record<string, Record<string, any>>>;

export interface SynthesizedStack {
  readonly resource: Resources;
  readonly data: Resources;
  readonly output: Record<string, { value: string }>;
  readonly provider: Record<string, any[]>;
  readonly stack: FramePipelineStack;
  /** Where the functions were bundled: `<bundleDirectory>/<function name>/index.js`. */
  readonly bundleDirectory: string;
}

/** Synthesizes the whole stack as `cdktf synth` does, bundling functions into a temp folder. */
export function synthesizeStack(overrides: StackConfigOverrides = {}): SynthesizedStack {
  const app = Testing.app();
  const bundleDirectory = join(mkdtempSync(join(tmpdir(), 'frames-bundles-')), 'functions');
  const stack = new FramePipelineStack(app, 'test', { config: resolveStackConfig(overrides), bundleDirectory });
  return { ...JSON.parse(Testing.synth(stack)), stack, bundleDirectory };
}

/** The resources of one Terraform type, by logical id. */
export function resourcesOf(synthesized: SynthesizedStack, type: string): Record<string, any>[] {
  return Object.values(synthesized.resource[type] ?? {});
}

/** `${aws_s3_bucket.<id>.arn}`-style reference to a resource of the synthesized stack. */
export function referenceTo(synthesized: SynthesizedStack, type: string, predicate: (r: any) => boolean, attribute: string): string {
  const entry = Object.entries(synthesized.resource[type] ?? {}).find(([, r]) => predicate(r));
  if (!entry) throw new Error(`no ${type} matches`);
  return `\${${type}.${entry[0]}.${attribute}}`;
}

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** The Terraform types whose `policy` attribute is an IAM policy document. */
export const POLICY_TYPES = [
  'aws_iam_role_policy',
  'aws_iam_policy',
  'aws_s3_bucket_policy',
  'aws_sqs_queue_policy',
  'aws_sns_topic_policy',
  // A key's policy is an attribute of the key (modules/notification-topic.ts).
  'aws_kms_key',
] as const;

/**
 * Every IAM statement in the stack: role policies, trust policies, bucket, queue and topic
 * policies, key policies.
 */
export function allStatements(synthesized: SynthesizedStack): { where: string; statement: Statement }[] {
  const documents: { where: string; json: string }[] = [];
  for (const [id, role] of Object.entries(synthesized.resource.aws_iam_role ?? {})) {
    documents.push({ where: `trust of ${id}`, json: role.assume_role_policy });
  }
  for (const type of POLICY_TYPES) {
    for (const [id, resource] of Object.entries(synthesized.resource[type] ?? {})) {
      // A resource without a policy would be one with AWS's default: a test must see that.
      if (typeof resource.policy !== 'string') throw new Error(`${type}.${id} has no policy`);
      documents.push({ where: `${type}.${id}`, json: resource.policy });
    }
  }
  return documents.flatMap(({ where, json }) =>
    (JSON.parse(json).Statement as Statement[]).map((statement) => ({ where, statement })),
  );
}

export const asList = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** The one resource of a type that matches, failing the test clearly when there is none or several. */
export function theResource(synthesized: SynthesizedStack, type: string, predicate: (r: any) => boolean): Record<string, any> {
  const matches = resourcesOf(synthesized, type).filter(predicate);
  if (matches.length !== 1) throw new Error(`expected one ${type} to match, found ${matches.length}`);
  return matches[0]!;
}

/** A function's inline policy as Sid → { actions (sorted), resource, condition }. */
export function grantsOf(
  synthesized: SynthesizedStack,
  functionName: string,
): Record<string, { actions: string[]; resource: unknown; condition?: unknown }> {
  const role = referenceTo(synthesized, 'aws_iam_role', (r) => r.name === functionName, 'id');
  const policy = theResource(synthesized, 'aws_iam_role_policy', (p) => p.role === role);
  return Object.fromEntries(
    (JSON.parse(policy.policy).Statement as Statement[]).map((s) => [
      s.Sid,
      { actions: asList(s.Action).sort(), resource: s.Resource, ...(s.Condition ? { condition: s.Condition } : {}) },
    ]),
  );
}
