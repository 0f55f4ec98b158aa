import * as z from 'zod/mini';
import { JOB_USER_METADATA } from '../../pipeline/definition';
import { PipelineError } from '../shared/errors';
import { ERROR_CODE } from '../../pipeline/job-record';

/** The parts of a "MediaConvert Job State Change" event the pipeline acts on. */
export type JobStateChange =
  | (JobEventBase & { readonly status: 'STATUS_UPDATE'; readonly percentComplete: number })
  | (JobEventBase & { readonly status: 'COMPLETE'; readonly outputs: readonly CompletedOutput[] })
  | (JobEventBase & { readonly status: 'ERROR'; readonly errorCode?: number | string; readonly errorMessage: string })
  | (JobEventBase & { readonly status: 'CANCELED' });

interface JobEventBase {
  readonly jobId: string;
  readonly videoId: string;
  readonly runId: string;
  /** A segmented run's job: the segment it captures (its `segment` user metadata). */
  readonly segment?: number;
}

/** One output of a finished job: for frame capture, only the *last* JPEG's path is listed. */
export interface CompletedOutput {
  readonly paths: readonly string[];
  readonly durationMs?: number;
  readonly widthPx?: number;
  readonly heightPx?: number;
}

const outputDetail = z.object({
  outputFilePaths: z.optional(z.array(z.string())),
  durationInMs: z.optional(z.number()),
  videoDetails: z.optional(z.object({ widthInPx: z.optional(z.number()), heightInPx: z.optional(z.number()) })),
});

const jobStateChange = z.object({
  source: z.literal('aws.mediaconvert'),
  'detail-type': z.literal('MediaConvert Job State Change'),
  detail: z.object({
    status: z.string(),
    jobId: z.string().check(z.minLength(1)),
    userMetadata: z.optional(z.record(z.string(), z.string())),
    jobProgress: z.optional(z.object({ jobPercentComplete: z.optional(z.number()) })),
    errorCode: z.optional(z.union([z.number(), z.string()])),
    errorMessage: z.optional(z.string()),
    outputGroupDetails: z.optional(z.array(z.object({ outputDetails: z.optional(z.array(outputDetail)) }))),
  }),
});

export class UnrecognisedJobEventError extends PipelineError {
  override readonly name = 'UnrecognisedJobEventError';

  constructor(message: string) {
    super(ERROR_CODE.unrecognisedEvent, message);
  }
}

/**
 * Reads a job state event. Returns undefined for events the pipeline ignores: states it does not
 * act on, and jobs without this pipeline's video and run ids (the rule filters on the pipeline
 * marker, so these are other tools' jobs that happen to use the same marker).
 */
export function jobStateChangeOf(event: unknown): JobStateChange | undefined {
  const parsed = jobStateChange.safeParse(event);
  if (!parsed.success) {
    throw new UnrecognisedJobEventError(
      `Not a "MediaConvert Job State Change" event: ${z.prettifyError(parsed.error)}`,
    );
  }
  const { detail } = parsed.data;
  const videoId = detail.userMetadata?.[JOB_USER_METADATA.videoId];
  const runId = detail.userMetadata?.[JOB_USER_METADATA.runId];
  if (!videoId || !runId) return undefined;
  const segmentText = detail.userMetadata?.[JOB_USER_METADATA.segment];
  if (segmentText !== undefined && !/^(0|[1-9]\d{0,3})$/.test(segmentText)) {
    throw new UnrecognisedJobEventError(`The job's segment metadata ${JSON.stringify(segmentText)} is not a segment number.`);
  }
  const base = { jobId: detail.jobId, videoId, runId, ...(segmentText !== undefined ? { segment: Number(segmentText) } : {}) };
  switch (detail.status) {
    case 'STATUS_UPDATE':
      return { ...base, status: 'STATUS_UPDATE', percentComplete: detail.jobProgress?.jobPercentComplete ?? 0 };
    case 'COMPLETE':
      return {
        ...base,
        status: 'COMPLETE',
        outputs: (detail.outputGroupDetails ?? []).flatMap((group) =>
          (group.outputDetails ?? []).map((output) => ({
            paths: output.outputFilePaths ?? [],
            durationMs: output.durationInMs,
            widthPx: output.videoDetails?.widthInPx,
            heightPx: output.videoDetails?.heightInPx,
          })),
        ),
      };
    case 'ERROR':
      return {
        ...base,
        status: 'ERROR',
        errorCode: detail.errorCode,
        errorMessage: detail.errorMessage ?? 'MediaConvert gave no error message.',
      };
    case 'CANCELED':
      return { ...base, status: 'CANCELED' };
    default:
      return undefined;
  }
}
