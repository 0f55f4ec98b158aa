import { resolve } from 'node:path';
import { Command } from 'commander';
import { JOB_STATUS, type JobRecord } from '../../pipeline/job-record';
import { type TargetFlags, targetOf, targetOptions, wholeNumber } from '../command-options';
import { CliError, EXIT } from '../exit-codes';
import type { Io } from '../io';
import { isFinished, readJob, unknownVideo } from '../job-reads';
import { describeReport, jobReport } from '../job-report';
import { openPipeline, withTarget } from '../pipeline-connection';
import { THUMBNAIL_LIMIT, THUMBNAIL_LIMIT_MAX } from '../report/contact-sheet';
import { framesBucketOf } from '../report/frames-bucket';
import { describeWrittenReport, writeReport } from '../report/write-report';
import type { TargetOptions } from '../stack-target';

export interface ReportOptions extends TargetOptions {
  /** The HTML file to write; default ./frames-results/<run prefix>/report.html, beside `frames results`' files. */
  readonly out?: string;
  readonly thumbnails?: number;
  readonly json?: boolean;
}

export function reportCommand(io: Io): Command {
  return targetOptions(
    new Command('report')
      .description(
        "Write one self-contained HTML file of a finished run: summary, contact sheet of frames, charts of the processor's outputs over time " +
          '(exit 1 if the run FAILED, after writing it; 3 if it is not finished)',
      )
      .argument('<videoId>', 'the video id (the uploaded key)')
      .option('--out <file>', 'the HTML file to write (default ./frames-results/<run prefix>/report.html)')
      .option('--thumbnails <n>', `most thumbnails in the contact sheet (default ${THUMBNAIL_LIMIT})`, wholeNumber('--thumbnails', 0, THUMBNAIL_LIMIT_MAX), THUMBNAIL_LIMIT)
      .option('--json', 'print the file written, its size and counts as one JSON object'),
  ).action(async (videoId: string, flags: TargetFlags & { out?: string; thumbnails: number }) => {
    process.exitCode = await makeReport(videoId, { ...targetOf(flags), out: flags.out, thumbnails: flags.thumbnails }, io);
  });
}

/** Where a run's report goes when `--out` is not given. */
export const defaultReportPath = (record: JobRecord) => resolve(`frames-results/${record.RunPrefix ?? record.RunId}/report.html`);

/**
 * `frames report <videoId>`: the report of a video's current run, from the local cloud (the
 * running one, or one started for this) or a deployed stack. Exit 0 written; 1 the run FAILED
 * (the report is written all the same, with its error); 3 no such video, or not finished.
 */
export async function makeReport(videoId: string, options: ReportOptions, io: Io): Promise<number> {
  return withTarget(options, async (target) => {
    const connection = await openPipeline(target, { startLocal: true });
    try {
      const record = await readJob(connection.dynamodb, connection.jobTable, videoId);
      if (!record) throw unknownVideo(target, videoId);
      if (!isFinished(record)) {
        throw new CliError(`${videoId} is not finished, so it has no report yet:\n${describeReport(jobReport(record))}\nFollow it with frames watch.`, EXIT.environment);
      }
      const written = await writeReport(
        { s3: connection.s3, framesBucket: framesBucketOf(target) },
        record,
        options.out ? resolve(options.out) : defaultReportPath(record),
        { thumbnailLimit: options.thumbnails },
      );
      for (const warning of written.warnings) io.stderr.write(`warning: ${warning}\n`);
      io.stdout.write(options.json ? `${JSON.stringify(written)}\n` : describeWrittenReport(written));
      return record.Status === JOB_STATUS.failed ? EXIT.jobFailed : EXIT.ok;
    } finally {
      await connection.close();
    }
  });
}
