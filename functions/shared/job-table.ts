import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './errors';
import {
  type FailedEvent,
  type JobError,
  type JobRecord,
  type JobStatus,
  JOB_LIST_INDEX,
  JOB_STATUS,
  PENDING_ANNOUNCEMENT_INDEX,
  segmentJobKey,
} from '../../pipeline/job-record';
import { REDRIVABLE_ERROR_CODES, RUN_LIFECYCLE, type RunOperation, isFinal } from '../../pipeline/run-lifecycle';

/**
 * The job table, as every function uses it: one item per video (pipeline/job-record.ts), written
 * only through the conditional updates below. Each update names its operation in the run
 * lifecycle (pipeline/run-lifecycle.ts), which supplies the statuses it may start from and the
 * status it leaves; every update is also conditional on the run still being the video's current
 * one. So duplicate, late and out-of-order events are no-ops, and a newer upload always wins.
 *
 * A write that leaves a run COMPLETE or FAILED announces it ("Video Frames Completed" or
 * "Failed", through the OutcomeAnnouncer) and then notes `AnnouncedAt`. If the announcement
 * fails, the function throws and its event is retried; the retry's write finds the run already
 * final but unannounced, and announces it then. Announcements are at least once.
 */

/** One run of one video. */
export interface RunRef {
  readonly videoId: string;
  readonly runId: string;
}

/** Puts a run's outcome event on the bus (functions/shared/outcome-events.ts). */
export interface OutcomeAnnouncer {
  announce(record: JobRecord): Promise<void>;
}

export type ClaimResult =
  | { readonly claimed: true }
  /** The table already holds this run (a redelivery) or a later upload of the key. */
  | { readonly claimed: false; readonly current: JobRecord };

export type SubmissionResult =
  | { readonly recorded: true }
  /** The run was superseded, failed, or already has a job: `current` says which. */
  | { readonly recorded: false; readonly current: JobRecord | undefined };

/** What a finished clip adds to its record. */
export type ClippedAttributes = Required<
  Pick<JobRecord, 'ClipFragments' | 'ClipPieces' | 'ClipFirstProducerTimestamp' | 'ClipTimeline' | 'SourceSize'>
>;

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

/** The job table as the ingress function uses it. */
export interface JobStore {
  get(videoId: string): Promise<JobRecord | undefined>;
  /**
   * Writes the first record of a run unless the table holds the same upload or a later one of the
   * key: S3's sequencer orders uploads of one key, so a late event can never replace a newer run.
   */
  claimRun(record: JobRecord): Promise<ClaimResult>;
  /** Records one segment's MediaConvert job on a SUBMITTED run (once per segment). */
  recordSegmentSubmission(run: RunRef, segment: number, jobId: string, at: string): Promise<SubmissionResult>;
  /**
   * Records the MediaConvert job of a SUBMITTED run that has none yet; `segmented`: segment 0's
   * job once every segment's is recorded (the run may be EXTRACTING or PROCESSING by then).
   */
  recordSubmission(videoId: string, runId: string, jobId: string, at: string, segmented?: boolean): Promise<SubmissionResult>;
  /** CLIPPING → SUBMITTED with what the clip turned out to be; false when another delivery got there first. */
  recordClipped(videoId: string, runId: string, clip: ClippedAttributes, at: string): Promise<boolean>;
  /** CLIPPING or SUBMITTED → FAILED; false when the run is no longer current or in either state. */
  recordFailure(videoId: string, runId: string, error: JobError, at: string): Promise<boolean>;
  /** Notes why a submission is being retried, so the record says what happened meanwhile. */
  recordSubmitRetry(videoId: string, runId: string, error: JobError, at: string): Promise<void>;
  /**
   * FAILED (because the pipeline gave up) → the status it failed from, for a redriven event.
   * `started`: what the ingress would have recorded first (layout, capture settings), set when
   * the record lacks it. Returns the record after the write, or undefined when not redrivable.
   */
  reopenRun(run: RunRef, at: string, started?: Partial<JobRecord>): Promise<JobRecord | undefined>;
}

