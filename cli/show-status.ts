import { CliError, EXIT } from './exit-codes';
import { describeReport, jobReport } from './job-report';
import { readJob } from './job-watch';
import { openLocalJobTable } from './pipeline-connection';

/** `frames status <videoId>`: the job record of a video in the local job table. */
export async function showStatus(
  videoId: string,
  options: { readonly dataDirectory: string; readonly json?: boolean },
  io: { readonly stdout: NodeJS.WriteStream },
): Promise<number> {
  const table = await openLocalJobTable(options.dataDirectory);
  try {
    const record = await readJob(table.dynamodb, table.jobTable, videoId);
    if (!record) {
      throw new CliError(
        `No job for video id ${JSON.stringify(videoId)} in ${options.dataDirectory}. The video id is the uploaded object's key (for frames run: the file name).`,
        EXIT.environment,
      );
    }
    const report = jobReport(record);
    io.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `${describeReport(report)}\n`);
    return EXIT.ok;
  } finally {
    await table.close();
  }
}
