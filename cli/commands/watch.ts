import { Command } from 'commander';
import { runningCloud } from '../../local/cloud/cloud-description';
import { JOB_STATUS, type JobRecord } from '../../pipeline/job-record';
import { type TargetFlags, targetOf, targetOptions, wholeNumber } from '../command-options';
import { CliError, EXIT } from '../exit-codes';
import type { Io } from '../io';
import { JobNeverStartedError, watchJob } from '../job-polling';
import { isFinished, readJob, unknownVideo } from '../job-reads';
import { jobReport, printReports } from '../job-report';
import { openJobTable, withTarget } from '../pipeline-connection';
import { progressView } from '../progress-view';
import { framesCommandLine } from '../shell-quote';
import type { TargetOptions } from '../stack-target';

export interface WatchOptions extends TargetOptions {
  readonly json?: boolean;
  /** Seconds to wait for a job that does not exist yet (just uploaded). */
  readonly waitSeconds?: number;
}

/**
 * Reads while a job changes: the local cloud writes often, a deployed MediaConvert job reports
 * about once a minute, so a deployed watch backs off further.
 */
export const WATCH_POLLING = {
  local: { pollMs: 250, maxPollMs: 2_000 },
  deployed: { pollMs: 1_000, maxPollMs: 15_000 },
} as const;

export function watchCommand(io: Io): Command {
  return targetOptions(
    new Command('watch')
      .description("Follow a video's job with live progress bars until it is COMPLETE or FAILED (exit 0 or 1)")
      .argument('<videoId>', 'the video id (the uploaded key)')
      .option('--wait <seconds>', 'how long to wait for a job that has not started yet (just uploaded)', wholeNumber('--wait', 0, 86_400), 30)
      .option('--json', 'print the final record as one JSON object'),
  ).action(async (videoId: string, flags: TargetFlags & { wait: number }) => {
    process.exitCode = await watchVideo(videoId, { ...targetOf(flags), waitSeconds: flags.wait }, io);
  });
}

/**
 * `frames watch <videoId>`: live progress of a video's current run until it is COMPLETE or FAILED,
 * then the report; exits as `frames run` does (0 COMPLETE, 1 FAILED, 3 no such job). A run that
 * has already ended is reported at once, without replaying progress it no longer has.
 */
export async function watchVideo(videoId: string, options: WatchOptions, io: Io): Promise<number> {
  const record = await withTarget(options, async (target) => {
    const table = await openJobTable(target);
    try {
      const first = await readJob(table.dynamodb, table.jobTable, videoId);
      if (first && isFinished(first)) return first;
      // A local run only moves while a local cloud runs: without one, waiting would never end.
      if (target.kind === 'local' && !runningCloud(target.dataDirectory)) {
        if (!first) throw unknownVideo(target, videoId);
        throw stoppedWithItsCloud(first, target.dataDirectory);
      }
      const view = progressView(io.stderr, [videoId], first?.SourceStream ? 'clip' : 'upload');
      if (first?.SourceSize !== undefined) view.uploaded(videoId, first.SourceSize, first.SourceSize);
      try {
        return await watchJob({
          dynamodb: table.dynamodb,
          table: table.jobTable,
          videoId,
          onUpdate: (update) => view.update(update),
          startTimeoutMs: (options.waitSeconds ?? 30) * 1000,
          ...WATCH_POLLING[target.kind],
        });
      } catch (error) {
        if (error instanceof JobNeverStartedError) throw unknownVideo(target, videoId);
        throw error;
      } finally {
        view.stop();
      }
    } finally {
      await table.close();
    }
  });
  const code = printReports([jobReport(record)], options.json, io.stdout);
  if (!options.json) io.stdout.write(`  report      ${framesCommandLine('report', videoId, options)}\n`);
  return code;
}

function stoppedWithItsCloud(record: JobRecord, dataDirectory: string): CliError {
  const stage = record.Status === JOB_STATUS.processing ? `${(record.ProcessedFrames ?? 0) + (record.FailedFrames ?? 0)}/${record.TotalFrames} frames` : record.Status;
  return new CliError(
    `${record.VideoId} stopped at ${stage} when its local cloud stopped, and no local cloud runs on ${dataDirectory} now. ` +
      'Upload it again into a running cloud (frames local up, then frames upload), or use frames run.',
    EXIT.environment,
  );
}
