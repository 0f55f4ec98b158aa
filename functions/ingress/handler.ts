import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoJobStore } from '../shared/job-store';
import { logger } from '../shared/logger';
import { SdkMediaConverter, createMediaConvertClient } from '../shared/media-converter';
import { S3ObjectStore } from '../shared/object-store';
import { loadIngressConfig } from './config';
import { type SubmitOutcome, submitVideo } from './submit-video';
import { uploadedObjectsOf } from './uploaded-objects';

const config = loadIngressConfig();

const dependencies = {
  jobs: new DynamoJobStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), config.jobTable),
  objects: new S3ObjectStore(new S3Client({})),
  mediaConvert: new SdkMediaConverter(createMediaConvertClient()),
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
