import { MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoJobStore } from '../shared/job-store';
import { logger } from '../shared/logger';
import { SdkMediaConverter } from '../shared/media-converter';
import { S3ObjectStore } from '../shared/object-store';
import { loadIngressConfig } from './config';
import { type SubmitOutcome, submitVideo } from './submit-video';
import { uploadedObjectsOf } from './uploaded-objects';

const config = loadIngressConfig();

// MediaConvert's regional endpoint (DescribeEndpoints is deprecated). TooManyRequests is a
// throttling error to the SDK's standard retry strategy, which backs off with jitter; eight
// attempts ride out a burst of uploads before the event is handed back to EventBridge.
const mediaConvert = new MediaConvertClient({ maxAttempts: 8 });

const dependencies = {
  jobs: new DynamoJobStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), config.jobTable),
  objects: new S3ObjectStore(new S3Client({})),
  mediaConvert: new SdkMediaConverter(mediaConvert),
  settings: config,
  now: () => new Date(),
};

/**
 * Ingress: an EventBridge "Object Created" event (or S3 notification records) in, one
 * MediaConvert frame-capture job per uploaded video out. Input a person can fix is recorded as a
 * FAILED job; anything else throws so the event is retried.
 */
export async function handler(event: unknown): Promise<SubmitOutcome[]> {
  const outcomes: SubmitOutcome[] = [];
  for (const object of uploadedObjectsOf(event)) {
    const outcome = await submitVideo(dependencies, object);
    logger.info('upload handled', { ...outcome });
    outcomes.push(outcome);
  }
  return outcomes;
}
