import { randomUUID } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { Command } from 'commander';
import { CLIP_REQUEST_EVENT, type ClipRequest, TIMESTAMP_TYPES, type TimestampType, checkClipRequest } from '../../pipeline/clip-request';
import { OVERRIDE_METADATA } from '../../pipeline/definition';
import { type CaptureOptions, overrideMetadata } from '../capture-options';
import { type TargetFlags, captureOptions, targetOf, targetOptions } from '../command-options';
import { CliError, EXIT } from '../exit-codes';
import type { Io } from '../io';
import { readJob } from '../job-reads';
import { printReports } from '../job-report';
import { connectDeployedPipeline, connectLocalPipeline, withTarget } from '../pipeline-connection';
import { progressView } from '../progress-view';
import { explainNeverStarted, followToReport } from '../run-follower';
import { shellQuote } from '../shell-quote';
import type { DeployedTarget, TargetOptions } from '../stack-target';

export interface ClipOptions extends CaptureOptions, TargetOptions {
  readonly stream: string;
  readonly start: string;
  readonly end: string;
  readonly timestampType?: string;
  readonly videoId?: string;
  readonly json?: boolean;
}

type ClipFlags = CaptureOptions & TargetFlags & { stream: string; start: string; end: string; timestampType?: string; videoId?: string };

export function clipCommand(io: Io): Command {
  return targetOptions(
    captureOptions(
      new Command('clip')
        .description('Clip a time range of a Kinesis video stream and run it through the pipeline (locally: streams added with `frames local add-stream`)')
        .requiredOption('--stream <name>', 'the stream: its name, or its ARN')
        .requiredOption('--start <time>', 'start of the range, ISO 8601 with a zone (2026-11-21T08:00:30Z); fragments that start at or after it')
        .requiredOption('--end <time>', 'end of the range, inclusive: fragments that start up to it (at most 24 hours after --start)')
        .option('--timestamp-type <type>', 'select fragments by PRODUCER_TIMESTAMP (the camera clock) or SERVER_TIMESTAMP (arrival)', 'PRODUCER_TIMESTAMP')
        .option('--video-id <id>', "the job's video id; default kvs/<stream>/<start>--<end>")
        .option('--json', 'print the final job record (or, deployed, the video id) as JSON'),
    ),
  ).action(async (flags: ClipFlags) => {
    process.exitCode = await requestClip({ ...flags, ...targetOf(flags) }, io);
  });
}

/**
 * `frames clip`: asks the pipeline to clip a range of a Kinesis video stream, as a "Clip
 * Requested" event on the default bus (the same event anyone may put with their own code).
 * Locally, follows the run to the end and fetches its results, as `frames run` does; against a
 * deployed stack, prints the video id to follow.
 */
export async function requestClip(options: ClipOptions, io: Io): Promise<number> {
  const request = clipRequestOf(options);
  return withTarget(options, (target) =>
    target.kind === 'deployed' ? sendToDeployedStack(request, target, options.json, io) : clipLocally(request, options, io),
  );
}

/** The request, checked with the pipeline's own rules so a mistake fails here, before anything runs. */
export function clipRequestOf(options: ClipOptions): ClipRequest & { videoId: string; requestId: string } {
  if (options.timestampType !== undefined && !(TIMESTAMP_TYPES as readonly string[]).includes(options.timestampType)) {
    throw new CliError(`--timestamp-type must be ${TIMESTAMP_TYPES.join(' or ')}.`, EXIT.usage);
  }
  const metadata = overrideMetadata(options);
  const request: ClipRequest = {
    stream: options.stream,
    start: options.start,
    end: options.end,
    timestampType: options.timestampType as TimestampType | undefined,
    ...(Object.keys(metadata).length > 0
      ? {
          capture: {
            fps: metadata[OVERRIDE_METADATA.fps],
            quality: metadata[OVERRIDE_METADATA.quality],
            maxCaptures: metadata[OVERRIDE_METADATA.maxCaptures],
          },
        }
      : {}),
    ...(options.videoId ? { videoId: options.videoId } : {}),
  };
  const checked = checkClipRequest(request);
  if (!checked.request) throw new CliError(checked.problems.join(' '), EXIT.usage);
  return { ...request, videoId: checked.request.videoId, requestId: randomUUID() };
}

async function putClipRequest(events: EventBridgeClient, pipelineName: string, request: ClipRequest): Promise<void> {
  const { FailedEntryCount, Entries } = await events.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: CLIP_REQUEST_EVENT.source,
          DetailType: CLIP_REQUEST_EVENT.detailType,
          Detail: JSON.stringify({ pipeline: pipelineName, ...request }),
        },
      ],
    }),
  );
  if (FailedEntryCount) {
    const [entry] = Entries ?? [];
    throw new CliError(`EventBridge refused the clip request: ${entry?.ErrorCode}: ${entry?.ErrorMessage}`, EXIT.environment);
  }
}

async function clipLocally(request: ClipRequest & { videoId: string }, options: ClipOptions, io: Io): Promise<number> {
  const warnings: string[] = [];
  const connection = await connectLocalPipeline({
    dataDirectory: options.dataDirectory,
    onWarning: (message) => warnings.push(message),
    onStatus: (message) => io.stderr.write(`${message}\n`),
  });
  const view = progressView(io.stderr, [request.videoId], 'clip');
  let report;
  try {
    const previous = await readJob(connection.dynamodb, connection.jobTable, request.videoId);
    await putClipRequest(connection.events, connection.pipelineName, request);
    report = await followToReport({ connection, videoId: request.videoId, previousRunId: previous?.RunId, view, dataDirectory: options.dataDirectory });
  } catch (error) {
    explainNeverStarted(error, options.dataDirectory, warnings);
  } finally {
    view.stop();
    await connection.close();
  }
  return printReports([report], options.json, io.stdout);
}

async function sendToDeployedStack(request: ReturnType<typeof clipRequestOf>, stack: DeployedTarget, json: boolean | undefined, io: Io): Promise<number> {
  const connection = connectDeployedPipeline(stack);
  try {
    await putClipRequest(connection.events, stack.pipelineName, request);
  } finally {
    await connection.close();
  }
  const region = stack.region ?? process.env.AWS_REGION;
  io.stdout.write(
    json
      ? `${JSON.stringify({ videoId: request.videoId, requestId: request.requestId, region })}\n`
      : `Clip requested from ${stack.pipelineName}${region ? ` in ${region}` : ''}: video id ${request.videoId}\nFollow it: npx frames watch ${shellQuote(request.videoId)}\n`,
  );
  return EXIT.ok;
}
