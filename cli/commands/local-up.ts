import { startLocalCloud } from '../local/local-cloud';
import { describeFaultPlan } from '../local/faults/fault-plan';
import { loadProjectStackConfig } from '../pipeline/stack-config';

/**
 * `frames local up`: starts the local cloud and keeps it running until interrupted, printing what
 * a person needs to use it with the AWS CLI or any SDK.
 */
export async function localUp(
  options: { readonly dataDirectory: string; readonly processor?: string; readonly port?: number; readonly json?: boolean },
  io: { readonly stdout: NodeJS.WriteStream; readonly stderr: NodeJS.WriteStream },
): Promise<() => Promise<void>> {
  const base = options.port;
  const cloud = await startLocalCloud({
    dataDirectory: options.dataDirectory,
    config: loadProjectStackConfig(),
    processor: options.processor,
    shared: true,
    ports: base ? { s3: base, dynamodb: base + 1, sqs: base + 2, mediaconvert: base + 3, kinesisvideo: base + 4, events: base + 5 } : undefined,
    onWarning: (message) => io.stderr.write(`warning: ${message}\n`),
  });
  const { endpoints, resources, credentials, region } = cloud;
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ endpoints, resources, region, credentials, logDirectory: cloud.logDirectory, faults: cloud.faults })}\n`);
  } else {
    io.stdout.write(
      [
        `Local cloud running (data in ${options.dataDirectory}). Ctrl-C stops it.`,
        '',
        `  S3           ${endpoints.s3}`,
        `  DynamoDB     ${endpoints.dynamodb}`,
        `  SQS          ${endpoints.sqs}`,
        `  MediaConvert ${endpoints.mediaconvert}`,
        `  KVS          ${endpoints.kinesisvideo}   (streams: frames local add-stream)`,
        `  EventBridge  ${endpoints.events}   (PutEvents, default bus)`,
        '',
        `  ingress bucket  ${resources.ingressBucket}`,
        `  frames bucket   ${resources.framesBucket}`,
        `  egress bucket   ${resources.egressBucket}`,
        `  job table       ${resources.jobTable}`,
        `  frame queue     ${resources.frameQueueUrl}`,
        `  function logs   ${cloud.logDirectory}`,
        ...(cloud.faults.length > 0 ? [`  FAULTS INJECTED (FRAMES_FAULTS): ${describeFaultPlan(new Set(cloud.faults))}`] : []),
        '',
        // AWS_DEFAULT_REGION as well: aws-cli v1 (the Python one, still common) ignores AWS_REGION.
        'With the AWS CLI (v1 or v2):',
        `  export AWS_ACCESS_KEY_ID=${credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${credentials.secretAccessKey} AWS_REGION=${region} AWS_DEFAULT_REGION=${region}`,
        `  aws --endpoint-url ${endpoints.s3} s3 ls`,
        `  aws --endpoint-url ${endpoints.s3} s3 cp video.mp4 s3://${resources.ingressBucket}/video.mp4 --metadata fps=5`,
        `  aws --endpoint-url ${endpoints.dynamodb} dynamodb get-item --table-name ${resources.jobTable} --key '{"VideoId":{"S":"video.mp4"}}'`,
        `  frames status video.mp4 --data-dir ${options.dataDirectory}`,
        '',
      ].join('\n'),
    );
  }
  return () => cloud.stop();
}
