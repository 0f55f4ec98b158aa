import { DynamoDBDocumentClient, GetCommand, UpdateCommand, type UpdateCommandOutput } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './errors';
import { type JobError, type JobRecord, JOB_STATUS } from '../../pipeline/job-record';

/** One run of one video: every write below is conditional on the run still being current. */
export interface RunRef {
  readonly videoId: string;
  readonly runId: string;
}

/** What the completion function learned when MediaConvert finished. */
export interface ExtractedFrames {
  readonly totalFrames: number;
  readonly framesPerBatch: number;
  readonly batchCount: number;
  readonly frameWidth?: number;
  readonly frameHeight?: number;
  readonly durationMs?: number;
}

export type BatchCount =
  /** This write counted the batch; `record` is the item after it. */
  | { readonly state: 'counted'; readonly record: JobRecord }
  /** A redelivery: the batch was counted before. */
  | { readonly state: 'already-counted'; readonly record: JobRecord }
  /** The run was superseded, failed or finished: nothing to count. */
  | { readonly state: 'not-current'; readonly record: JobRecord | undefined };

export interface ResultsLocation {
  readonly bucket: string;
  readonly resultsKey: string;
  readonly summaryKey: string;
}

/**
 * The job table as the completion function, the frame worker and the fan-in use it. Status only
 * moves forward (SUBMITTED → EXTRACTING → PROCESSING → COMPLETE, or FAILED), and each method is a
 * single conditional write, so duplicate and late events are no-ops.
 */
export interface RunStore {
  get(videoId: string): Promise<JobRecord | undefined>;
  /** EXTRACTING with a higher percentage; false if the run moved on or the percentage is not higher. */
  recordExtractProgress(run: RunRef, jobId: string, percent: number, at: string): Promise<boolean>;
  /** FAILED from SUBMITTED or EXTRACTING (MediaConvert ERROR or CANCELED, a count mismatch). */
  failExtraction(run: RunRef, jobId: string, error: JobError, at: string): Promise<boolean>;
  /**
   * PROCESSING with the frame totals. Also succeeds while PROCESSING but not yet fanned out, so a
   * redelivered COMPLETE finishes a fan-out that crashed halfway.
   */
  startProcessing(run: RunRef, jobId: string, frames: ExtractedFrames, at: string): Promise<boolean>;
  recordFannedOut(run: RunRef, at: string): Promise<void>;
  /** Counts one batch exactly once: `ADD` under `NOT contains(DoneBatches, batch)`. */
  countBatch(run: RunRef, batch: number, processed: number, failed: number, at: string): Promise<BatchCount>;
  /** Takes the fan-in lease if nobody holds a live one; returns the record, or undefined. */
  claimFanIn(run: RunRef, now: Date, leaseMs: number): Promise<JobRecord | undefined>;
  completeRun(run: RunRef, results: ResultsLocation, at: string): Promise<boolean>;
  /** FAILED from PROCESSING: the results could not be written. */
  failProcessing(run: RunRef, error: JobError, at: string): Promise<boolean>;
}

const STATUS = { '#status': 'Status' };

/**
 * An event belongs to the current run, and to the job recorded for it (or to the run's first job
 * when the ingress function has not recorded one yet).
 */
const OUR_JOB = 'RunId = :runId AND (attribute_not_exists(MediaConvertJobId) OR MediaConvertJobId = :jobId)';

