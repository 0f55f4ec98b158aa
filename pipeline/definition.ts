/**
 * The one pipeline definition: names, environment variables and event patterns that both the
 * cloud stack (modules/) and local mode (local/) render, and that the functions read. Anything
 * declared here must not be written a second time elsewhere, so the two renderers cannot drift.
 *
 * Functions may import this file: it has no dependencies.
 */

/** Environment variable names the stack sets and the functions read at cold start. */
export const ENV = {
  jobTable: 'JOB_TABLE_NAME',
  framesBucket: 'FRAMES_BUCKET_NAME',
  mediaConvertRoleArn: 'MEDIACONVERT_ROLE_ARN',
  /** Marker written into every job's UserMetadata so rules only see this stack's jobs. */
  pipelineName: 'PIPELINE_NAME',
  defaultFps: 'DEFAULT_CAPTURE_FPS',
  defaultQuality: 'DEFAULT_CAPTURE_QUALITY',
  defaultMaxCaptures: 'DEFAULT_MAX_CAPTURES',
} as const;

/** The Lambda functions of the pipeline: folder under functions/ and suffix of the deployed name. */
export const FUNCTIONS = {
  ingress: { entry: 'functions/ingress/handler.ts', nameSuffix: 'ingress' },
} as const;

/**
 * S3 user metadata an uploader sets to override the stack's capture defaults for one video,
 * e.g. `aws s3 cp video.mp4 s3://<ingress>/ --metadata fps=5,quality=90,max-captures=1000`.
 * S3 lower-cases metadata names, so these are lower case.
 */
export const OVERRIDE_METADATA = {
  fps: 'fps',
  quality: 'quality',
  maxCaptures: 'max-captures',
} as const;

/** Keys of the UserMetadata the ingress function attaches to every MediaConvert job. */
export const JOB_USER_METADATA = {
  pipeline: 'pipeline',
  videoId: 'videoId',
  runId: 'runId',
} as const;

/**
 * The EventBridge pattern for "a video landed in the ingress bucket". Every Object Created reason
 * (PutObject, CompleteMultipartUpload, CopyObject, ...) matches: large uploads are multipart.
 * Suffixes match case-insensitively because cameras write `.MP4`.
 */
export function videoUploadedPattern(bucketName: string, suffixes: readonly string[]) {
  return {
    source: ['aws.s3'],
    'detail-type': ['Object Created'],
    detail: {
      bucket: { name: [bucketName] },
      object: { key: suffixes.map((suffix) => ({ suffix: { 'equals-ignore-case': suffix } })) },
    },
  };
}
