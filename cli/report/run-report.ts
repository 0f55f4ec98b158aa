import { join } from 'node:path';
import { isFinished, readJob } from '../job-reads';
import type { JobReport } from '../job-report';
import type { PipelineConnection } from '../pipeline-connection';
import { formatBytes } from '../progress-view';
import { framesBucketOf } from './frames-bucket';
import { writeReport } from './write-report';

/**
 * `frames run --report`: the report of a run that just ended, written beside the results `frames
 * run` fetched (`<data dir>/results/<run prefix>/report.html`) while its cloud still runs and its
 * frames are all there. Warnings go to `warnings` (stderr); the report's path and size join the
 * run's JSON object.
 */
export async function reportAfterRun(
  connection: PipelineConnection,
  run: JobReport,
  dataDirectory: string,
  warnings: NodeJS.WritableStream,
): Promise<JobReport & { report?: string; reportBytes?: number }> {
  const record = await readJob(connection.dynamodb, connection.jobTable, run.videoId);
  if (!record || record.RunId !== run.runId || !isFinished(record)) return run;
  const written = await writeReport(
    { s3: connection.s3, framesBucket: framesBucketOf({ kind: 'local', dataDirectory }) },
    record,
    join(dataDirectory, 'results', record.RunPrefix ?? record.RunId, 'report.html'),
  );
  for (const warning of written.warnings) warnings.write(`warning: ${warning}\n`);
  return { ...run, report: written.report, reportBytes: written.bytes };
}

/** After the runs' own lines, where each report is (text mode; --json has it in each object). */
export function printReportPaths(reports: readonly (JobReport & { report?: string; reportBytes?: number })[], out: NodeJS.WritableStream): void {
  for (const report of reports) {
    if (report.report) out.write(`${report.videoId}: report written to ${report.report} (${formatBytes(report.reportBytes ?? 0)})\n`);
  }
}