export class DynamoRunStore implements RunStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(videoId: string): Promise<JobRecord | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { VideoId: videoId }, ConsistentRead: true }),
    );
    return Item as JobRecord | undefined;
  }

  recordExtractProgress(run: RunRef, jobId: string, percent: number, at: string): Promise<boolean> {
    return this.conditionalUpdate(run, {
      UpdateExpression:
        'SET #status = :extracting, ExtractPercent = :percent, UpdatedAt = :at, MediaConvertJobId = if_not_exists(MediaConvertJobId, :jobId)',
      ConditionExpression: `${OUR_JOB} AND #status IN (:submitted, :extracting) AND (attribute_not_exists(ExtractPercent) OR ExtractPercent < :percent)`,
      ExpressionAttributeNames: STATUS,
      ExpressionAttributeValues: {
        ':jobId': jobId,
        ':percent': percent,
        ':at': at,
        ':submitted': JOB_STATUS.submitted,
        ':extracting': JOB_STATUS.extracting,
      },
    });
  }

  failExtraction(run: RunRef, jobId: string, error: JobError, at: string): Promise<boolean> {
    return this.conditionalUpdate(run, {
      UpdateExpression:
        'SET #status = :failed, #error = :error, UpdatedAt = :at, CompletedAt = :at, MediaConvertJobId = if_not_exists(MediaConvertJobId, :jobId)',
      ConditionExpression: `${OUR_JOB} AND #status IN (:submitted, :extracting)`,
      ExpressionAttributeNames: { ...STATUS, '#error': 'Error' },
      ExpressionAttributeValues: {
        ':jobId': jobId,
        ':failed': JOB_STATUS.failed,
        ':error': error,
        ':at': at,
        ':submitted': JOB_STATUS.submitted,
        ':extracting': JOB_STATUS.extracting,
      },
    });
  }

  startProcessing(run: RunRef, jobId: string, frames: ExtractedFrames, at: string): Promise<boolean> {
    const optional: Record<string, number | undefined> = {
      FrameWidth: frames.frameWidth,
      FrameHeight: frames.frameHeight,
      DurationMs: frames.durationMs,
    };
    const present = Object.entries(optional).filter(([, value]) => value !== undefined);
    return this.conditionalUpdate(run, {
      UpdateExpression: [
        'SET #status = :processing, ExtractPercent = :hundred, TotalFrames = :total',
        'FramesPerBatch = :perBatch, BatchCount = :batches',
        'ProcessedFrames = if_not_exists(ProcessedFrames, :zero)',
        'FailedFrames = if_not_exists(FailedFrames, :zero)',
        'ExtractedAt = if_not_exists(ExtractedAt, :at), UpdatedAt = :at',
        'MediaConvertJobId = if_not_exists(MediaConvertJobId, :jobId)',
        ...present.map(([name]) => `${name} = :${name}`),
      ].join(', '),
      ConditionExpression: `${OUR_JOB} AND (#status IN (:submitted, :extracting) OR (#status = :processing AND attribute_not_exists(FannedOutAt)))`,
      ExpressionAttributeNames: STATUS,
      ExpressionAttributeValues: {
        ':jobId': jobId,
        ':processing': JOB_STATUS.processing,
        ':submitted': JOB_STATUS.submitted,
        ':extracting': JOB_STATUS.extracting,
        ':hundred': 100,
        ':total': frames.totalFrames,
        ':perBatch': frames.framesPerBatch,
        ':batches': frames.batchCount,
        ':zero': 0,
        ':at': at,
        ...Object.fromEntries(present.map(([name, value]) => [`:${name}`, value])),
      },
    });
  }

  async recordFannedOut(run: RunRef, at: string): Promise<void> {
    await this.conditionalUpdate(run, {
      UpdateExpression: 'SET FannedOutAt = if_not_exists(FannedOutAt, :at), UpdatedAt = :at',
      ConditionExpression: 'RunId = :runId',
      ExpressionAttributeValues: { ':at': at },
    });
  }

  async countBatch(run: RunRef, batch: number, processed: number, failed: number, at: string): Promise<BatchCount> {
    const counted = await this.updatedRecord(run, {
      UpdateExpression:
        'ADD ProcessedFrames :processed, FailedFrames :failed, DoneBatches :batchSet SET UpdatedAt = :at',
      ConditionExpression: 'RunId = :runId AND #status = :processing AND NOT contains(DoneBatches, :batch)',
      ExpressionAttributeNames: STATUS,
      ExpressionAttributeValues: {
        ':processed': processed,
        ':failed': failed,
        ':batchSet': new Set([batch]),
        ':batch': batch,
        ':at': at,
        ':processing': JOB_STATUS.processing,
      },
    });
    if (counted) return { state: 'counted', record: counted };
    const record = await this.get(run.videoId);
    const before = record?.RunId === run.runId && record.DoneBatches?.has(batch) === true;
    return before ? { state: 'already-counted', record } : { state: 'not-current', record };
  }

  claimFanIn(run: RunRef, now: Date, leaseMs: number): Promise<JobRecord | undefined> {
    return this.updatedRecord(run, {
      UpdateExpression:
        'SET FanInLeaseUntil = :until, FanInStartedAt = if_not_exists(FanInStartedAt, :now), UpdatedAt = :now',
      ConditionExpression:
        'RunId = :runId AND #status = :processing AND (attribute_not_exists(FanInLeaseUntil) OR FanInLeaseUntil < :now)',
      ExpressionAttributeNames: STATUS,
      ExpressionAttributeValues: {
        ':until': new Date(now.getTime() + leaseMs).toISOString(),
        ':now': now.toISOString(),
        ':processing': JOB_STATUS.processing,
      },
    });
  }

  completeRun(run: RunRef, results: ResultsLocation, at: string): Promise<boolean> {
    return this.conditionalUpdate(run, {
      UpdateExpression:
        'SET #status = :complete, ResultsBucket = :bucket, ResultsKey = :results, SummaryKey = :summary, CompletedAt = :at, UpdatedAt = :at REMOVE FanInLeaseUntil',
      ConditionExpression: 'RunId = :runId AND #status = :processing',
      ExpressionAttributeNames: STATUS,
      ExpressionAttributeValues: {
        ':complete': JOB_STATUS.complete,
        ':processing': JOB_STATUS.processing,
        ':bucket': results.bucket,
        ':results': results.resultsKey,
        ':summary': results.summaryKey,
        ':at': at,
      },
    });
  }

  failProcessing(run: RunRef, error: JobError, at: string): Promise<boolean> {
    return this.conditionalUpdate(run, {
      UpdateExpression: 'SET #status = :failed, #error = :error, CompletedAt = :at, UpdatedAt = :at REMOVE FanInLeaseUntil',
      ConditionExpression: 'RunId = :runId AND #status = :processing',
      ExpressionAttributeNames: { ...STATUS, '#error': 'Error' },
      ExpressionAttributeValues: {
        ':failed': JOB_STATUS.failed,
        ':processing': JOB_STATUS.processing,
        ':error': error,
        ':at': at,
      },
    });
  }

  /** One conditional UpdateItem on the run's item; false when the condition does not hold. */
  private async conditionalUpdate(run: RunRef, update: ConditionalUpdate): Promise<boolean> {
    return (await this.tryUpdate(run, update, 'NONE')) !== undefined;
  }

  /** The same, returning the whole item after the write (undefined when the condition does not hold). */
  private async updatedRecord(run: RunRef, update: ConditionalUpdate): Promise<JobRecord | undefined> {
    return (await this.tryUpdate(run, update, 'ALL_NEW'))?.Attributes as JobRecord | undefined;
  }

  /** `:runId` is always bound to the run's id; a failed condition answers undefined. */
  private async tryUpdate(
    run: RunRef,
    update: ConditionalUpdate,
    returnValues: 'NONE' | 'ALL_NEW',
  ): Promise<UpdateCommandOutput | undefined> {
    try {
      return await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { VideoId: run.videoId },
          ...update,
          ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':runId': run.runId },
          ReturnValues: returnValues,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }
}

interface ConditionalUpdate {
  readonly UpdateExpression: string;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues: Record<string, unknown>;
}
