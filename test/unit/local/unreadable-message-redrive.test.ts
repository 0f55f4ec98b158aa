import type { Context, SQSEvent } from 'aws-lambda';
import { CreateQueueCommand, type Message, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { logger } from '../../../functions/shared/logger';
import { ENV } from '../../../pipeline/definition';
import { localClientConfig } from '../../../local/cloud/connect';
import { LOCAL_REGION } from '../../../local/local-identity';
import { QueuePoller } from '../../../local/queue-poller';
import { type LocalSqsServer, startSqsServer } from '../../../local/sqs-server';

/**
 * A frame message of a contract version the worker does not read, end to end through an
 * SQS-compatible server with the stack's redrive policy: the real worker handler reports it failed
 * each time, logs why, and SQS moves it to the dead-letter queue after maxReceiveCount receives.
 * It never vanishes.
 */
let server: LocalSqsServer;
let sqs: SQSClient;
let handler: (event: SQSEvent, context: Context) => Promise<unknown>;

beforeAll(async () => {
  Object.assign(process.env, {
    [ENV.jobTable]: 'frames-jobs',
    [ENV.framesBucket]: 'frames-frames',
    [ENV.egressBucket]: 'frames-egress',
    [ENV.fanInLeaseSeconds]: '30',
    [ENV.pipelineName]: 'frames',
    AWS_REGION: LOCAL_REGION,
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ({ handler } = require('../../../functions/frame-worker/handler') as typeof import('../../../functions/frame-worker/handler'));
  server = await startSqsServer();
  sqs = new SQSClient(localClientConfig(server.endpoint));
});
afterAll(async () => {
  sqs.destroy();
  await server.stop();
});

async function createQueue(name: string, attributes: Record<string, string>) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

test('an unknown contract version ends in the dead-letter queue, with the reason logged on every receive', async () => {
  const maxReceiveCount = 2;
  const deadLetters = await createQueue('frames-dead-letters', {});
  const frames = await createQueue('frames', {
    VisibilityTimeout: '1',
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetters.arn, maxReceiveCount }),
  });
  const body = JSON.stringify({ version: 2, videoId: 'v.mp4', runId: 'r', bucket: 'b', batch: 0, frames: [{ key: 'k', index: 0, timestampMs: 0 }] });
  await sqs.send(new SendMessageCommand({ QueueUrl: frames.url, MessageBody: body }));
  const errors = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
  const context = { awsRequestId: 'request', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
  const poller = new QueuePoller({
    sqs,
    queueUrl: frames.url,
    queueArn: frames.arn,
    region: LOCAL_REGION,
    batchSize: 1,
    concurrency: 1,
    target: { name: 'frames-frame-worker', arn: 'arn:aws:lambda:local', invoke: (event) => handler(event as SQSEvent, context) },
  });

  poller.start();
  let deadLettered: Message | undefined;
  for (let attempt = 0; attempt < 20 && !deadLettered; attempt += 1) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetters.url, WaitTimeSeconds: 1 }));
    deadLettered = Messages[0];
  }
  await poller.stop();

  expect(deadLettered?.Body).toBe(body);
  const reasons = errors.mock.calls.filter(([message]) => String(message).startsWith('unreadable frame message'));
  expect(reasons).toHaveLength(maxReceiveCount);
  expect(reasons[0][1]).toMatchObject({ reason: expect.stringMatching(/Frame message version 2 is not supported \(this worker reads version 1\)/) });
});
