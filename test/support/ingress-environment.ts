/**
 * The ingress function's environment as the stack sets it, for tests that run its handler in
 * this process (it reads the environment once, at cold start): the ingress bucket, the
 * MediaConvert role, 2 fps captures, and the segment settings, which a test may override.
 */
export function ingressEnvironment(overrides: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    JOB_TABLE_NAME: 'jobs-table',
    FRAMES_BUCKET_NAME: 'frames-bucket',
    INGRESS_BUCKET_NAME: 'ingress-bucket',
    MEDIACONVERT_ROLE_ARN: 'arn:aws:iam::111122223333:role/frames-mediaconvert',
    PIPELINE_NAME: 'frames',
    DEFAULT_CAPTURE_FPS: '2',
    DEFAULT_CAPTURE_QUALITY: '80',
    DEFAULT_MAX_CAPTURES: '1000',
    FRAMES_PER_MESSAGE: '100',
    MAX_SEGMENTS: '10',
    MIN_SEGMENT_SECONDS: '30',
    AWS_REGION: 'us-west-2',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...overrides,
  };
}
