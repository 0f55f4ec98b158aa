import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchGetItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { localClientConfig } from '../../../local/cloud/connect';
import { ensureJobTable, type LocalDynamoServer, startDynamoServer } from '../../../local/dynamo-server';
import { dynamoDbAuthorizations, type JsonProtocolGate, sqsAuthorizations, startJsonProtocolGate } from '../../../local/iam/json-protocol-gate';
import { LOCAL_ADMIN_KEY, LOCAL_PRINCIPAL_KEYS, localQueueArn, localTableArn } from '../../../local/iam/local-principals';
import { denialLogOf, requestGate } from '../../../local/iam/request-gate';
import { ALGORITHM, type Credentials, amzDate, canonicalRequest, signature } from '../../../local/s3/sigv4';
import { type LocalSqsServer, startSqsServer } from '../../../local/sqs-server';
import { JOB_LIST_INDEX } from '../../../pipeline/job-record';
import type { Principal } from '../../../pipeline/permissions';
import type { StackConfig } from '../../../pipeline/stack-config';
import { pipelineNames } from '../../../pipeline/topology';
import { TEST_BUCKETS, TEST_CONFIG, TEST_RULES } from '../../support/local-access';

/**
 * dynalite and the SQS server behind the JSON-protocol gate, with the stack's own grants: each
 * principal's real SDK client, signed with its own local key, may do what pipeline/permissions.ts
 * grants it and meets the service's own error where AWS would refuse it.
 */
// No stream configured here: the gate's tests need none of the clip grants.
const config: StackConfig = { ...TEST_CONFIG, kvsStreams: [] };
const buckets = TEST_BUCKETS;
const names = pipelineNames(config);
const rules = TEST_RULES;
const TABLE_ARN = localTableArn(names.jobTable);
const VIDEO = 'trips/drive.mp4';
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

let dataDirectory: string;
let gate: ReturnType<typeof requestGate>;
let dynamo: LocalDynamoServer;
let sqs: LocalSqsServer;
let dynamoGate: JsonProtocolGate;
let sqsGate: JsonProtocolGate;
const clients: Array<{ destroy(): void }> = [];
const queueUrls: Record<string, string> = {};

const track = <T extends { destroy(): void }>(client: T) => {
  clients.push(client);
  return client;
};
const dynamoAs = (who: Principal | 'admin' | Credentials) =>
  track(new DynamoDBClient({ ...localClientConfig(dynamoGate.endpoint, typeof who === 'string' ? (who === 'admin' ? LOCAL_ADMIN_KEY : LOCAL_PRINCIPAL_KEYS[who]) : who), logger: silent }));
const sqsAs = (who: Principal | 'admin' | Credentials) =>
  track(new SQSClient({ ...localClientConfig(sqsGate.endpoint, typeof who === 'string' ? (who === 'admin' ? LOCAL_ADMIN_KEY : LOCAL_PRINCIPAL_KEYS[who]) : who), logger: silent }));

/** What a call threw: the SDK's error name, HTTP status and message. */
async function refusal(call: Promise<unknown>): Promise<{ name: string; status?: number; message: string; error: Error & Record<string, unknown> }> {
  try {
    await call;
  } catch (error) {
    const failed = error as Error & { $metadata?: { httpStatusCode?: number } } & Record<string, unknown>;
    return { name: failed.name, status: failed.$metadata?.httpStatusCode, message: failed.message, error: failed };
  }
  throw new Error('the call was allowed');
}

const denialLog = () =>
  readFileSync(denialLogOf(dataDirectory), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { principal: string; action: string; resource: string; context: Record<string, unknown> });

