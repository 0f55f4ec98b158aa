import { mockClient } from 'aws-sdk-client-mock';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { type LocalDynamo, startLocalDynamo } from './dynalite';
import { FakeBuckets } from './fake-buckets';
import { fixture } from './events';
import type { FrameBatchMessage } from '../../pipeline/frame-message';
import type { JobRecord } from '../../pipeline/job-record';
import { frameKey, runLayout } from '../../pipeline/run-layout';

export const TABLE = 'jobs';
export const FRAMES_BUCKET = 'frames-bucket';
export const EGRESS_BUCKET = 'egress-bucket';
export const QUEUE_URL = 'https://sqs.us-west-2.amazonaws.com/111122223333/frames-frames';
export const FRAMES_PER_MESSAGE = 4;
export const LEASE_SECONDS = 60;

/**
 * The second half of the pipeline around its handlers: a real DynamoDB-compatible server for the
 * job table (the exactly-once guarantees are condition expressions, which a mock would accept
 * blindly), in-memory buckets behind the mocked S3 client, and a mocked SQS client that keeps what
 * is sent. Handlers are required after `start()`, since they read the environment at cold start.
 */
export class FramesWorld {
  dynamo!: LocalDynamo;
  readonly s3 = mockClient(S3Client);
  readonly sqs = mockClient(SQSClient);
  /** The default bus: every outcome event the functions put ("Video Frames Completed" / "Failed"). */
  readonly events = mockClient(EventBridgeClient);
  announced: { detailType: string; detail: Record<string, unknown> }[] = [];
  buckets!: FakeBuckets;
  /** Every message body sent to the frame queue, in order. */
  sent: FrameBatchMessage[] = [];
  private videos = 0;

