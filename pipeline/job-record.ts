/**
 * The job record contract (ARCHITECTURE.md, "Job record"): one item per video in the job table,
 * hash key `VideoId`. Functions write it; the CLI and users read it.
 */

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
} as const;

export type ErrorCode = (typeof ERROR_CODE)[keyof typeof ERROR_CODE];

export interface JobError {
  readonly Code: string;
  readonly Message: string;
}

/** The attributes the ingress function writes. Later stages add progress and results. */
export interface JobRecord {
  readonly VideoId: string;
  readonly RunId: string;
  readonly Status: JobStatus;
  readonly SourceBucket: string;
  readonly SourceKey: string;
  readonly SourceETag: string;
  readonly SourceSize: number;
  /** S3's event sequencer, right-padded so later uploads of the key compare greater. */
  readonly SourceSequencer: string;
  readonly SourceVersionId?: string;
  /** Prefix under the frames bucket that holds this run's JPEGs (and nothing else). */
  readonly FramesPrefix?: string;
  readonly ProxyPrefix?: string;
  readonly FpsNumerator?: number;
  readonly FpsDenominator?: number;
  readonly Quality?: number;
  readonly MaxCaptures?: number;
  readonly MediaConvertJobId?: string;
  readonly Error?: JobError;
  /** Set while a submission is being retried after an unexpected failure; cleared on success. */
  readonly LastSubmitError?: JobError;
  readonly CreatedAt: string;
  readonly UpdatedAt: string;
  readonly SubmittedAt?: string;
  readonly CompletedAt?: string;
}
