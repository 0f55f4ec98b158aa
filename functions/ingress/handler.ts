import type { Context } from 'aws-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { forRun, logger, withLogContext } from '../shared/logger';
import { SdkMediaConverter, createMediaConvertClient } from '../shared/media-converter';
import { S3ObjectStore } from '../shared/object-store';
import { announcingJobTable } from '../shared/outcome-events';
import { redriveRequestOf } from '../../pipeline/outcome-event';
import { keptEventFor } from '../shared/redrive';
import { clipDeliveryOf } from './clip-requests';
import { loadIngressConfig } from './config';
import { KvsStreamArchive } from './kvs-archive';
import { clipRunOf, submitClip } from './submit-clip';
import { type IngressDependencies, type SubmitOutcome } from './submit-job';
import { submitVideo, uploadRunOf } from './submit-video';
import { uploadedObjectsOf } from './uploaded-objects';

const config = loadIngressConfig();

const dependencies: IngressDependencies = {
  jobs: announcingJobTable(config.jobTable, config.pipelineName),
  objects: new S3ObjectStore(new S3Client({})),
  mediaConvert: new SdkMediaConverter(createMediaConvertClient()),
  // Kept for the execution environment's life: it caches each stream's data endpoint.
  archive: new KvsStreamArchive(new KinesisVideoClient({})),
  settings: config,
  now: () => new Date(),
};

/**
 * Ingress: an uploaded video (EventBridge "Object Created", or S3 notification records) or a KVS
 * clip request (EventBridge "Clip Requested", or invoked directly) in, also when `frames redrive`
 * sends one back; one MediaConvert frame-capture job per video out. Input a person can fix is
 * recorded as a FAILED job; anything else throws so the event is retried.
 */
export const handler = withLogContext(async (received: unknown, context?: Pick<Context, 'awsRequestId'>): Promise<SubmitOutcome[]> => {
  const redrive = redriveRequestOf(received);
  let event = received;
  if (redrive) {
    forRun(redrive);
    event = await keptEventFor(redrive, 'ingress', dependencies.jobs);
    if (event === undefined) return [];
    logger.info('redriving the run from its kept event');
  }
  const clip = clipDeliveryOf(event, context?.awsRequestId, dependencies.now());
  if (clip) {
    forRun(clipRunOf(clip, config.ingressBucket, dependencies.now()).run);
    const outcome = await submitClip(dependencies, { ...clip, redriven: redrive !== undefined });
    if ('videoId' in outcome) forRun(outcome);
    logger.info('clip request handled', { ...outcome });
    return [outcome];
  }
  const outcomes: SubmitOutcome[] = [];
  for (const object of uploadedObjectsOf(event)) {
    // The run's keys before any work, so a failure that is retried is logged under its video.
    const upload = uploadRunOf(object, dependencies.now());
    if (upload) forRun(upload.run);
    const outcome = await submitVideo(dependencies, object, redrive !== undefined);
    if ('videoId' in outcome) forRun(outcome);
    logger.info('upload handled', { ...outcome });
    outcomes.push(outcome);
  }
  return outcomes;
});