  async start(): Promise<void> {
    this.dynamo = await startLocalDynamo();
    await this.dynamo.createJobTable(TABLE);
    Object.assign(process.env, {
      JOB_TABLE_NAME: TABLE,
      FRAMES_BUCKET_NAME: FRAMES_BUCKET,
      EGRESS_BUCKET_NAME: EGRESS_BUCKET,
      FRAME_QUEUE_URL: QUEUE_URL,
      FRAMES_PER_MESSAGE: String(FRAMES_PER_MESSAGE),
      FAN_IN_LEASE_SECONDS: String(LEASE_SECONDS),
      PIPELINE_NAME: 'frames',
      AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_DYNAMODB: this.dynamo.endpoint,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
  }

  async stop(): Promise<void> {
    await this.dynamo.stop();
  }

  reset(): void {
    this.s3.reset();
    this.buckets = new FakeBuckets(this.s3);
    this.sent = [];
    this.acceptMessages();
    this.acceptEvents();
  }

  /** The bus accepts every event (and `announced` keeps them). */
  acceptEvents(): void {
    this.events.reset();
    this.announced = [];
    this.events.on(PutEventsCommand).callsFake(async (input) => {
      for (const entry of input.Entries) this.announced.push({ detailType: entry.DetailType, detail: JSON.parse(entry.Detail) });
      return { FailedEntryCount: 0, Entries: input.Entries.map((_: unknown, index: number) => ({ EventId: `event-${this.announced.length}-${index}` })) };
    });
  }

  /** Clears injected faults and recorded calls, keeping every object in the buckets. */
  resetMocksKeepingObjects(): void {
    const objects = this.buckets.objects;
    this.reset();
    for (const [address, bytes] of objects) this.buckets.objects.set(address, bytes);
  }

  /** The frame queue accepts every message (and `sent` keeps them). */
  acceptMessages(): void {
    this.sqs.reset();
    this.sqs.on(SendMessageBatchCommand).callsFake(async (input) => {
      for (const entry of input.Entries) this.sent.push(JSON.parse(entry.MessageBody));
      return { Successful: input.Entries.map((entry: { Id: string }) => ({ Id: entry.Id, MessageId: entry.Id })), Failed: [] };
    });
  }

  /** A run the ingress function has submitted: a fresh video id for every call. */
  async submittedRun(overrides: Partial<JobRecord> = {}): Promise<JobRecord> {
    const videoId = `videos/drive-${++this.videos}.mp4`;
    const layout = runLayout(`drive-${this.videos}-0123456789ab/run-${this.videos}`);
    const record: JobRecord = {
      VideoId: videoId,
      RunId: `run-${this.videos}`,
      Status: 'SUBMITTED',
      SourceBucket: 'ingress-bucket',
      SourceKey: videoId,
      SourceETag: 'etag',
      SourceSize: 2048,
      SourceSequencer: '0'.repeat(64),
      RunPrefix: layout.runPrefix,
      FramesPrefix: layout.framesPrefix,
      ProxyPrefix: layout.proxyPrefix,
      FpsNumerator: 2,
      FpsDenominator: 1,
      Quality: 80,
      MaxCaptures: 1000,
      MediaConvertJobId: `job-${this.videos}`,
      CreatedAt: '2026-11-21T05:00:00.000Z',
      UpdatedAt: '2026-11-21T05:00:00.000Z',
      SubmittedAt: '2026-11-21T05:00:01.000Z',
      ...overrides,
    };
    await this.dynamo.documents.send(new PutCommand({ TableName: TABLE, Item: record }));
    return record;
  }

  /** As if the fan-in's lease ran out: SQS redelivers only after six times the worker's timeout. */
  async expireFanInLease(videoId: string): Promise<void> {
    await this.dynamo.documents.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: { VideoId: videoId },
        UpdateExpression: 'SET FanInLeaseUntil = :past',
        ExpressionAttributeValues: { ':past': '2000-01-01T00:00:00.000Z' },
      }),
    );
  }

  async record(videoId: string): Promise<JobRecord> {
    const { Item } = await this.dynamo.documents.send(new GetCommand({ TableName: TABLE, Key: { VideoId: videoId }, ConsistentRead: true }));
    return Item as JobRecord;
  }

  /** What MediaConvert would have written: `count` captures under the run's frames prefix. */
  putFrames(record: JobRecord, count: number, image: Buffer | string = 'jpeg'): void {
    for (let index = 0; index < count; index += 1) this.buckets.put(FRAMES_BUCKET, frameKey(record.FramesPrefix!, index), image);
  }

  /**
   * A run whose `frames` captures MediaConvert wrote, and which `completion` (the completion
   * handler) counted and fanned out: returns the run and the messages sent for it.
   */
  async fannedOutRun(
    completion: (event: unknown) => Promise<unknown>,
    frames: number,
    image: Buffer | string,
  ): Promise<{ run: JobRecord; messages: FrameBatchMessage[] }> {
    const run = await this.submittedRun();
    this.putFrames(run, frames, image);
    await completion(this.completeEvent(run, frames - 1));
    return { run, messages: this.sent.filter((message) => message.videoId === run.VideoId) };
  }

  /** A COMPLETE event whose frame output lists the capture with `lastIndex` (none: no captures). */
  completeEvent(record: JobRecord, lastIndex: number | undefined, jobId = record.MediaConvertJobId!, runId = record.RunId) {
    const event = this.jobEvent('mediaconvert-complete', record, jobId, runId);
    event.detail.outputGroupDetails[0].outputDetails[0].outputFilePaths =
      lastIndex === undefined ? [] : [`s3://${FRAMES_BUCKET}/${frameKey(record.FramesPrefix!, lastIndex)}`];
    return event;
  }

  statusUpdateEvent(record: JobRecord, percent: number) {
    const event = this.jobEvent('mediaconvert-status-update', record);
    event.detail.jobProgress.jobPercentComplete = percent;
    return event;
  }

  errorEvent(record: JobRecord) {
    return this.jobEvent('mediaconvert-error', record);
  }

  canceledEvent(record: JobRecord) {
    const event = this.jobEvent('mediaconvert-error', record);
    event.detail.status = 'CANCELED';
    delete event.detail.errorCode;
    delete event.detail.errorMessage;
    return event;
  }

  private jobEvent(name: string, record: JobRecord, jobId = record.MediaConvertJobId!, runId = record.RunId) {
    const event = fixture(name);
    event.detail.jobId = jobId;
    event.detail.userMetadata = { pipeline: 'frames', videoId: record.VideoId, runId };
    return event;
  }
}

/** An SQS event as the event source mapping delivers it. */
export function sqsEvent(bodies: readonly (FrameBatchMessage | string)[], receiveCount = 1): SQSEvent {
  return {
    Records: bodies.map((body, position) => ({
      messageId: `message-${position}`,
      receiptHandle: `receipt-${position}`,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      attributes: {
        ApproximateReceiveCount: String(receiveCount),
        SentTimestamp: '1763700000000',
        SenderId: 'completion',
        ApproximateFirstReceiveTimestamp: '1763700000000',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-west-2:111122223333:frames-frames',
      awsRegion: 'us-west-2',
    })),
  };
}

/** A Lambda context with what Powertools reads. */
export const lambdaContext = {
  functionName: 'frames-frame-worker',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as import('aws-lambda').Context;