/** The job table as the completion function, the frame workers and the fan-in use it. */
export interface RunStore {
  get(videoId: string): Promise<JobRecord | undefined>;
  /** EXTRACTING with a higher percentage; false if the run moved on or the percentage is not higher. */
  recordExtractProgress(run: RunRef, jobId: string, percent: number, at: string): Promise<boolean>;
  /** FAILED from SUBMITTED or EXTRACTING (MediaConvert ERROR or CANCELED, a count mismatch). */
  failExtraction(run: RunRef, jobId: string, error: JobError, at: string): Promise<boolean>;
  /** PROCESSING with the frame totals (also finishes a fan-out that stopped halfway). */
  startProcessing(run: RunRef, jobId: string, frames: ExtractedFrames, at: string): Promise<boolean>;
  recordFannedOut(run: RunRef, at: string): Promise<void>;
  /**
   * Segmented runs: one segment job's progress, and ExtractPercent over every segment (computed
   * by the caller from the record it read: best effort, as progress is).
   */
  recordSegmentProgress(run: RunRef, segment: number, jobId: string, percent: { segment: number; overall: number }, at: string): Promise<boolean>;
  /** Segmented runs: FAILED from any status before COMPLETE, for this segment's job only. */
  failSegment(run: RunRef, segment: number, jobId: string, error: JobError, at: string): Promise<boolean>;
  /** Segmented runs: PROCESSING with the run's totals once a segment's frames are counted; false once it was fanned out. */
  startSegment(run: RunRef, segment: number, jobId: string, frames: ExtractedFrames, at: string): Promise<boolean>;
  /** Segmented runs: the segment's batches are all sent; the last segment also sets FannedOutAt and ExtractedAt. */
  recordSegmentFannedOut(run: RunRef, segment: number, at: string): Promise<void>;
  /** Counts one batch exactly once: `ADD` under `NOT contains(DoneBatches, batch)`. */
  countBatch(run: RunRef, batch: number, processed: number, failed: number, at: string): Promise<BatchCount>;
  /** Takes the fan-in lease if nobody holds a live one; returns the record, or undefined. */
  claimFanIn(run: RunRef, now: Date, leaseMs: number): Promise<JobRecord | undefined>;
  completeRun(run: RunRef, results: ResultsLocation, at: string): Promise<boolean>;
  /** FAILED from PROCESSING: the results could not be written. */
  failProcessing(run: RunRef, error: JobError, at: string): Promise<boolean>;
}

/** What the failure queues' consumer and the sweeper do to runs the pipeline gave up on. */
export interface RunRepairs {
  get(videoId: string): Promise<JobRecord | undefined>;
  /** `onlyIfAbsent`: only when the table holds nothing for the video (no sequencer to order by). */
  claimRun(record: JobRecord, options?: { readonly onlyIfAbsent?: boolean }): Promise<ClaimResult>;
  /**
   * A running run → FAILED, only if it is still in `from` (the status the caller read) and, when
   * `readAt` is given, unchanged since (its UpdatedAt), keeping that status as `FailedFrom` and,
   * when given, the event that failed.
   */
  abandonRun(run: RunRef, from: JobStatus, error: JobError, at: string, failedEvent?: FailedEvent, readAt?: string): Promise<boolean>;
  /** Keeps an event on a FAILED run that has none (an event that arrived after the run was ended). */
  keepFailedEvent(run: RunRef, failedEvent: FailedEvent): Promise<boolean>;
  /** Notes what the sweeper is doing to a running run, counting the attempt; false when it moved on. */
  recordSwept(run: RunRef, from: JobStatus, action: string, at: string): Promise<boolean>;
  /** Asks the sweeper to repair a running run on its next pass, keeping the event that failed and why. */
  requestRepair(run: RunRef, failedEvent: FailedEvent, at: string): Promise<boolean>;
  /** Video ids of runs in `status` created before `before`, oldest first, through the ByStatus index (never a scan). */
  runsCreatedBefore(status: JobStatus, before: string, limit: number): Promise<string[]>;
  /** Video ids of final runs whose outcome event is not on the bus, last written before `before` (PendingAnnouncement index). */
  runsPendingAnnouncement(before: string, limit: number): Promise<string[]>;
  /** Announces a final run's outcome if it is still pending; true when it announced. */
  announcePending(videoId: string): Promise<boolean>;
}

