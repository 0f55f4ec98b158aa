import { resolve } from 'node:path';
import { Command } from 'commander';
import { JOB_STATUS } from '../../pipeline/job-record';
import { type TargetFlags, targetOf, targetOptions } from '../command-options';
import { CliError, EXIT } from '../exit-codes';
import type { Io } from '../io';
import { readJob, unknownVideo } from '../job-reads';
import { describeReport, jobReport } from '../job-report';
import { openPipeline, withTarget } from '../pipeline-connection';
import { downloadResults } from '../run-follower';
import type { TargetOptions } from '../stack-target';

export interface ResultsOptions extends TargetOptions {
  /** Directory to write into; default ./frames-results/<run prefix>. */
  readonly out?: string;
  readonly json?: boolean;
}

export function resultsCommand(io: Io): Command {
  return targetOptions(
    new Command('results')
      .description("Download a COMPLETE job's results.jsonl and summary.json (exit 1 if it FAILED, 3 if it is not done)")
      .argument('<videoId>', 'the video id (the uploaded key)')
      .option('--out <dir>', 'directory to write them into (default ./frames-results/<run prefix>)')
      .option('--json', 'print the job and the paths as one JSON object'),
  ).action(async (videoId: string, flags: TargetFlags & { out?: string }) => {
    process.exitCode = await fetchResults(videoId, { ...targetOf(flags), out: flags.out }, io);
  });
}

/**
 * `frames results <videoId>`: downloads the current run's results.jsonl and summary.json from the
 * egress bucket. A FAILED run exits 1 with its error; a run still going exits 3 and says so.
 */
export async function fetchResults(videoId: string, options: ResultsOptions, io: Pick<Io, 'stdout'>): Promise<number> {
  return withTarget(options, async (target) => {
    // Locally the objects are read through the local S3 server: the running cloud's, or one started for this.
    const connection = await openPipeline(target, { startLocal: true });
    try {
      const record = await readJob(connection.dynamodb, connection.jobTable, videoId);
      if (!record) throw unknownVideo(target, videoId);
      if (record.Status === JOB_STATUS.failed) {
        throw new CliError(`${videoId} FAILED, so it has no results: ${record.Error?.Code}: ${record.Error?.Message}`, EXIT.jobFailed);
      }
      if (record.Status !== JOB_STATUS.complete || !record.ResultsKey) {
        throw new CliError(`${videoId} has no results yet:\n${describeReport(jobReport(record))}\nFollow it with frames watch.`, EXIT.environment);
      }
      const directory = resolve(options.out ?? `frames-results/${record.RunPrefix ?? record.RunId}`);
      const local = await downloadResults(connection.s3, record, directory);
      const report = jobReport(record, local);
      io.stdout.write(
        options.json
          ? `${JSON.stringify(report)}\n`
          : `${videoId}: ${report.processedFrames} frames processed, ${report.failedFrames} failed\n  results  ${local.results}\n${local.summary ? `  summary  ${local.summary}\n` : ''}`,
      );
      return EXIT.ok;
    } finally {
      await connection.close();
    }
  });
}
