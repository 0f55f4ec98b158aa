import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { Command } from 'commander';
import { JOB_STATUS, type JobRecord } from '../../pipeline/job-record';
import { REDRIVE_EVENT, type RedriveEventDetail } from '../../pipeline/outcome-event';
import { REDRIVABLE_ERROR_CODES, isRedrivable } from '../../pipeline/run-lifecycle';
import { type TargetFlags, targetOf, targetOptions, wholeNumber } from '../command-options';
import { CliError, EXIT } from '../exit-codes';
import type { Io } from '../io';
import { readJob } from '../job-reads';
import { type JobReport, printReports } from '../job-report';
import { type PipelineConnection, connectDeployedPipeline, connectLocalPipeline, withTarget } from '../pipeline-connection';
import { progressView } from '../progress-view';
import { followToReport } from '../run-follower';
import { shellQuote } from '../shell-quote';
import type { TargetOptions } from '../stack-target';
import { recentJobs } from './list';

export interface RedriveOptions extends TargetOptions {
  readonly all?: boolean;
  /** With --all: how many of the newest FAILED runs to look through. */
  readonly limit: number;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

type RedriveFlags = TargetFlags & { all?: boolean; limit: number; dryRun?: boolean };

export function redriveCommand(io: Io): Command {
  return targetOptions(
    new Command('redrive')
      .description('Send the kept event of runs the pipeline gave up on (RETRIES_EXHAUSTED, RUN_STALLED) back through the pipeline, once the cause is fixed')
      .argument('[videoIds...]', 'the videos whose failed runs to resume')
      .option('--all', 'every redrivable FAILED run (of the newest --limit FAILED runs)')
      .option('--limit <n>', 'with --all: how many of the newest FAILED runs to look through', wholeNumber('--limit', 1, 10_000), 1000)
      .option('--dry-run', 'only list what would be redriven')
      .option('--json', 'print one JSON object per video (the final record locally; what was sent, deployed)'),
  ).action(async (videoIds: string[], flags: RedriveFlags) => {
    process.exitCode = await redrive(videoIds, { ...flags, ...targetOf(flags) }, io);
  });
}


/**
 * `frames redrive`: puts a "Video Frames Redrive Requested" event (pipeline/outcome-event.ts) for
 * each run; the pipeline's rule hands its kept event to the function that failed on it, which
 * resumes the run from the status it failed in. Locally, follows each run to its end; against a
 * deployed stack, prints what to follow.
 */
export async function redrive(videoIds: readonly string[], options: RedriveOptions, io: Io): Promise<number> {
  if (videoIds.length === 0 && !options.all) throw new CliError('Name the videos to redrive, or pass --all.', EXIT.usage);
  if (videoIds.length > 0 && options.all) throw new CliError('Pass either video ids or --all, not both.', EXIT.usage);
  return withTarget(options, async (target) => {
    const connection =
      target.kind === 'deployed'
        ? connectDeployedPipeline(target)
        : await connectLocalPipeline({ dataDirectory: options.dataDirectory, onStatus: (message) => io.stderr.write(`${message}\n`) });
    try {
      const runs = options.all
        ? (await recentJobs(connection.dynamodb, connection.jobTable, { status: JOB_STATUS.failed, limit: options.limit })).filter((record) => isRedrivable(record))
        : await Promise.all(videoIds.map((videoId) => redrivableRun(connection, videoId)));
      if (runs.length === 0) {
        io.stderr.write('No FAILED run with a kept event to redrive (frames list --status FAILED shows the failed ones).\n');
        return EXIT.ok;
      }
      if (options.dryRun) {
        for (const run of runs) io.stdout.write(options.json ? `${JSON.stringify(redriveDetail(connection.pipelineName, run))}\n` : `would redrive ${run.VideoId} (run ${run.RunId}, ${run.Error?.Code}) to the ${run.FailedEvent!.target} function\n`);
        return EXIT.ok;
      }
      for (const run of runs) await putRedrive(connection.events, redriveDetail(connection.pipelineName, run));
      io.stderr.write(`Redriven: ${runs.map((run) => run.VideoId).join(', ')}.\n`);
      // A cloud this command started stops when it returns: follow the runs to their end first.
      // A shared local cloud or a deployed stack goes on without us; say how to follow.
      if (!connection.ownsCloud) {
        for (const run of runs) {
          io.stdout.write(
            options.json
              ? `${JSON.stringify({ videoId: run.VideoId, runId: run.RunId, target: run.FailedEvent!.target })}\n`
              : `Follow it: npx frames watch ${shellQuote(run.VideoId)}${target.kind === 'local' ? ` --data-dir ${shellQuote(options.dataDirectory)}` : ''}\n`,
          );
        }
        return EXIT.ok;
      }
      return printReports(await followRedriven(connection, runs, options.dataDirectory, io), options.json, io.stdout);
    } finally {
      await connection.close();
    }
  });
}

async function redrivableRun(connection: PipelineConnection, videoId: string): Promise<JobRecord> {
  const record = await readJob(connection.dynamodb, connection.jobTable, videoId);
  if (!record) throw new CliError(`No job for ${JSON.stringify(videoId)} in ${connection.jobTable}.`, EXIT.usage);
  if (!isRedrivable(record)) {
    throw new CliError(
      `${videoId} cannot be redriven: it is ${record.Status}${record.Error ? ` (${record.Error.Code})` : ''}. ` +
        `Only runs the pipeline gave up on (${REDRIVABLE_ERROR_CODES.join(', ')}) with their event kept can be; upload the video again for a new run.`,
      EXIT.usage,
    );
  }
  return record;
}

function redriveDetail(pipeline: string, run: JobRecord): RedriveEventDetail {
  return { version: REDRIVE_EVENT.version, pipeline, videoId: run.VideoId, runId: run.RunId, target: run.FailedEvent!.target };
}

async function putRedrive(events: EventBridgeClient, detail: RedriveEventDetail): Promise<void> {
  const { FailedEntryCount, Entries } = await events.send(
    new PutEventsCommand({ Entries: [{ Source: REDRIVE_EVENT.source, DetailType: REDRIVE_EVENT.detailType, Detail: JSON.stringify(detail) }] }),
  );
  if (FailedEntryCount) {
    const [entry] = Entries ?? [];
    throw new CliError(`EventBridge refused the redrive of ${detail.videoId}: ${entry?.ErrorCode}: ${entry?.ErrorMessage}`, EXIT.environment);
  }
}

/** Each redriven run, from the moment it leaves the failure it was in, to its new end. */
async function followRedriven(connection: PipelineConnection, runs: readonly JobRecord[], dataDirectory: string, io: Io): Promise<JobReport[]> {
  const view = progressView(io.stderr, runs.map((run) => run.VideoId), 'redrive');
  try {
    return await Promise.all(
      runs.map((run) =>
        followToReport({
          connection,
          videoId: run.VideoId,
          follows: (record) => record.RunId === run.RunId && (record.Status !== JOB_STATUS.failed || record.Error?.Code !== run.Error?.Code || record.RedrivenAt !== run.RedrivenAt),
          view,
          dataDirectory,
        }),
      ),
    );
  } finally {
    view.stop();
  }
}
