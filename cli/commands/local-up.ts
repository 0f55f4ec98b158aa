import { Command } from 'commander';
import { describeFaultPlan } from '../../local/faults/fault-plan';
import { type OutcomeEvent, startLocalCloud } from '../../local/cloud/local-cloud';
import { loadProjectStackConfig } from '../../pipeline/stack-config';
import { dataDirOption, wholeNumber } from '../command-options';
import type { Io } from '../io';
import { shellQuote } from '../shell-quote';
import { dataDirectoryOf, refuseRunningCloud } from '../pipeline-connection';

/** How long `frames local up` waits for its cloud to stop after Ctrl-C. */
const STOP_TIMEOUT_MS = 20_000;

interface LocalUpOptions {
  readonly dataDirectory: string;
  readonly processor?: string;
  readonly port?: number;
  readonly json?: boolean;
}

export function localUpCommand(io: Io): Command {
  return new Command('up')
    .description('Start the local cloud and keep it running; uploads to its ingress bucket run through the pipeline')
    .option('--port <n>', 'first of six consecutive ports (S3, DynamoDB, SQS, MediaConvert, KVS, EventBridge); default: free ports', wholeNumber('--port', 1024, 65_530))
    .option('--processor <path>', 'processor module (exports processFrame)')
    .option('--json', 'print the endpoints and resource names as JSON')
    .addOption(dataDirOption())
    .action(async (flags: Omit<LocalUpOptions, 'dataDirectory'> & { dataDir?: string }) => {
      const stop = await localUp({ ...flags, dataDirectory: dataDirectoryOf(flags.dataDir) }, io);
      await new Promise<void>((resolve) => {
        const shutdown = () => resolve();
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
      });
      io.stderr.write('Stopping the local cloud...\n');
      // A server or function that will not let go must not keep a person's terminal: give the
      // stop a bound, then leave (its registration is gone first, so nothing attaches meanwhile).
      const watchdog = setTimeout(() => {
        io.stderr.write(`The local cloud did not stop within ${STOP_TIMEOUT_MS / 1000} s; exiting anyway.\n`);
        process.exit(1);
      }, STOP_TIMEOUT_MS);
      await stop();
      clearTimeout(watchdog);
      // Keep-alive sockets and warm execution environments are gone; nothing else is left to wait for.
      process.exit(0);
    });
}

/**
 * `frames local up`: starts the local cloud and keeps it running until interrupted, printing what
 * a person needs to use it with the AWS CLI or any SDK.
 */
export async function localUp(options: LocalUpOptions, io: Io): Promise<() => Promise<void>> {
  refuseRunningCloud(options.dataDirectory);
  const base = options.port;
  io.stderr.write(`Starting the local cloud on ${options.dataDirectory}...\n`);
  const started = Date.now();
  const cloud = await startLocalCloud({
    dataDirectory: options.dataDirectory,
    config: loadProjectStackConfig(),
    processor: options.processor,
    shared: true,
    ports: base ? { s3: base, dynamodb: base + 1, sqs: base + 2, mediaconvert: base + 3, kinesisvideo: base + 4, events: base + 5 } : undefined,
    onWarning: (message) => io.stderr.write(`warning: ${message}\n`),
    // The pipeline's outcome events as they are put on the bus: what a rule of yours would receive.
    onOutcomeEvent: (event) => io.stdout.write(options.json ? `${JSON.stringify(event)}\n` : `${describeOutcomeEvent(event)}\n`),
  });
  io.stderr.write(`Local cloud ready in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
  const { endpoints, resources, credentials, region } = cloud;
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ pid: process.pid, endpoints, resources, region, credentials, logDirectory: cloud.logDirectory, faults: cloud.faults })}\n`);
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
        '',
        'With the frames command (from this repository):',
        `  npx frames upload video.mp4 --data-dir ${shellQuote(options.dataDirectory)}`,
        `  npx frames watch video.mp4 --data-dir ${shellQuote(options.dataDirectory)}`,
        '',
      ].join('\n'),
    );
  }
  return () => cloud.stop();
}

/** One line per outcome event: which, for which run, and what came of it. */
export function describeOutcomeEvent(event: OutcomeEvent): string {
  const { detail } = event;
  const what = detail.error
    ? `${detail.error.code}: ${detail.error.message}`
    : `${detail.frames.processed} processed, ${detail.frames.failed} failed of ${detail.frames.total ?? 0} frames; results s3://${detail.results?.bucket}/${detail.results?.resultsKey}`;
  return `event: ${event['detail-type']} ${detail.videoId} (run ${detail.runId}): ${what}`;
}
