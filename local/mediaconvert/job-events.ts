import { randomUUID } from 'node:crypto';

/** A job as the local endpoint keeps it; `wire` below renders it as GetJob returns it. */
export interface LocalJob {
  readonly id: string;
  readonly arn: string;
  readonly queueArn: string;
  readonly createdAt: Date;
  readonly role: string;
  readonly settings: unknown;
  readonly userMetadata: Record<string, string>;
  readonly tags: Record<string, string>;
  readonly clientRequestToken?: string;
  /** As the request gave it, SECONDS_60 (MediaConvert's default) when it did not. */
  readonly statusUpdateInterval: string;
  status: 'SUBMITTED' | 'PROGRESSING' | 'COMPLETE' | 'CANCELED' | 'ERROR';
  startedAt?: Date;
  finishedAt?: Date;
  jobPercentComplete?: number;
  currentPhase?: 'PROBING' | 'TRANSCODING' | 'UPLOADING';
  errorCode?: number;
  errorMessage?: string;
  outputGroupDetails?: OutputGroupDetail[];
}

export interface OutputDetail {
  readonly outputFilePaths: string[];
  /** The timeline's: its video's, from the first frame to the end of the last. */
  readonly durationInMs: number;
  readonly videoDetails: { readonly widthInPx: number; readonly heightInPx: number };
}

/** One per output group, in the settings' order; its outputDetails in its outputs' order. */
export interface OutputGroupDetail {
  readonly outputDetails: OutputDetail[];
  readonly type: 'FILE_GROUP';
}

const epochSeconds = (date: Date | undefined) => (date ? date.getTime() / 1000 : undefined);

/** GetJob / ListJobs / CreateJob's `job`: lowerCamelCase, timestamps in epoch seconds. */
export function wire(job: LocalJob) {
  return {
    arn: job.arn,
    id: job.id,
    createdAt: epochSeconds(job.createdAt),
    role: job.role,
    settings: job.settings,
    status: job.status,
    queue: job.queueArn,
    userMetadata: job.userMetadata,
    clientRequestToken: job.clientRequestToken,
    priority: 0,
    statusUpdateInterval: job.statusUpdateInterval,
    billingTagsSource: 'JOB',
    accelerationSettings: { mode: 'DISABLED' },
    accelerationStatus: 'NOT_APPLICABLE',
    jobPercentComplete: job.status === 'PROGRESSING' ? job.jobPercentComplete : undefined,
    currentPhase: job.status === 'PROGRESSING' ? job.currentPhase : undefined,
    errorCode: job.errorCode,
    errorMessage: job.errorMessage,
    // GetJob reports durations and sizes, never output paths (those are only in the COMPLETE event).
    outputGroupDetails: job.outputGroupDetails?.map((group) => ({
      outputDetails: group.outputDetails.map(({ durationInMs, videoDetails }) => ({ durationInMs, videoDetails })),
    })),
    timing: {
      submitTime: epochSeconds(job.createdAt),
      startTime: epochSeconds(job.startedAt),
      finishTime: epochSeconds(job.finishedAt),
    },
  };
}

/**
 * A "MediaConvert Job State Change" event with AWS's shape (see test/fixtures/events): PROGRESSING,
 * STATUS_UPDATE with jobProgress, COMPLETE with outputGroupDetails, ERROR with errorCode and
 * errorMessage, CANCELED.
 */
export function jobStateChangeEvent(
  job: LocalJob,
  identity: { region: string; account: string },
  statusUpdate?: { framesDecoded: number },
) {
  const detail: Record<string, unknown> = {
    timestamp: Date.now(),
    accountId: identity.account,
    queue: job.queueArn,
    jobId: job.id,
    status: statusUpdate ? 'STATUS_UPDATE' : job.status,
    userMetadata: job.userMetadata,
  };
  if (statusUpdate) {
    detail.framesDecoded = statusUpdate.framesDecoded;
    detail.jobProgress = {
      phaseProgress: {
        PROBING: { status: 'COMPLETE', percentComplete: 100 },
        TRANSCODING: { status: 'PROGRESSING', percentComplete: job.jobPercentComplete },
        UPLOADING: { status: 'PENDING', percentComplete: 0 },
      },
      jobPercentComplete: job.jobPercentComplete,
      currentPhase: job.currentPhase ?? 'TRANSCODING',
      retryCount: 0,
    };
  }
  if (job.status === 'COMPLETE') detail.outputGroupDetails = job.outputGroupDetails;
  if (job.status === 'ERROR') {
    detail.errorCode = job.errorCode;
    detail.errorMessage = job.errorMessage;
  }
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'MediaConvert Job State Change',
    source: 'aws.mediaconvert',
    account: identity.account,
    time: new Date().toISOString(),
    region: identity.region,
    resources: [job.arn],
    detail,
  };
}