beforeAll(async () => {
  dataDirectory = mkdtempSync(join(tmpdir(), 'json-protocol-gate-'));
  gate = requestGate({ config, buckets, rules, dataDirectory, enforce: true });
  dynamo = await startDynamoServer();
  sqs = await startSqsServer();
  dynamoGate = await startJsonProtocolGate({ service: 'dynamodb', upstream: dynamo.endpoint, gate });
  sqsGate = await startJsonProtocolGate({ service: 'sqs', upstream: sqs.endpoint, gate });
  // The local cloud's own set-up, through the gates, with its own key.
  const admin = dynamoAs('admin');
  await ensureJobTable(admin, names.jobTable);
  await admin.send(
    new PutItemCommand({
      TableName: names.jobTable,
      Item: { VideoId: { S: VIDEO }, Status: { S: 'PROCESSING' }, CreatedAt: { S: '2026-01-01T00:00:00.000Z' }, ProcessedFrames: { N: '0' } },
    }),
  );
  const adminSqs = sqsAs('admin');
  for (const queue of [names.frameQueue, names.frameDeadLetterQueue, names.failureQueues['ingress-failures'], names.failureQueues['completion-failures']]) {
    queueUrls[queue] = (await adminSqs.send(new CreateQueueCommand({ QueueName: queue }))).QueueUrl!;
  }
});

afterAll(async () => {
  clients.forEach((client) => client.destroy());
  await Promise.all([dynamoGate?.stop(), sqsGate?.stop()]);
  await Promise.all([dynamo?.stop(), sqs?.stop()]);
  rmSync(dataDirectory, { recursive: true, force: true });
});

