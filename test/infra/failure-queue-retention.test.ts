import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { type LocalClients, connectLocalCloud } from '../../local/cloud/connect';
import { type LocalCloud, startLocalCloud } from '../../local/cloud/local-cloud';
import { FAILURE_QUEUE_SETTINGS } from '../../pipeline/definition';
import { resolveStackConfig } from '../../pipeline/stack-config';
import { pipelineNames } from '../../pipeline/topology';
import { type SynthesizedStack, synthesizeStack, theResource } from '../support/synth';

/**
 * The failure queues keep what the ingress and completion functions could not handle. The stack
 * and the local cloud both create them from FAILURE_QUEUE_SETTINGS (pipeline/definition.ts), so a
 * failed event is kept as long locally as in an account (SQS's maximum, 14 days), and the
 * failed-events function gets a received one to itself as long.
 */
const config = resolveStackConfig({});
const failureQueues = Object.values(pipelineNames(config).failureQueues);
const dataDirectory = mkdtempSync(join(tmpdir(), 'frames-failure-queues-'));
let stack: SynthesizedStack;
let cloud: LocalCloud;
/** An administrator reads queue attributes: no principal of the pipeline may. */
let admin: LocalClients;

beforeAll(async () => {
  stack = synthesizeStack();
  cloud = await startLocalCloud({ dataDirectory, config, faults: new Set() });
  admin = connectLocalCloud(cloud.endpoints, 'admin');
}, 120_000);
afterAll(async () => {
  admin?.close();
  await cloud?.stop();
  rmSync(dataDirectory, { recursive: true, force: true });
}, 30_000);

async function localSettings(queueName: string): Promise<{ retention: number; visibility: number }> {
  const { QueueUrl } = await admin.sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  const { Attributes } = await admin.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['MessageRetentionPeriod', 'VisibilityTimeout'] }),
  );
  return { retention: Number(Attributes?.MessageRetentionPeriod), visibility: Number(Attributes?.VisibilityTimeout) };
}

test('the definition keeps failures for SQS’s maximum, 14 days', () => {
  expect(FAILURE_QUEUE_SETTINGS.messageRetentionSeconds).toBe(14 * 24 * 60 * 60);
});

test.each(failureQueues)('%s keeps messages, and hides a received one, as long in the local cloud as in the synthesized stack', async (queueName) => {
  const declared = theResource(stack, 'aws_sqs_queue', (queue) => queue.name === queueName);

  expect(declared.message_retention_seconds).toBe(FAILURE_QUEUE_SETTINGS.messageRetentionSeconds);
  // The failed-events function consumes it: six of its timeouts, as AWS advises.
  expect(declared.visibility_timeout_seconds).toBe(FAILURE_QUEUE_SETTINGS.visibilityTimeoutSeconds);
  expect(await localSettings(queueName)).toEqual({ retention: declared.message_retention_seconds, visibility: declared.visibility_timeout_seconds });
});
