import {
  type CreateJobRequest,
  CancelJobCommand,
  CreateJobCommand,
  GetJobCommand,
  type MediaConvertClientConfig,
  type StatusUpdateInterval,
  MediaConvertClient,
  paginateListJobs,
} from '@aws-sdk/client-mediaconvert';
import { PipelineError, RejectedInputError, errorName, messageOf } from './errors';
import { ERROR_CODE } from '../../pipeline/job-record';

export type JobSettings = NonNullable<CreateJobRequest['Settings']>;

export interface FrameCaptureJobRequest {
  readonly settings: JobSettings;
  readonly roleArn: string;
  readonly userMetadata: Record<string, string>;
  /** On the job: IAM lets this pipeline cancel only the jobs tagged as its own. */
  readonly tags: Record<string, string>;
  /** SECONDS_10 … SECONDS_600: how often the job reports progress (STATUS_UPDATE events). */
  readonly statusUpdateInterval?: string;
  /** Makes a repeated CreateJob within one minute return the first job instead of a second one. */
  readonly clientRequestToken: string;
}

export interface MediaConverter {
  /** Submits a job; throws RejectedInputError when MediaConvert refuses the settings. */
  createJob(request: FrameCaptureJobRequest): Promise<string>;
  /**
   * Finds the job created since `createdSince` whose user metadata holds every entry of
   * `metadata`, if any: the way to learn whether a submission that crashed before it was
   * recorded reached MediaConvert.
   */
  findJob(metadata: Readonly<Record<string, string>>, createdSince: Date): Promise<string | undefined>;
  cancelJob(jobId: string): Promise<void>;
  /** A job as GetJob reports it (never its output paths: those are only in the COMPLETE event); undefined when unknown. */
  getJob(jobId: string): Promise<JobState | undefined>;
}

export interface JobState {
  readonly jobId: string;
  readonly status: string;
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly errorCode?: number;
  readonly errorMessage?: string;
  readonly outputs: readonly { readonly durationMs?: number; readonly widthPx?: number; readonly heightPx?: number }[];
}

/**
 * MediaConvert on its regional endpoint (DescribeEndpoints is deprecated). TooManyRequests is a
 * throttling error to the SDK's standard retry strategy, which backs off exponentially with
 * jitter; eight attempts ride out a burst of uploads before the caller gives the event back.
 */
export const MEDIACONVERT_MAX_ATTEMPTS = 8;

export function createMediaConvertClient(config: MediaConvertClientConfig = {}): MediaConvertClient {
  return new MediaConvertClient({ maxAttempts: MEDIACONVERT_MAX_ATTEMPTS, ...config });
}

/** This stack submits to the account's default queue, so that is where its jobs are looked for. */
const JOB_QUEUE = 'Default';

/**
 * Clock skew allowed between our clock and MediaConvert's when searching for a job by its creation
 * time, so a job created just before our recorded claim time is still found.
 */
const CREATED_AT_SKEW_MS = 5 * 60 * 1000;

export class SdkMediaConverter implements MediaConverter {
  constructor(private readonly client: MediaConvertClient) {}

  async createJob(request: FrameCaptureJobRequest): Promise<string> {
    try {
      const { Job } = await this.client.send(
        new CreateJobCommand({
          Settings: request.settings,
          Role: request.roleArn,
          UserMetadata: request.userMetadata,
          Tags: request.tags,
          ...(request.statusUpdateInterval ? { StatusUpdateInterval: request.statusUpdateInterval as StatusUpdateInterval } : {}),
          ClientRequestToken: request.clientRequestToken,
        }),
      );
      if (!Job?.Id) throw new PipelineError(ERROR_CODE.unexpectedResponse, 'MediaConvert CreateJob answered without a job id');
      return Job.Id;
    } catch (error) {
      if (errorName(error) === 'BadRequestException') {
        throw new RejectedInputError(
          ERROR_CODE.mediaConvertRejected,
          `MediaConvert refused the job: ${messageOf(error)}`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async findJob(metadata: Readonly<Record<string, string>>, createdSince: Date): Promise<string | undefined> {
    const wanted = Object.entries(metadata);
    const oldest = createdSince.getTime() - CREATED_AT_SKEW_MS;
    // Newest first, so the walk stops at the first page older than the claim.
    const pages = paginateListJobs(
      { client: this.client, pageSize: 20 },
      { Order: 'DESCENDING', Queue: JOB_QUEUE },
    );
    for await (const page of pages) {
      for (const job of page.Jobs ?? []) {
        if (job.Id && wanted.every(([key, value]) => job.UserMetadata?.[key] === value)) return job.Id;
      }
      const last = page.Jobs?.at(-1)?.CreatedAt;
      if (!last || last.getTime() < oldest) return undefined;
    }
    return undefined;
  }

  async getJob(jobId: string): Promise<JobState | undefined> {
    try {
      const { Job } = await this.client.send(new GetJobCommand({ Id: jobId }));
      if (!Job) return undefined;
      return {
        jobId,
        status: Job.Status ?? 'UNKNOWN',
        userMetadata: Job.UserMetadata ?? {},
        ...(Job.ErrorCode !== undefined ? { errorCode: Job.ErrorCode } : {}),
        ...(Job.ErrorMessage ? { errorMessage: Job.ErrorMessage } : {}),
        outputs: (Job.OutputGroupDetails ?? []).flatMap((group) =>
          (group.OutputDetails ?? []).map((output) => ({
            durationMs: output.DurationInMs,
            widthPx: output.VideoDetails?.WidthInPx,
            heightPx: output.VideoDetails?.HeightInPx,
          })),
        ),
      };
    } catch (error) {
      if (errorName(error) === 'NotFoundException') return undefined;
      throw error;
    }
  }

  async cancelJob(jobId: string): Promise<void> {
    await this.client.send(new CancelJobCommand({ Id: jobId }));
  }
}