describe('DynamoDB', () => {
  test('the CLI reads jobs and lists them by status', async () => {
    const cli = dynamoAs('cli');
    const { Item } = await cli.send(new GetItemCommand({ TableName: names.jobTable, Key: { VideoId: { S: VIDEO } } }));
    expect(Item?.Status).toEqual({ S: 'PROCESSING' });
    const listed = await cli.send(
      new QueryCommand({
        TableName: names.jobTable,
        IndexName: JOB_LIST_INDEX.name,
        KeyConditionExpression: '#status = :status',
        ExpressionAttributeNames: { '#status': JOB_LIST_INDEX.partitionKey },
        ExpressionAttributeValues: { ':status': { S: 'PROCESSING' } },
      }),
    );
    expect(listed.Items?.map((item) => item.VideoId)).toEqual([{ S: VIDEO }]);
    const batch = await cli.send(new BatchGetItemCommand({ RequestItems: { [names.jobTable]: { Keys: [{ VideoId: { S: VIDEO } }] } } }));
    expect(batch.Responses?.[names.jobTable]).toHaveLength(1);
  });

  test("the CLI may not update a job: DynamoDB's AccessDeniedException, the item unchanged, the denial logged", async () => {
    const denied = await refusal(
      dynamoAs('cli').send(
        new UpdateItemCommand({
          TableName: names.jobTable,
          Key: { VideoId: { S: VIDEO } },
          UpdateExpression: 'SET #status = :failed',
          ExpressionAttributeNames: { '#status': 'Status' },
          ExpressionAttributeValues: { ':failed': { S: 'FAILED' } },
        }),
      ),
    );
    expect(denied).toMatchObject({
      name: 'AccessDeniedException',
      status: 400,
      message: `User: arn:aws:iam::000000000000:user/frames-cli is not authorized to perform: dynamodb:UpdateItem on resource: ${TABLE_ARN} because no identity-based policy allows the dynamodb:UpdateItem action`,
    });
    const { Item } = await dynamoAs('admin').send(new GetItemCommand({ TableName: names.jobTable, Key: { VideoId: { S: VIDEO } }, ConsistentRead: true }));
    expect(Item?.Status).toEqual({ S: 'PROCESSING' });
    // The request's condition keys, as AWS sets them: the partition key it writes.
    expect(denialLog()).toContainEqual(
      expect.objectContaining({ principal: 'cli', action: 'dynamodb:UpdateItem', resource: TABLE_ARN, context: { 'dynamodb:LeadingKeys': [VIDEO] } }),
    );
  });

  test('the CLI may query only its index, not the table, and may not scan', async () => {
    const cli = dynamoAs('cli');
    const onTable = await refusal(
      cli.send(new QueryCommand({ TableName: names.jobTable, KeyConditionExpression: 'VideoId = :v', ExpressionAttributeValues: { ':v': { S: VIDEO } } })),
    );
    expect(onTable).toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining(`dynamodb:Query on resource: ${TABLE_ARN} because`) });
    expect(await refusal(cli.send(new ScanCommand({ TableName: names.jobTable })))).toMatchObject({ name: 'AccessDeniedException' });
    expect(await refusal(cli.send(new ScanCommand({ TableName: names.jobTable, IndexName: JOB_LIST_INDEX.name })))).toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining(`on resource: ${TABLE_ARN}/index/${JOB_LIST_INDEX.name} `),
    });
  });

  test('the completion function updates jobs, as its role (an assumed-role session) may not put them', async () => {
    const completion = dynamoAs('completion');
    await completion.send(
      new UpdateItemCommand({
        TableName: names.jobTable,
        Key: { VideoId: { S: VIDEO } },
        UpdateExpression: 'ADD ProcessedFrames :n',
        ExpressionAttributeValues: { ':n': { N: '5' } },
      }),
    );
    const { Item } = await dynamoAs('admin').send(new GetItemCommand({ TableName: names.jobTable, Key: { VideoId: { S: VIDEO } }, ConsistentRead: true }));
    expect(Item?.ProcessedFrames).toEqual({ N: '5' });
    const denied = await refusal(completion.send(new PutItemCommand({ TableName: names.jobTable, Item: { VideoId: { S: 'other.mp4' } } })));
    expect(denied.message).toBe(
      `User: arn:aws:sts::000000000000:assumed-role/frames-completion/frames-completion is not authorized to perform: dynamodb:PutItem on resource: ${TABLE_ARN} because no identity-based policy allows the dynamodb:PutItem action`,
    );
  });

  test("an unknown key, a wrong secret and a body changed after signing are refused with DynamoDB's own errors", async () => {
    const get = new GetItemCommand({ TableName: names.jobTable, Key: { VideoId: { S: VIDEO } } });
    expect(await refusal(dynamoAs({ accessKeyId: 'AKIANOBODY', secretAccessKey: 'nobody' }).send(get))).toMatchObject({
      name: 'UnrecognizedClientException',
      status: 400,
      message: 'The security token included in the request is invalid.',
    });
    expect(await refusal(dynamoAs({ ...LOCAL_PRINCIPAL_KEYS.cli, secretAccessKey: 'not-the-secret' }).send(get))).toMatchObject({
      name: 'InvalidSignatureException',
      status: 400,
    });
    // The signed body asks for one job; the body sent asks for another of the same length.
    const tampered = dynamoAs('cli');
    tampered.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body?: string | Uint8Array };
        const body = request.body ?? '';
        const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
        expect(text).toContain('drive.mp4');
        request.body = Buffer.from(text.replace('drive.mp4', 'drove.mp4'));
        return next(args);
      },
      { step: 'deserialize', name: 'tamperAfterSigning' },
    );
    expect(await refusal(tampered.send(get))).toMatchObject({ name: 'InvalidSignatureException' });
  });
});

