import type { ClipSegment } from './clip-timeline';

/**
 * The job record contract (ARCHITECTURE.md, "Job record"): one item per video in the job table,
 * hash key `VideoId`. Functions write it; the CLI and users read it.
 */

/** The job table's partition key: the stack, local mode and the CLI create and read it by this. */
export const JOB_TABLE_KEY = 'VideoId';

/**
 * The job table's one index, for `frames list`: runs by status, newest first (`CreatedAt` is set
 * when a run is claimed). Keys only: the index is written when a run is created and when its status
 * changes (a handful of writes a run), never by the per-batch counters; the CLI reads the listed
 * records themselves with BatchGetItem. The stack (modules/job-table.ts) and local mode
 * (local/dynamo-server.ts) both create it from this.
 */
export const JOB_LIST_INDEX = { name: 'ByStatus', partitionKey: 'Status', sortKey: 'CreatedAt' } as const;

/**
 * The runs whose outcome event is not yet on the bus: a sparse, keys-only index over
 * `AnnouncePending`, which a final write sets and the announcement removes. The sweeper announces
 * what it finds there (a function that ended a run and then failed to announce it may never come
 * back to that run), so an outcome event is never lost.
 */
export const PENDING_ANNOUNCEMENT_INDEX = { name: 'PendingAnnouncement', partitionKey: 'AnnouncePending', sortKey: 'UpdatedAt' } as const;

/** Every index of the job table; the stack and local mode create them from this. */
export const JOB_TABLE_INDEXES = [JOB_LIST_INDEX, PENDING_ANNOUNCEMENT_INDEX] as const;

export const JOB_STATUS = {
  clipping: 'CLIPPING',
  submitted: 'SUBMITTED',
  extracting: 'EXTRACTING',
  processing: 'PROCESSING',
  complete: 'COMPLETE',
  failed: 'FAILED',
} as const;

export type JobStatus = (typeof JOB_STATUS)[keyof typeof JOB_STATUS];

/**
 * Stable error codes written to `Error.Code`. Scripts may branch on them; never rename one.
 * Each is paired with a message that tells a person what to do.
 */
export const ERROR_CODE = {
  /** The object key has no usable file name (e.g. `.mp4`, or a control character). */
  invalidKey: 'INVALID_KEY',
  /** An fps, quality or max-captures metadata override is malformed or out of range. */
  invalidOverride: 'INVALID_OVERRIDE',
  /** The uploaded object has zero bytes. */
  emptyObject: 'EMPTY_OBJECT',
  /** The object was deleted before its job could be submitted. */
  sourceNotFound: 'SOURCE_NOT_FOUND',
  /** MediaConvert refused the job (BadRequest): the settings or the input are not acceptable. */
  mediaConvertRejected: 'MEDIACONVERT_REJECTED',
  /** MediaConvert failed the job (ERROR event); `ServiceCode` holds its numeric error code. */
  mediaConvertError: 'MEDIACONVERT_ERROR',
  /** The MediaConvert job was canceled (by a person, or by the service) before it finished. */
  mediaConvertCanceled: 'MEDIACONVERT_CANCELED',
  /** The frames in S3 do not match the count MediaConvert reported: the run's frames can't be trusted. */
  frameCountMismatch: 'FRAME_COUNT_MISMATCH',
  /** A segment's job event came before the ingress recorded the job: retried. */
  segmentNotRecorded: 'SEGMENT_NOT_RECORDED',
  /**
   * MediaConvert completed, but none of its output paths is a frame capture this run can read
   * (`<base name><name modifier>.NNNNNNN.jpg` under the run's frames prefix): the frames cannot be
   * counted, so the run is not completed empty.
   */
  frameOutputUnrecognised: 'FRAME_OUTPUT_UNRECOGNISED',
  /** Every frame was processed or counted as failed, but the results could not be written. */
  fanInFailed: 'FAN_IN_FAILED',
  /** A clip request is malformed: bad stream name, times, order or a range over 24 hours. */
  invalidClipRequest: 'INVALID_CLIP_REQUEST',
  /** Kinesis Video Streams refused the clip; `ServiceCode` holds its error name. */
  kvsError: 'KVS_ERROR',
  /** The stream has no fragments in the requested range (by the requested timestamp type). */
  clipEmpty: 'CLIP_EMPTY',
  /** The range needs more GetClip pieces than MediaConvert stitches in one job. */
  clipTooLong: 'CLIP_TOO_LONG',
  /** GetClip returned less than the fragments it was asked for: the clip would be partial. */
  clipIncomplete: 'CLIP_INCOMPLETE',

  // The pipeline gave up (`frames redrive` may send these runs back: pipeline/run-lifecycle.ts).
  /**
   * The run's event failed every retry of its function (the failure queues' consumer recorded
   * it); `FailedEvent` keeps the event for `frames redrive`.
   */
  retriesExhausted: 'RETRIES_EXHAUSTED',
  /** The sweeper found the run in a running state with nothing left that would move it on. */
  runStalled: 'RUN_STALLED',
  /**
   * A clip request too malformed to name a video failed every retry: recorded under
   * `unattributed/<message id>` so `frames list` shows it.
   */
  malformedEvent: 'MALFORMED_EVENT',

  // Kept on the record while a retry is under way (`LastSubmitError`), never final.
  /** Submitting to MediaConvert failed unexpectedly; the event is being retried. */
  submitRetrying: 'SUBMIT_RETRYING',
  /** Pulling a KVS clip failed unexpectedly; the event is being retried. */
  clipRetrying: 'CLIP_RETRYING',

  // Errors the functions throw (so their event or message is retried); logged with the code.
  /** An event of a shape the function does not handle (not an upload, clip request or job state). */
  unrecognisedEvent: 'UNRECOGNISED_EVENT',
  /** A frame queue message that is not a frame batch of a supported version. */
  unreadableMessage: 'UNREADABLE_MESSAGE',
  /** Sending a frame batch message failed. */
  fanOutFailed: 'FAN_OUT_FAILED',
  /** A fan-in started on a run whose frames are not all counted. */
  fanInNotReady: 'FAN_IN_NOT_READY',
  /** The batch results hold fewer lines than the run has frames. */
  resultsIncomplete: 'RESULTS_INCOMPLETE',
  /** A counted batch has no results object. */
  batchResultsMissing: 'BATCH_RESULTS_MISSING',
  /** A record without a RunPrefix: not written by this pipeline's ingress function. */
  runPrefixMissing: 'RUN_PREFIX_MISSING',
  /** The processor's output cannot be written as JSON. */
  outputNotSerialisable: 'OUTPUT_NOT_SERIALISABLE',
  /** The job template and the values given to it do not match. */
  templateInvalid: 'TEMPLATE_INVALID',
  /** An AWS service answered without a field it always sends. */
  unexpectedResponse: 'UNEXPECTED_RESPONSE',
  /** The function was deployed without a setting it needs. */
  configuration: 'CONFIGURATION',
} as const;

