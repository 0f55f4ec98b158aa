import { CliError, EXIT } from './exit-codes';
import { describeReport, jobReport } from './job-report';
import { readJob } from './job-watch';
import { openJobTable, withTarget } from './pipeline-connection';
import type { StackTarget, TargetOptions } from './stack-target';

/** `frames status <videoId>`: a video's job record, from the local job table or a deployed stack's. */
export async function showStatus(
  videoId: string,
  options: TargetOptions & { readonly json?: boolean },
  io: { readonly stdout: NodeJS.WriteStream },
): Promise<number> {
  return withTarget(options, async (target) => {
    const table = await openJobTable(target);
    try {
      const record = await readJob(table.dynamodb, table.jobTable, videoId);
      if (!record) throw unknownVideo(target, videoId);
      const report = jobReport(record);
      io.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `${describeReport(report)}\n`);
      return EXIT.ok;
    } finally {
      await table.close();
    }
  });
}

/** No job for the video id: exit 3, saying where it looked and what a video id is. */

export function unknownVideo(target: StackTarget, videoId: string): CliError {
  const where = target.kind === 'local' ? `the local job table in ${target.dataDirectory}` : `job table ${target.jobTable} (${target.source})`;
  return new CliError(
    `No job for video id ${JSON.stringify(videoId)} in ${where}. The video id is the uploaded object's key (for frames run: the file name); frames list shows recent ones.`,
    EXIT.environment,
  );
}
