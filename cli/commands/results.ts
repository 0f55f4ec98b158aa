import { resolve } from 'node:path';
import { JOB_STATUS } from '../pipeline/job-record';
import { CliError, EXIT } from './exit-codes';
import { downloadResults } from './follow-job';
import { describeReport, jobReport } from './job-report';
import { readJob } from './job-watch';
import { openPipeline, withTarget } from './pipeline-connection';
import { unknownVideo } from './show-status';
import type { TargetOptions } from './stack-target';

export interface ResultsOptions extends TargetOptions {
  /** Directory to write into; default ./frames-results/<run prefix>. */
  readonly out?: string;
  readonly json?: boolean;
}

/**
 * `frames results <videoId>`: downloads the current run's results.jsonl and summary.json from the
 * egress bucket. A FAILED run exits 1 with its error; a run still going exits 3 and says so.
 */
export async function resultsCommand(videoId: string, options: ResultsOptions, io: { readonly stdout: NodeJS.WriteStream }): Promise<number> {
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
