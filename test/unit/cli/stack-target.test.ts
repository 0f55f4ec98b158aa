import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explainAwsError } from '../../../cli/aws-errors';
import { CliError } from '../../../cli/exit-codes';
import { type DeployedTarget, deployedStackOf, resolveTarget } from '../../../cli/stack-target';

let directory: string;
let outputs: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'stack-target-'));
  outputs = join(directory, 'out.json');
  writeFileSync(
    outputs,
    JSON.stringify({
      'frames-pipeline': { region: 'eu-west-1', pipeline_name: 'dashcam', ingress_bucket: 'in-1', egress_bucket: 'out-1', job_table: 'dashcam-jobs', frames_bucket: 'f-1' },
    }),
  );
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

const stack: DeployedTarget = { kind: 'deployed', source: 'out.json', region: 'eu-west-1', pipelineName: 'dashcam', ingressBucket: 'in-1', egressBucket: 'out-1', jobTable: 'dashcam-jobs' };

describe('finding the stack', () => {
  const base = { dataDirectory: '/data' };

  it('reads a cdktf outputs file', () => {
    expect(deployedStackOf(outputs)).toEqual({ ...stack, source: outputs });
  });

  it('takes --local, then --stack-outputs, then $FRAMES_STACK_OUTPUTS, then the resource variables, then ./stack-outputs.json, then local', () => {
    const env = { FRAMES_STACK_OUTPUTS: outputs, FRAMES_INGRESS_BUCKET: 'a', FRAMES_EGRESS_BUCKET: 'b', FRAMES_JOB_TABLE: 'c' };
    writeFileSync(join(directory, 'stack-outputs.json'), JSON.stringify({ s: { region: 'us-east-1', pipeline_name: 'p', ingress_bucket: 'i', egress_bucket: 'e', job_table: 'j' } }));
    expect(resolveTarget({ ...base, local: true }, env, directory)).toEqual({ kind: 'local', dataDirectory: '/data' });
    expect(resolveTarget({ ...base, stackOutputs: outputs }, {}, directory)).toEqual(expect.objectContaining({ jobTable: 'dashcam-jobs' }));
    expect(resolveTarget(base, env, directory)).toEqual(expect.objectContaining({ source: outputs }));
    expect(resolveTarget(base, { ...env, FRAMES_STACK_OUTPUTS: '' }, directory)).toEqual({
      kind: 'deployed',
      source: 'environment variables',
      pipelineName: 'frames',
      ingressBucket: 'a',
      egressBucket: 'b',
      jobTable: 'c',
    });
    expect(resolveTarget(base, {}, directory)).toEqual(expect.objectContaining({ jobTable: 'j', region: 'us-east-1' }));
    expect(resolveTarget(base, {}, join(directory, 'elsewhere'))).toEqual({ kind: 'local', dataDirectory: '/data' });
  });

  it('refuses contradictions and half-set variables, saying what is missing', () => {
    expect(() => resolveTarget({ dataDirectory: '/d', local: true, stackOutputs: outputs }, {}, directory)).toThrow('--local and --stack-outputs contradict');
    expect(() => resolveTarget({ dataDirectory: '/d' }, { FRAMES_JOB_TABLE: 'c' }, directory)).toThrow(
      'FRAMES_JOB_TABLE name a deployed stack, but FRAMES_INGRESS_BUCKET and FRAMES_EGRESS_BUCKET are not set',
    );
  });

  it('explains an outputs file that is missing, not JSON, or not of this stack', () => {
    expect(() => deployedStackOf(join(directory, 'none.json'))).toThrow(/no such file\. Write it with: cdktf deploy --outputs-file/);
    writeFileSync(outputs, '{ nope');
    expect(() => deployedStackOf(outputs)).toThrow(/Cannot read the stack outputs/);
    writeFileSync(outputs, JSON.stringify({ other: { bucket: 'x' } }));
    expect(() => deployedStackOf(outputs)).toThrow('should hold the outputs of one frame pipeline stack; it holds 0');
    writeFileSync(outputs, JSON.stringify({ old: { region: 'eu-west-1', pipeline_name: 'p' } }));
    expect(() => deployedStackOf(outputs)).toThrow('lack ingress_bucket, egress_bucket, job_table. Redeploy');
  });
});

describe('AWS errors, explained', () => {
  const named = (name: string, message = 'm', code?: string) => Object.assign(new Error(message), { name, ...(code ? { code } : {}) });
  const explain = (error: Error) => explainAwsError(error, stack, 'eu-west-1') as CliError;

  it.each([
    [named('CredentialsProviderError', 'Could not load credentials from any providers'), 3, /No AWS credentials found .*AWS_PROFILE/],
    [named('Error', 'Region is missing'), 2, /No AWS region .*AWS_REGION/],
    [named('ExpiredTokenException', 'The security token included in the request is expired'), 3, /refused the credentials \(ExpiredTokenException.*aws sso login/],
    [named('AccessDeniedException', 'not authorized to perform: dynamodb:Query'), 3, /may not do this .*cli_policy_arn/],
    [named('ResourceNotFoundException', 'Requested resource not found'), 3, /Stack not found: .*names job table dashcam-jobs and buckets in-1 and out-1 in eu-west-1/],
    [named('NoSuchBucket', 'The specified bucket does not exist'), 3, /Stack not found/],
    [named('Error', 'getaddrinfo ENOTFOUND', 'ENOTFOUND'), 3, /Cannot reach AWS/],
  ])('%s → exit %i', (error, exitCode, message) => {
    const explained = explain(error);
    expect(explained).toBeInstanceOf(CliError);
    expect(explained.exitCode).toBe(exitCode);
    expect(explained.message).toMatch(message);
  });

  it('passes anything else through', () => {
    const other = named('InternalServerError');
    expect(explainAwsError(other, stack, 'eu-west-1')).toBe(other);
  });
});