export type ErrorCode = (typeof ERROR_CODE)[keyof typeof ERROR_CODE];

export interface JobError {
  readonly Code: string;
  readonly Message: string;
  /** The upstream service's own error code, when there is one (MediaConvert's are numbers). */
  readonly ServiceCode?: number | string;
}

/** The attributes of one video's record: the ingress function writes the first ones, later stages the rest. */
/** The key of a segment's job in SegmentJobs (a name DynamoDB paths can hold: `Segment3`). */
export const segmentJobKey = (segment: number) => `Segment${segment}`;

/** One segment of a segmented run, as planned by the ingress (pipeline/segment-plan.ts). */
export interface RunSegment {
  readonly FirstCapture: number;
  readonly Captures: number;
  /** The source frames its input clipping takes: [FirstSourceFrame, EndSourceFrame). */
  readonly FirstSourceFrame: number;
  readonly EndSourceFrame: number;
  readonly FirstBatch: number;
  readonly BatchCount: number;
}

export interface JobRecord {
  readonly VideoId: string;
  readonly RunId: string;
  readonly Status: JobStatus;
  /** The uploaded object; for a KVS clip, the ingress bucket and the prefix its pieces are under. */
  readonly SourceBucket: string;
  readonly SourceKey: string;
  /** The upload's ETag; absent for KVS clips (their pieces are written by the pipeline itself). */
  readonly SourceETag?: string;
  readonly SourceSize?: number;
  /** S3's event sequencer, right-padded so later uploads of the key compare greater. */
  readonly SourceSequencer: string;
  readonly SourceVersionId?: string;
  /** KVS clips: the stream as requested (name or ARN), the range and the timestamp type it selects by. */
  readonly SourceStream?: string;
  readonly ClipStart?: string;
  readonly ClipEnd?: string;
  readonly ClipTimestampType?: string;
  /** KVS clips: fragments in the range, and GetClip pieces (MediaConvert inputs) they were pulled in. */
  readonly ClipFragments?: number;
  readonly ClipPieces?: number;
  /** KVS clips: the producer timestamp (ISO) of the clip's first frame. */
  readonly ClipFirstProducerTimestamp?: string;
  /** KVS clips: where each gap-free stretch of the stream starts in the clip (pipeline/clip-timeline.ts). */
  readonly ClipTimeline?: readonly ClipSegment[];
  readonly ClippedAt?: string;
  /** Prefix of everything this run stores, in the frames and the egress bucket (pipeline/run-layout.ts). */
  readonly RunPrefix?: string;
  /** Prefix under the frames bucket that holds this run's JPEGs (and nothing else). */
  readonly FramesPrefix?: string;
  readonly ProxyPrefix?: string;
  readonly FpsNumerator?: number;
  readonly FpsDenominator?: number;
  readonly Quality?: number;
  readonly MaxCaptures?: number;
  /**
   * The run's MediaConvert job; for a segmented run, segment 0's, written once every segment's
   * job is recorded in SegmentJobs (until then the ingress still has jobs to submit).
   */
  readonly MediaConvertJobId?: string;
  /**
   * How the frame capture was split (pipeline/segment-plan.ts): absent or empty for one job.
   * Segment s captures run-wide indices [FirstCapture, FirstCapture + Captures), written by its
   * own job under `<FramesPrefix>segment-SS/`, and sends batches [FirstBatch, FirstBatch + BatchCount).
   */
  readonly Segments?: readonly RunSegment[];
  /** Segmented runs: the video's frame rate, which the input clippings' timecodes count frames at. */
  readonly SourceRateNumerator?: number;
  readonly SourceRateDenominator?: number;
  /** Why the run is one job or how it was split, in words (the probe's and the planner's reason). */
  readonly ExtractionPlan?: string;
  /** Segmented runs: `Segment<index>` (segmentJobKey) → its MediaConvert job id. */
  readonly SegmentJobs?: Readonly<Record<string, string>>;
  /** Segmented runs: each segment job's last progress (0..100), by segmentJobKey. */
  readonly SegmentPercents?: Readonly<Record<string, number>>;
  /** Segmented runs: segments whose frames were counted and every batch sent. */
  readonly FannedOutSegments?: ReadonlySet<number>;
  readonly Error?: JobError;
  /** Set while a submission is being retried after an unexpected failure; cleared on success. */
  readonly LastSubmitError?: JobError;
  /** 0..100 from MediaConvert's STATUS_UPDATE events; only moves forward. */
  readonly ExtractPercent?: number;
  /** Frames MediaConvert captured (verified against a listing of FramesPrefix). */
  readonly TotalFrames?: number;
  readonly FrameWidth?: number;
  readonly FrameHeight?: number;
  readonly DurationMs?: number;
  /** Frames per queue message for this run; batch b holds frames [b * FramesPerBatch, ...). */
  readonly FramesPerBatch?: number;
  readonly BatchCount?: number;
  /** Frames whose processor output is in the results. */
  readonly ProcessedFrames?: number;
  /** Frames that could not be processed; each is named, with its error, in the results. */
  readonly FailedFrames?: number;
  /** Batch numbers already counted: what makes redelivered batches count once. */
  readonly DoneBatches?: ReadonlySet<number>;
  /** Segmented runs: when the first segment's frames were counted and fanned out. */
  readonly FirstFramesAt?: string;
  /** Set when every batch message has been sent; until then a repeated COMPLETE resends them. */
  readonly FannedOutAt?: string;
  /** The fan-in's lease: another fan-in may start only after this time (ISO). */
  readonly FanInLeaseUntil?: string;
  readonly FanInStartedAt?: string;
  readonly ResultsBucket?: string;
  readonly ResultsKey?: string;
  readonly SummaryKey?: string;
  readonly CreatedAt: string;
  readonly UpdatedAt: string;
  readonly SubmittedAt?: string;
  /** When MediaConvert finished and the frames were counted. */
  readonly ExtractedAt?: string;
  readonly CompletedAt?: string;
  /** The status a run was in when the pipeline gave up on it: where `frames redrive` resumes it. */
  readonly FailedFrom?: JobStatus;
  /** The event that failed every retry, as its function received it, for `frames redrive`. */
  readonly FailedEvent?: FailedEvent;
  /** When the sweeper last repaired or ended this run, and what it did. */
  readonly SweptAt?: string;
  readonly SweptAction?: string;
  /** Repairs the sweeper has attempted on this run: after MAX_SWEEP_ATTEMPTS it ends the run instead. */
  readonly SweepAttempts?: number;
  /** Set by the failed-events function: the sweeper repairs this run on its next pass, not after its threshold. */
  readonly RepairRequestedAt?: string;
  /** The last error of a function that failed on this run (kept while the run is being repaired). */
  readonly LastError?: string;
  /** When the run's outcome event ("Video Frames Completed" or "Failed") was put on the bus. */
  readonly AnnouncedAt?: string;
  /** Set (to "PENDING") while a final run's outcome event is not yet on the bus: PENDING_ANNOUNCEMENT_INDEX. */
  readonly AnnouncePending?: 'PENDING';
  /** When `frames redrive` last sent this run's kept event back. */
  readonly RedrivenAt?: string;
}

/** An event kept from a failure queue, and which function it was for. */
export interface FailedEvent {
  readonly target: 'ingress' | 'completion';
  /** The event as JSON text: stored verbatim, so a redrive sends exactly what failed. */
  readonly event: string;
  /** When it failed, and the function's last error. */
  readonly failedAt: string;
  readonly error?: string;
}