describe('SQS', () => {
  const frameQueue = () => queueUrls[names.frameQueue];

  test('queue URLs handed out point at the gate, not at the server behind it', async () => {
    expect(Object.values(queueUrls).every((url) => url.startsWith(`${sqsGate.endpoint}/000000000000/`))).toBe(true);
    const admin = sqsAs('admin');
    expect((await admin.send(new GetQueueUrlCommand({ QueueName: names.frameQueue }))).QueueUrl).toBe(`${sqsGate.endpoint}/000000000000/${names.frameQueue}`);
    const { QueueUrls } = await admin.send(new ListQueuesCommand({}));
    expect(QueueUrls?.length).toBe(4);
    expect(QueueUrls?.every((url) => url.startsWith(sqsGate.endpoint))).toBe(true);
  });

  test('the completion function fans out to the frame queue; the frame worker receives and deletes, and may not send', async () => {
    const completion = sqsAs('completion');
    await completion.send(new SendMessageCommand({ QueueUrl: frameQueue(), MessageBody: '{"batch":0}' }));
    await completion.send(
      new SendMessageBatchCommand({
        QueueUrl: frameQueue(),
        Entries: [
          { Id: '1', MessageBody: '{"batch":1}' },
          { Id: '2', MessageBody: '{"batch":2}' },
        ],
      }),
    );
    const worker = sqsAs('frameWorker');
    await worker.send(new GetQueueAttributesCommand({ QueueUrl: frameQueue(), AttributeNames: ['ApproximateNumberOfMessages'] }));
    const received = [];
    while (received.length < 3) {
      const { Messages } = await worker.send(new ReceiveMessageCommand({ QueueUrl: frameQueue(), MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      received.push(...(Messages ?? []));
    }
    for (const message of received) await worker.send(new DeleteMessageCommand({ QueueUrl: frameQueue(), ReceiptHandle: message.ReceiptHandle }));
    expect(received.map((message) => message.Body).sort()).toEqual(['{"batch":0}', '{"batch":1}', '{"batch":2}']);

    const denied = await refusal(worker.send(new SendMessageCommand({ QueueUrl: frameQueue(), MessageBody: 'x' })));
    // SQS's JSON answer carries x-amzn-query-error: AccessDenied;Sender, and the SDK names the
    // error by it (as the AWS CLI prints "An error occurred (AccessDenied)").
    expect(denied).toMatchObject({
      name: 'AccessDenied',
      status: 403,
      message: `User: arn:aws:sts::000000000000:assumed-role/frames-frame-worker/frames-frame-worker is not authorized to perform: sqs:sendmessage on resource: ${localQueueArn(names.frameQueue)} because no identity-based policy allows the sqs:sendmessage action`,
    });
    expect(denied.error.Error).toMatchObject({ Code: 'AccessDenied', Type: 'Sender' });
    expect(denialLog()).toContainEqual(expect.objectContaining({ principal: 'frameWorker', action: 'sqs:SendMessage', resource: localQueueArn(names.frameQueue) }));
  });

  test('the completion function keeps failed events in its own failure queue only, and may not consume frames', async () => {
    const completion = sqsAs('completion');
    await completion.send(new SendMessageCommand({ QueueUrl: queueUrls[names.failureQueues['completion-failures']], MessageBody: '{}' }));
    expect(await refusal(completion.send(new SendMessageCommand({ QueueUrl: queueUrls[names.failureQueues['ingress-failures']], MessageBody: '{}' })))).toMatchObject({
      name: 'AccessDenied',
    });
    expect(await refusal(completion.send(new ReceiveMessageCommand({ QueueUrl: frameQueue() })))).toMatchObject({ name: 'AccessDenied' });
    // A batch is authorized as the sends it makes.
    expect(
      await refusal(
        sqsAs('frameWorker').send(new SendMessageBatchCommand({ QueueUrl: frameQueue(), Entries: [{ Id: '1', MessageBody: 'x' }] })),
      ),
    ).toMatchObject({ name: 'AccessDenied', message: expect.stringContaining('sqs:sendmessage') });
  });

  test('a client that follows a handed-out queue URL (no endpoint of its own) reaches the gate, not the server behind it', async () => {
    const { QueueUrl } = await sqsAs('admin').send(new GetQueueUrlCommand({ QueueName: names.frameQueue }));
    const follower = track(new SQSClient({ region: 'us-east-1', credentials: LOCAL_PRINCIPAL_KEYS.frameWorker, logger: silent }));
    expect(await refusal(follower.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' })))).toMatchObject({ name: 'AccessDenied' });
  });

  test('ListQueues and GetQueueUrl are grants like any other', async () => {
    expect(await refusal(sqsAs('cli').send(new ListQueuesCommand({})))).toMatchObject({ name: 'AccessDenied', message: expect.stringContaining('sqs:listqueues on resource: *') });
    expect(await refusal(sqsAs('frameWorker').send(new GetQueueUrlCommand({ QueueName: names.frameQueue })))).toMatchObject({ name: 'AccessDenied' });
  });

  test("an unknown key and a wrong secret are refused with SQS's own errors", async () => {
    const send = new SendMessageCommand({ QueueUrl: frameQueue(), MessageBody: 'x' });
    expect(await refusal(sqsAs({ accessKeyId: 'AKIANOBODY', secretAccessKey: 'nobody' }).send(send))).toMatchObject({
      name: 'InvalidClientTokenId',
      status: 403,
      message: 'The security token included in the request is invalid.',
    });
    expect(await refusal(sqsAs({ ...LOCAL_PRINCIPAL_KEYS.completion, secretAccessKey: 'not-the-secret' }).send(send))).toMatchObject({
      name: 'SignatureDoesNotMatch',
      status: 403,
    });
  });

  test('the query protocol (form-encoded, XML answers) is gated the same way', async () => {
    const post = async (credentials: Credentials, form: Record<string, string>) => {
      const body = new URLSearchParams(form).toString();
      const url = new URL(sqsGate.endpoint);
      const date = amzDate(new Date());
      const headers: Record<string, string> = { host: url.host, 'content-type': 'application/x-www-form-urlencoded', 'x-amz-date': date };
      const signed = Object.keys(headers).sort();
      const scope = { date: date.slice(0, 8), region: 'us-east-1', service: 'sqs' };
      const canonical = canonicalRequest({ method: 'POST', path: '/', query: [], headers }, signed, createHash('sha256').update(body).digest('hex'));
      const authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope.date}/us-east-1/sqs/aws4_request, SignedHeaders=${signed.join(';')}, Signature=${signature(credentials.secretAccessKey, scope, date, canonical)}`;
      const answer = await fetch(sqsGate.endpoint, { method: 'POST', headers: { ...headers, authorization }, body });
      return { status: answer.status, text: await answer.text() };
    };
    const denied = await post(LOCAL_PRINCIPAL_KEYS.frameWorker, { Action: 'SendMessage', QueueUrl: frameQueue(), MessageBody: 'x', Version: '2012-11-05' });
    expect(denied.status).toBe(403);
    expect(denied.text).toContain('<Code>AccessDenied</Code>');
    const created = await post(LOCAL_ADMIN_KEY, { Action: 'GetQueueUrl', QueueName: names.frameQueue, Version: '2012-11-05' });
    expect(created.status).toBe(200);
    expect(created.text).toContain(`<QueueUrl>${sqsGate.endpoint}/000000000000/${names.frameQueue}</QueueUrl>`);
  });
});

describe('the mapping of operations to IAM', () => {
  test('DynamoDB: batches per table, transactions per item, indexes, and account-level lists', async () => {
    const keys = async () => ({ partitionKey: 'VideoId', indexes: { ByStatus: 'Status' } });
    expect(
      await dynamoDbAuthorizations(
        'BatchWriteItem',
        { RequestItems: { a1x: [{ PutRequest: { Item: { VideoId: { S: 'v1' } } } }], b2y: [{ DeleteRequest: { Key: { VideoId: { S: 'v2' } } } }] } },
        keys,
      ),
    ).toEqual([
      { action: 'dynamodb:BatchWriteItem', resource: localTableArn('a1x'), context: { 'dynamodb:LeadingKeys': ['v1'] } },
      { action: 'dynamodb:BatchWriteItem', resource: localTableArn('b2y'), context: { 'dynamodb:LeadingKeys': ['v2'] } },
    ]);
    expect(
      await dynamoDbAuthorizations(
        'TransactWriteItems',
        { TransactItems: [{ Update: { TableName: 'jobs', Key: { VideoId: { S: 'v' } } } }, { ConditionCheck: { TableName: 'jobs', Key: { VideoId: { S: 'v' } } } }] },
        keys,
      ),
    ).toEqual([
      { action: 'dynamodb:UpdateItem', resource: localTableArn('jobs'), context: { 'dynamodb:LeadingKeys': ['v'], 'dynamodb:EnclosingOperation': 'TransactWriteItems' } },
      { action: 'dynamodb:ConditionCheckItem', resource: localTableArn('jobs'), context: { 'dynamodb:LeadingKeys': ['v'] } },
    ]);
    expect(
      await dynamoDbAuthorizations(
        'Query',
        { TableName: 'jobs', IndexName: 'ByStatus', KeyConditions: { Status: { AttributeValueList: [{ S: 'COMPLETE' }], ComparisonOperator: 'EQ' } }, Select: 'COUNT' },
        keys,
      ),
    ).toEqual([
      { action: 'dynamodb:Query', resource: `${localTableArn('jobs')}/index/ByStatus`, context: { 'dynamodb:LeadingKeys': ['COMPLETE'], 'dynamodb:Select': 'COUNT' } },
    ]);
    expect(await dynamoDbAuthorizations('ListTables', {})).toEqual([{ action: 'dynamodb:ListTables', resource: '*' }]);
    expect(await dynamoDbAuthorizations('ExecuteStatement', { Statement: 'SELECT * FROM "jobs"."ByStatus" WHERE Status = ?' })).toEqual([
      { action: 'dynamodb:PartiQLSelect', resource: `${localTableArn('jobs')}/index/ByStatus` },
    ]);
    // Never "*" for an action that takes a resource: the request is refused as invalid instead.
    await expect(dynamoDbAuthorizations('GetItem', { Key: {} })).rejects.toThrow(/Value null at 'tableName'/);
    await expect(dynamoDbAuthorizations('GetItem', { TableName: '*', Key: {} })).rejects.toThrow(/regular expression/);
  });

  test('SQS: batches as the calls they batch, queues by URL or name, ListQueues on "*"', () => {
    const url = 'http://127.0.0.1:9/000000000000/frames-frames';
    expect(sqsAuthorizations('SendMessageBatch', { QueueUrl: url })).toEqual([{ action: 'sqs:SendMessage', resource: localQueueArn('frames-frames') }]);
    expect(sqsAuthorizations('ChangeMessageVisibilityBatch', { QueueUrl: url })).toEqual([{ action: 'sqs:ChangeMessageVisibility', resource: localQueueArn('frames-frames') }]);
    expect(sqsAuthorizations('GetQueueUrl', { QueueName: 'frames-frames' })).toEqual([{ action: 'sqs:GetQueueUrl', resource: localQueueArn('frames-frames') }]);
    expect(sqsAuthorizations('CreateQueue', { QueueName: 'q', tags: { pipeline: 'frames' } })).toEqual([
      { action: 'sqs:CreateQueue', resource: localQueueArn('q'), context: { 'aws:RequestTag/pipeline': 'frames', 'aws:TagKeys': ['pipeline'] } },
    ]);
    expect(sqsAuthorizations('ListQueues', {})).toEqual([{ action: 'sqs:ListQueues', resource: '*' }]);
    const handle = Buffer.from(JSON.stringify({ taskId: 't', sourceArn: localQueueArn('dlq') })).toString('base64');
    expect(sqsAuthorizations('CancelMessageMoveTask', { TaskHandle: handle })).toEqual([{ action: 'sqs:CancelMessageMoveTask', resource: localQueueArn('dlq') }]);
    expect(() => sqsAuthorizations('SendMessage', {})).toThrow('The request must contain the parameter QueueUrl.');
    expect(() => sqsAuthorizations('SendMessage', { QueueUrl: 'http://127.0.0.1:9/000000000000/*' })).toThrow(/not valid/);
  });
});