/** Values and extra conditions an update adds to its lifecycle condition. */
interface RunUpdate {
  readonly set?: Readonly<Record<string, unknown>>;
  /** `SET name = if_not_exists(name, value)`. */
  readonly setIfAbsent?: Readonly<Record<string, unknown>>;
  readonly add?: Readonly<Record<string, unknown>>;
  readonly remove?: readonly string[];
  /** Further SET clauses on nested paths (`#SegmentJobs.#Segment3 = :job`); values in `values`. */
  readonly setPaths?: readonly string[];
  /** A further condition; placeholders are `#Name` for attributes and `:name` for `values`. */
  readonly condition?: string;
  readonly values?: Readonly<Record<string, unknown>>;
  /** Narrows the lifecycle's starting statuses (e.g. to the status a caller read). */
  readonly from?: readonly JobStatus[];
}

/** Attributes the updates name: each gets the placeholder `#<name>` (Status and Error are reserved words). */
const ATTRIBUTE = /#([A-Za-z][A-Za-z0-9]*)/g;

export class DynamoJobTable implements JobStore, RunStore, RunRepairs {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Absent in tools that only read; every function that finishes runs has one. */
    private readonly announcer?: OutcomeAnnouncer,
  ) {}

  async get(videoId: string): Promise<JobRecord | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { VideoId: videoId }, ConsistentRead: true }),
    );
    return Item as JobRecord | undefined;
  }

  async claimRun(record: JobRecord, options: { readonly onlyIfAbsent?: boolean } = {}): Promise<ClaimResult> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.firstItem(record),
          ...(options.onlyIfAbsent
            ? { ConditionExpression: 'attribute_not_exists(VideoId)' }
            : {
                // `RunId <> :runId`: a redelivered clip request is the same run even though its
                // sequencer (the time it was received) is later; uploads repeat their sequencer anyway.
                ConditionExpression: 'attribute_not_exists(VideoId) OR (SourceSequencer < :sequencer AND RunId <> :runId)',
                ExpressionAttributeValues: { ':sequencer': record.SourceSequencer, ':runId': record.RunId },
              }),
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const current = await this.get(record.VideoId);
      // Deleted between the two calls: nothing to protect any more, so claim again.
      if (!current) return this.claimRun(record, options);
      if (current.RunId === record.RunId) await this.announceIfPending(current, current.Status);
      return { claimed: false, current };
    }
    // A run rejected at once (its input cannot be used) is final from its first write.
    if (isFinal(record.Status)) await this.announce(record);
    return { claimed: true };
  }

  /** The item as first written: a final one is pending its announcement (PENDING_ANNOUNCEMENT_INDEX). */
  private firstItem(record: JobRecord): JobRecord {
    return isFinal(record.Status) && !record.AnnouncedAt ? { ...record, AnnouncePending: 'PENDING' } : record;
  }

  async recordSubmission(videoId: string, runId: string, jobId: string, at: string, segmented = false): Promise<SubmissionResult> {
    const recorded = await this.write({ videoId, runId }, segmented ? 'recordSegmentJob' : 'recordSubmission', {
      set: { MediaConvertJobId: jobId, SubmittedAt: at, UpdatedAt: at },
      remove: ['LastSubmitError'],
      condition: 'attribute_not_exists(#MediaConvertJobId)',
    });
    return recorded ? { recorded: true } : { recorded: false, current: await this.get(videoId) };
  }

  async recordSegmentSubmission(run: RunRef, segment: number, jobId: string, at: string): Promise<SubmissionResult> {
    const recorded = await this.write(run, 'recordSegmentJob', {
      set: { UpdatedAt: at },
      setPaths: [`#SegmentJobs.#${segmentJobKey(segment)} = :jobId`],
      remove: ['LastSubmitError'],
      condition: `attribute_not_exists(#MediaConvertJobId) AND attribute_not_exists(#SegmentJobs.#${segmentJobKey(segment)})`,
      values: { ':jobId': jobId },
    });
    const current = recorded ? undefined : await this.get(run.videoId);
    return recorded || current?.SegmentJobs?.[segmentJobKey(segment)] === jobId ? { recorded: true } : { recorded: false, current };
  }

  async recordClipped(videoId: string, runId: string, clip: ClippedAttributes, at: string): Promise<boolean> {
    return this.wrote(
      await this.write({ videoId, runId }, 'recordClipped', { set: { ...clip, ClippedAt: at, UpdatedAt: at }, remove: ['LastSubmitError'] }),
    );
  }

  async recordFailure(videoId: string, runId: string, error: JobError, at: string): Promise<boolean> {
    return this.wrote(
      await this.write({ videoId, runId }, 'failSubmission', { set: { Error: error, UpdatedAt: at, CompletedAt: at }, remove: ['LastSubmitError'] }),
    );
  }

  async recordSubmitRetry(videoId: string, runId: string, error: JobError, at: string): Promise<void> {
    await this.write({ videoId, runId }, 'recordSubmitRetry', {
      set: { LastSubmitError: error, UpdatedAt: at },
      condition: 'attribute_not_exists(#MediaConvertJobId)',
    });
  }

  async reopenRun(run: RunRef, at: string, started: Partial<JobRecord> = {}): Promise<JobRecord | undefined> {
    const current = await this.get(run.videoId);
    if (current?.RunId !== run.runId || !current.FailedFrom) return undefined;
    const codes = Object.fromEntries(REDRIVABLE_ERROR_CODES.map((code, index) => [`:redrivable${index}`, code]));
    // A run recorded by the failed-events function (its ingress failed before the first write)
    // has no layout or capture settings yet: the resuming ingress gives them.
    const missing = current.RunPrefix ? {} : started;
    return this.write(run, 'reopenRun', {
      set: { ...missing, Status: current.FailedFrom, UpdatedAt: at, RedrivenAt: at },
      // FailedEvent stays: if the resumed run fails again, it is what is kept again. A resumed
      // fan-out may send its batches again (FannedOutAt goes; counted batches stay counted).
      remove: [
        'Error',
        'FailedFrom',
        'AnnouncedAt',
        'AnnouncePending',
        'CompletedAt',
        'LastSubmitError',
        'FanInLeaseUntil',
        'FannedOutAt',
        // A segmented run's segments are fanned out again the same way, each from its COMPLETE.
        'FannedOutSegments',
        'SweepAttempts',
        'RepairRequestedAt',
        'LastError',
      ],
      condition: `#FailedFrom = :failedFrom AND #Error.#Code IN (${Object.keys(codes).join(', ')})`,
      values: { ':failedFrom': current.FailedFrom, ...codes },
    });
  }

  async recordExtractProgress(run: RunRef, jobId: string, percent: number, at: string): Promise<boolean> {
    return this.wrote(
      await this.write(run, 'recordExtractProgress', {
        set: { ExtractPercent: percent, UpdatedAt: at },
        setIfAbsent: { MediaConvertJobId: jobId },
        condition: `${OUR_JOB} AND (attribute_not_exists(#ExtractPercent) OR #ExtractPercent < :percent)`,
        values: { ':jobId': jobId, ':percent': percent },
      }),
    );
  }

  async failExtraction(run: RunRef, jobId: string, error: JobError, at: string): Promise<boolean> {
    return this.wrote(
      await this.write(run, 'failExtraction', {
        set: { Error: error, UpdatedAt: at, CompletedAt: at },
        setIfAbsent: { MediaConvertJobId: jobId },
        condition: OUR_JOB,
        values: { ':jobId': jobId },
      }),
    );
  }

  async startProcessing(run: RunRef, jobId: string, frames: ExtractedFrames, at: string): Promise<boolean> {
    const measured = Object.fromEntries(
      Object.entries({ FrameWidth: frames.frameWidth, FrameHeight: frames.frameHeight, DurationMs: frames.durationMs }).filter(
        ([, value]) => value !== undefined,
      ),
    );
    return this.wrote(
      await this.write(run, 'startProcessing', {
        set: {
          ExtractPercent: 100,
          TotalFrames: frames.totalFrames,
          FramesPerBatch: frames.framesPerBatch,
          BatchCount: frames.batchCount,
          UpdatedAt: at,
          ...measured,
        },
        setIfAbsent: { ProcessedFrames: 0, FailedFrames: 0, ExtractedAt: at, MediaConvertJobId: jobId },
        // From PROCESSING only while the fan-out is unfinished.
        condition: `${OUR_JOB} AND (#Status <> :processing OR attribute_not_exists(#FannedOutAt))`,
        values: { ':jobId': jobId, ':processing': JOB_STATUS.processing },
      }),
    );
  }

  async recordFannedOut(run: RunRef, at: string): Promise<void> {
    await this.write(run, 'recordFannedOut', { set: { UpdatedAt: at }, setIfAbsent: { FannedOutAt: at } });
  }

  async recordSegmentProgress(run: RunRef, segment: number, jobId: string, percent: { segment: number; overall: number }, at: string): Promise<boolean> {
    const key = segmentJobKey(segment);
    return this.wrote(
      await this.write(run, 'recordExtractProgress', {
        set: { ExtractPercent: percent.overall, UpdatedAt: at },
        setPaths: [`#SegmentPercents.#${key} = :percent`],
        condition: `${segmentJob(segment)} AND (attribute_not_exists(#SegmentPercents.#${key}) OR #SegmentPercents.#${key} < :percent)`,
        values: { ':jobId': jobId, ':percent': percent.segment },
      }),
    );
  }

  async failSegment(run: RunRef, segment: number, jobId: string, error: JobError, at: string): Promise<boolean> {
    return this.wrote(
      await this.write(run, 'failSegment', {
        set: { Error: error, CompletedAt: at, UpdatedAt: at },
        remove: ['FanInLeaseUntil'],
        condition: segmentJob(segment),
        values: { ':jobId': jobId },
      }),
    );
  }

  async startSegment(run: RunRef, segment: number, jobId: string, frames: ExtractedFrames, at: string): Promise<boolean> {
    const measured = Object.fromEntries(
      Object.entries({ FrameWidth: frames.frameWidth, FrameHeight: frames.frameHeight }).filter(([, value]) => value !== undefined),
    );
    return this.wrote(
      await this.write(run, 'startProcessing', {
        set: { TotalFrames: frames.totalFrames, FramesPerBatch: frames.framesPerBatch, BatchCount: frames.batchCount, UpdatedAt: at, ...measured },
        setIfAbsent: { ProcessedFrames: 0, FailedFrames: 0, FirstFramesAt: at },
        // Until this segment is fanned out: a repeated COMPLETE finishes a fan-out that stopped halfway.
        condition: `${segmentJob(segment)} AND NOT contains(#FannedOutSegments, :segment)`,
        values: { ':jobId': jobId, ':segment': segment },
      }),
    );
  }

  async recordSegmentFannedOut(run: RunRef, segment: number, at: string): Promise<void> {
    const record = await this.write(run, 'recordFannedOut', { set: { UpdatedAt: at }, add: { FannedOutSegments: new Set([segment]) } });
    if (record && (record.FannedOutSegments?.size ?? 0) >= (record.Segments?.length ?? 0)) {
      // Every segment is out: the run is fanned out as a one-job run is, and its extraction is over.
      await this.write(run, 'recordFannedOut', { set: { ExtractPercent: 100, UpdatedAt: at }, setIfAbsent: { FannedOutAt: at, ExtractedAt: at } });
    }
  }

  async countBatch(run: RunRef, batch: number, processed: number, failed: number, at: string): Promise<BatchCount> {
    const counted = await this.write(run, 'countBatch', {
      add: { ProcessedFrames: processed, FailedFrames: failed, DoneBatches: new Set([batch]) },
      set: { UpdatedAt: at },
      condition: 'NOT contains(#DoneBatches, :batch)',
      values: { ':batch': batch },
    });
    if (counted) return { state: 'counted', record: counted };
    const record = await this.get(run.videoId);
    const before = record?.RunId === run.runId && record.DoneBatches?.has(batch) === true;
    return before ? { state: 'already-counted', record } : { state: 'not-current', record };
  }

  claimFanIn(run: RunRef, now: Date, leaseMs: number): Promise<JobRecord | undefined> {
    return this.write(run, 'claimFanIn', {
      set: { FanInLeaseUntil: new Date(now.getTime() + leaseMs).toISOString(), UpdatedAt: now.toISOString() },
      setIfAbsent: { FanInStartedAt: now.toISOString() },
      condition: '(attribute_not_exists(#FanInLeaseUntil) OR #FanInLeaseUntil < :now)',
      values: { ':now': now.toISOString() },
    });
  }

  async completeRun(run: RunRef, results: ResultsLocation, at: string): Promise<boolean> {
    return this.wrote(
      await this.write(run, 'completeRun', {
        set: { ResultsBucket: results.bucket, ResultsKey: results.resultsKey, SummaryKey: results.summaryKey, CompletedAt: at, UpdatedAt: at },
        remove: ['FanInLeaseUntil'],
      }),
    );
  }

  async failProcessing(run: RunRef, error: JobError, at: string): Promise<boolean> {
    return this.wrote(
      await this.write(run, 'failProcessing', { set: { Error: error, CompletedAt: at, UpdatedAt: at }, remove: ['FanInLeaseUntil'] }),
    );
  }

  async abandonRun(run: RunRef, from: JobStatus, error: JobError, at: string, failedEvent?: FailedEvent, readAt?: string): Promise<boolean> {
    return this.wrote(
      await this.write(run, 'abandonRun', {
        set: { Error: error, FailedFrom: from, CompletedAt: at, UpdatedAt: at, ...(failedEvent ? { FailedEvent: failedEvent } : {}) },
        remove: ['FanInLeaseUntil', 'LastSubmitError'],
        from: [from],
        ...(readAt ? { condition: '#UpdatedAt = :readAt', values: { ':readAt': readAt } } : {}),
      }),
    );
  }

  async keepFailedEvent(run: RunRef, failedEvent: FailedEvent): Promise<boolean> {
    return this.wrote(await this.write(run, 'keepFailedEvent', { set: { FailedEvent: failedEvent }, condition: 'attribute_not_exists(#FailedEvent)' }));
  }

  async recordSwept(run: RunRef, from: JobStatus, action: string, at: string): Promise<boolean> {
    return this.wrote(
      await this.write(run, 'recordSwept', {
        set: { SweptAt: at, SweptAction: action },
        add: { SweepAttempts: 1 },
        remove: ['RepairRequestedAt'],
        from: [from],
      }),
    );
  }

  async requestRepair(run: RunRef, failedEvent: FailedEvent, at: string): Promise<boolean> {
    return this.wrote(
      await this.write(run, 'requestRepair', {
        set: { RepairRequestedAt: at, FailedEvent: failedEvent, LastError: failedEvent.error ?? '' },
      }),
    );
  }

  runsCreatedBefore(status: JobStatus, before: string, limit: number): Promise<string[]> {
    return this.oldestInIndex(JOB_LIST_INDEX, status, before, limit);
  }

  runsPendingAnnouncement(before: string, limit: number): Promise<string[]> {
    return this.oldestInIndex(PENDING_ANNOUNCEMENT_INDEX, 'PENDING', before, limit);
  }

  /** Video ids in one partition of a keys-only index whose sort key is before `before`, oldest first. */
  private async oldestInIndex(
    index: { readonly name: string; readonly partitionKey: string; readonly sortKey: string },
    partition: string,
    before: string,
    limit: number,
  ): Promise<string[]> {
    const { Items = [] } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: '#partition = :partition AND #sort < :before',
        ExpressionAttributeNames: { '#partition': index.partitionKey, '#sort': index.sortKey },
        ExpressionAttributeValues: { ':partition': partition, ':before': before },
        ScanIndexForward: true,
        Limit: limit,
      }),
    );
    return Items.map((item) => String(item.VideoId));
  }

  async announcePending(videoId: string): Promise<boolean> {
    const record = await this.get(videoId);
    if (!record || !isFinal(record.Status) || record.AnnouncedAt) return false;
    await this.announce(record);
    return true;
  }

  /**
   * The one update core: an UpdateItem on the run's item, conditional on the run being current
   * and in a status its operation may start from (the lifecycle's `from`, or the caller's
   * narrower one), and moving it to the lifecycle's `to`. Returns the item after the write, or
   * undefined when the condition does not hold. A write that makes the run final announces it.
   */
  private async write(run: RunRef, operation: RunOperation, update: RunUpdate): Promise<JobRecord | undefined> {
    const transition = RUN_LIFECYCLE[operation];
    const to: JobStatus | undefined = 'to' in transition ? transition.to : undefined;
    // A caller's narrower statuses never widen the lifecycle's.
    const from = (update.from ?? transition.from).filter((status) => (transition.from as readonly JobStatus[]).includes(status));
    if (from.length === 0) return undefined;
    // A final write leaves the run pending its announcement until the announcement notes itself.
    const set = { ...update.set, ...(to ? { Status: to } : {}), ...(to && isFinal(to) ? { AnnouncePending: 'PENDING' } : {}) };
    const values: Record<string, unknown> = { ...update.values, ':runId': run.runId };
    from.forEach((status, index) => (values[`:from${index}`] = status));
    const assignments = [
      ...Object.entries(set).map(([name, value]) => ((values[`:set${name}`] = value), `#${name} = :set${name}`)),
      ...Object.entries(update.setIfAbsent ?? {}).map(
        ([name, value]) => ((values[`:init${name}`] = value), `#${name} = if_not_exists(#${name}, :init${name})`),
      ),
      ...(update.setPaths ?? []),
    ];
    const additions = Object.entries(update.add ?? {}).map(([name, value]) => ((values[`:add${name}`] = value), `#${name} :add${name}`));
    const expression = [
      assignments.length > 0 ? `SET ${assignments.join(', ')}` : '',
      additions.length > 0 ? `ADD ${additions.join(', ')}` : '',
      update.remove?.length ? `REMOVE ${update.remove.map((name) => `#${name}`).join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    const condition = [
      '#RunId = :runId',
      `#Status IN (${from.map((_, index) => `:from${index}`).join(', ')})`,
      ...(update.condition ? [update.condition] : []),
    ].join(' AND ');
    const names = Object.fromEntries(
      [...`${expression} ${condition}`.matchAll(ATTRIBUTE)].map(([placeholder, name]) => [placeholder, name]),
    );

    let output: UpdateCommandOutput;
    try {
      output = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { VideoId: run.videoId },
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // A retried final write: the run is final already, perhaps not yet announced.
      if (to && isFinal(to)) {
        const current = await this.get(run.videoId);
        if (current?.RunId === run.runId) await this.announceIfPending(current, to);
      }
      return undefined;
    }
    const record = output.Attributes as JobRecord;
    if (to && isFinal(to)) await this.announce(record);
    return record;
  }

  private wrote(record: JobRecord | undefined): boolean {
    return record !== undefined;
  }

  private async announceIfPending(current: JobRecord, status: JobStatus): Promise<void> {
    if (current.Status === status && isFinal(status) && !current.AnnouncedAt) await this.announce(current);
  }

  /** Puts the outcome event on the bus, then notes it; a second announcer finds AnnouncedAt set. */
  private async announce(record: JobRecord): Promise<void> {
    if (!this.announcer) return;
    await this.announcer.announce(record);
    const at = new Date().toISOString();
    await this.write({ videoId: record.VideoId, runId: record.RunId }, 'recordAnnounced', {
      setIfAbsent: { AnnouncedAt: at },
      remove: ['AnnouncePending'],
      from: [record.Status],
    });
  }
}

/**
 * An event belongs to the job recorded for its run (or to the run's first job when the ingress
 * function has not recorded one yet).
 */
const OUR_JOB = '(attribute_not_exists(#MediaConvertJobId) OR #MediaConvertJobId = :jobId)';
/** The event's job is the one recorded for this segment of a segmented run. */
const segmentJob = (segment: number) => `#SegmentJobs.#${segmentJobKey(segment)} = :jobId`;
