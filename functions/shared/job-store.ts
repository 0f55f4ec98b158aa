import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './errors';
import { type JobError, type JobRecord, JOB_STATUS } from '../../pipeline/job-record';

export type ClaimResult =
  | { readonly claimed: true }
  /** The table already holds this run (a redelivery) or a later upload of the key. */
  | { readonly claimed: false; readonly current: JobRecord };

export type SubmissionResult =
  | { readonly recorded: true }
  /** The run was superseded, failed, or already has a job: `current` says which. */
  | { readonly recorded: false; readonly current: JobRecord | undefined };

/** The job table, as the ingress function uses it. Every write is conditional. */
export interface JobStore {
  /**
   * Writes the first record of a run unless the table holds the same upload or a later one of the
   * key: S3's sequencer orders uploads of one key, so a late event can never replace a newer run.
   */
  claimRun(record: JobRecord): Promise<ClaimResult>;
  /** Records the MediaConvert job of a SUBMITTED run that has none yet. */
  recordSubmission(videoId: string, runId: string, jobId: string, at: string): Promise<SubmissionResult>;
  /**
   * Moves a CLIPPING run to SUBMITTED with what the clip turned out to be. Returns false when the
   * run is no longer current or no longer CLIPPING (another delivery got there first).
   */
  recordClipped(videoId: string, runId: string, clip: ClippedAttributes, at: string): Promise<boolean>;
  /** Moves a CLIPPING or SUBMITTED run to FAILED. Returns false when the run is no longer current or in either state. */
  recordFailure(videoId: string, runId: string, error: JobError, at: string): Promise<boolean>;
  /** Notes why a submission is being retried, so the record says what happened meanwhile. */
  recordSubmitRetry(videoId: string, runId: string, error: JobError, at: string): Promise<void>;
  get(videoId: string): Promise<JobRecord | undefined>;
}

/** What a finished clip adds to its record. */
export type ClippedAttributes = Required<
  Pick<JobRecord, 'ClipFragments' | 'ClipPieces' | 'ClipFirstProducerTimestamp' | 'ClipTimeline' | 'SourceSize'>
>;

export class DynamoJobStore implements JobStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claimRun(record: JobRecord): Promise<ClaimResult> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: record,
          // `RunId <> :runId`: a redelivered clip request is the same run even though its
          // sequencer (the time it was received) is later; uploads repeat their sequencer anyway.
          ConditionExpression: 'attribute_not_exists(VideoId) OR (SourceSequencer < :sequencer AND RunId <> :runId)',
          ExpressionAttributeValues: { ':sequencer': record.SourceSequencer, ':runId': record.RunId },
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const current = await this.get(record.VideoId);
      // Deleted between the two calls: nothing to protect any more, so claim again.
      if (!current) return this.claimRun(record);
      return { claimed: false, current };
    }
  }

  async recordSubmission(
    videoId: string,
    runId: string,
    jobId: string,
    at: string,
  ): Promise<SubmissionResult> {
    const recorded = await this.updateIf({
      Key: { VideoId: videoId },
      UpdateExpression: 'SET MediaConvertJobId = :jobId, SubmittedAt = :at, UpdatedAt = :at REMOVE LastSubmitError',
      ConditionExpression: 'RunId = :runId AND #status = :submitted AND attribute_not_exists(MediaConvertJobId)',
      ExpressionAttributeNames: { '#status': 'Status' },
      ExpressionAttributeValues: { ':jobId': jobId, ':at': at, ':runId': runId, ':submitted': JOB_STATUS.submitted },
    });
    return recorded ? { recorded: true } : { recorded: false, current: await this.get(videoId) };
  }

  recordClipped(videoId: string, runId: string, clip: ClippedAttributes, at: string): Promise<boolean> {
    return this.updateIf({
      Key: { VideoId: videoId },
      UpdateExpression:
        'SET #status = :submitted, ClipFragments = :fragments, ClipPieces = :pieces, ' +
        'ClipFirstProducerTimestamp = :first, ClipTimeline = :timeline, SourceSize = :size, ' +
        'ClippedAt = :at, UpdatedAt = :at REMOVE LastSubmitError',
      ConditionExpression: 'RunId = :runId AND #status = :clipping',
      ExpressionAttributeNames: { '#status': 'Status' },
      ExpressionAttributeValues: {
        ':submitted': JOB_STATUS.submitted,
        ':clipping': JOB_STATUS.clipping,
        ':fragments': clip.ClipFragments,
        ':pieces': clip.ClipPieces,
        ':first': clip.ClipFirstProducerTimestamp,
        ':timeline': clip.ClipTimeline,
        ':size': clip.SourceSize,
        ':at': at,
        ':runId': runId,
      },
    });
  }

  recordFailure(videoId: string, runId: string, failure: JobError, at: string): Promise<boolean> {
    return this.updateIf({
      Key: { VideoId: videoId },
      UpdateExpression: 'SET #status = :failed, #error = :error, UpdatedAt = :at REMOVE LastSubmitError',
      ConditionExpression: 'RunId = :runId AND #status IN (:clipping, :submitted)',
      ExpressionAttributeNames: { '#status': 'Status', '#error': 'Error' },
      ExpressionAttributeValues: {
        ':failed': JOB_STATUS.failed,
        ':error': failure,
        ':at': at,
        ':runId': runId,
        ':clipping': JOB_STATUS.clipping,
        ':submitted': JOB_STATUS.submitted,
      },
    });
  }

  async recordSubmitRetry(videoId: string, runId: string, failure: JobError, at: string): Promise<void> {
    await this.updateIf({
      Key: { VideoId: videoId },
      UpdateExpression: 'SET LastSubmitError = :error, UpdatedAt = :at',
      ConditionExpression: 'RunId = :runId AND attribute_not_exists(MediaConvertJobId)',
      ExpressionAttributeValues: { ':error': failure, ':at': at, ':runId': runId },
    });
  }

  /** A conditional update of the job table: false when the record was not in the expected state. */
  private async updateIf(input: Omit<UpdateCommandInput, 'TableName'>): Promise<boolean> {
    try {
      await this.documents.send(new UpdateCommand({ TableName: this.tableName, ...input }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async get(videoId: string): Promise<JobRecord | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { VideoId: videoId }, ConsistentRead: true }),
    );
    return Item as JobRecord | undefined;
  }
}
