/**
 * The pipeline's own events on the account's default EventBridge bus: a versioned contract, like
 * the frame queue's message (README, "Events").
 *
 * - "Video Frames Completed" and "Video Frames Failed": a run ended. Wire SNS, Slack or the next
 *   step of your own pipeline to them with a rule on `source` and `detail.pipeline`. Delivered at
 *   least once: deduplicate on (`videoId`, `runId`, `status`, `completedAt`). A redriven run that
 *   ends again is a new outcome with a later `completedAt`.
 * - "Video Frames Redrive Requested": `frames redrive` sends a run's kept event back to the
 *   function that failed on it.
 *
 * Functions may import this file: it has no dependencies beyond the job record's types.
 */
import type { JobRecord } from './job-record';

export const PIPELINE_EVENT_SOURCE = 'video-frame-pipeline';

export const OUTCOME_EVENT = {
  source: PIPELINE_EVENT_SOURCE,
  completed: 'Video Frames Completed',
  failed: 'Video Frames Failed',
  /** `detail.version`: a change that removes or renames a field makes a new version. */
  version: '1',
} as const;

export const REDRIVE_EVENT = {
  source: PIPELINE_EVENT_SOURCE,
  detailType: 'Video Frames Redrive Requested',
  version: '1',
} as const;

/** The detail of "Video Frames Completed" / "Video Frames Failed", version 1. */
export interface OutcomeEventDetail {
  readonly version: typeof OUTCOME_EVENT.version;
  /** The stack's name prefix: a rule selects one stack's events with it. */
  readonly pipeline: string;
  readonly videoId: string;
  readonly runId: string;
  readonly status: 'COMPLETE' | 'FAILED';
  /** What the run read: an upload, or a Kinesis video stream's range. */
  readonly source: {
    readonly bucket: string;
    readonly key: string;
    readonly stream?: string;
    readonly start?: string;
    readonly end?: string;
  };
  readonly frames: { readonly total?: number; readonly processed: number; readonly failed: number };
  /** COMPLETE: where results.jsonl and summary.json are. */
  readonly results?: { readonly bucket: string; readonly resultsKey: string; readonly summaryKey: string };
  /** FAILED: the stable code (pipeline/job-record.ts), what to do, and the upstream code if any. */
  readonly error?: { readonly code: string; readonly message: string; readonly serviceCode?: number | string };
  readonly createdAt: string;
  /** When the run ended (this time): with videoId, runId and status, what identifies one outcome. */
  readonly completedAt?: string;
}

/**
 * The detail of "Video Frames Redrive Requested", version 1. It names the run only: the function
 * takes the event to handle from the run's own record (`FailedEvent`), and only from a run that
 * failed because the pipeline gave up. So whoever may redrive can resume a run, never hand a
 * function an event of their own making.
 */
export interface RedriveEventDetail {
  readonly version: typeof REDRIVE_EVENT.version;
  readonly pipeline: string;
  readonly videoId: string;
  readonly runId: string;
  /** The function the kept event is for (the rule routes on it). */
  readonly target: 'ingress' | 'completion';
}

/** The outcome event of a final run. */
export function outcomeEventOf(record: JobRecord, pipeline: string) {
  const failed = record.Status === 'FAILED';
  const detail: OutcomeEventDetail = {
    version: OUTCOME_EVENT.version,
    pipeline,
    videoId: record.VideoId,
    runId: record.RunId,
    status: failed ? 'FAILED' : 'COMPLETE',
    source: {
      bucket: record.SourceBucket,
      key: record.SourceKey,
      ...(record.SourceStream ? { stream: record.SourceStream, start: record.ClipStart, end: record.ClipEnd } : {}),
    },
    frames: {
      ...(record.TotalFrames !== undefined ? { total: record.TotalFrames } : {}),
      processed: record.ProcessedFrames ?? 0,
      failed: record.FailedFrames ?? 0,
    },
    ...(record.ResultsBucket && record.ResultsKey && record.SummaryKey
      ? { results: { bucket: record.ResultsBucket, resultsKey: record.ResultsKey, summaryKey: record.SummaryKey } }
      : {}),
    ...(record.Error
      ? {
          error: {
            code: record.Error.Code,
            message: record.Error.Message,
            ...(record.Error.ServiceCode !== undefined ? { serviceCode: record.Error.ServiceCode } : {}),
          },
        }
      : {}),
    createdAt: record.CreatedAt,
    ...(record.CompletedAt ? { completedAt: record.CompletedAt } : {}),
  };
  return { source: OUTCOME_EVENT.source, detailType: failed ? OUTCOME_EVENT.failed : OUTCOME_EVENT.completed, detail };
}

/** The EventBridge pattern for one stack's outcome events (`which`: failed runs only, or all). */
export function outcomeEventPattern(pipelineName: string, which: 'failed' | 'all') {
  return {
    source: [OUTCOME_EVENT.source],
    'detail-type': which === 'failed' ? [OUTCOME_EVENT.failed] : [OUTCOME_EVENT.completed, OUTCOME_EVENT.failed],
    detail: { pipeline: [pipelineName] },
  };
}

/** The EventBridge pattern for redrives of one stack's events meant for one function. */
export function redrivePattern(pipelineName: string, target: RedriveEventDetail['target']) {
  return {
    source: [REDRIVE_EVENT.source],
    'detail-type': [REDRIVE_EVENT.detailType],
    detail: { pipeline: [pipelineName], target: [target] },
  };
}

/** The redrive request an event is, or undefined when it is not one (the functions ask this first). */
export function redriveRequestOf(event: unknown): RedriveEventDetail | undefined {
  const candidate = event as { source?: unknown; 'detail-type'?: unknown; detail?: Partial<RedriveEventDetail> } | null;
  if (candidate?.source !== REDRIVE_EVENT.source || candidate['detail-type'] !== REDRIVE_EVENT.detailType) return undefined;
  const detail = candidate.detail;
  if (!detail || typeof detail.videoId !== 'string' || typeof detail.runId !== 'string' || (detail.target !== 'ingress' && detail.target !== 'completion')) {
    return undefined;
  }
  return detail as RedriveEventDetail;
}
