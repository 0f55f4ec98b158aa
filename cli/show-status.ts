import { CliError, EXIT } from './exit-codes';
import { describeReport, jobReport } from './job-report';
import { readJob } from './job-watch';
import { againstTarget, openJobTable } from './pipeline-connection';
import type { JobRecord } from '../pipeline/job-record';
import { type StackTarget, type TargetOptions, resolveTarget } from './stack-target';

/** `frames status <videoId>`: a video's job record, from the local job table or a deployed stack's. */
export async function showStatus(
  videoId: string,
  options: TargetOptions & { readonly json?: boolean },
  io: { readonly stdout: NodeJS.WriteStream },
): Promise<number> {
  const target = resolveTarget(options);
  const record = await readExistingJob(target, videoId);
  const report = jobReport(record);
  io.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `${describeReport(report)}\n`);
  return EXIT.ok;
}

/** The video's record, or a CliError (exit 3) that says where it looked and what a video id is. */
export async function readExistingJob(target: StackTarget, videoId: string): Promise<JobRecord> {
  const table = await againstTarget(target, () => openJobTable(target));
  try {
    const record = await againstTarget(target, () => readJob(table.dynamodb, table.jobTable, videoId));
    if (!record) throw unknownVideo(target, videoId);
    return record;
  } finally {
    await table.close();
  }
}

export function unknownVideo(target: StackTarget, videoId: string): CliError {
  const where = target.kind === 'local' ? `the local job table in ${target.dataDirectory}` : `job table ${target.jobTable} (${target.source})`;
  return new CliError(
    `No job for video id ${JSON.stringify(videoId)} in ${where}. The video id is the uploaded object's key (for frames run: the file name); frames list shows recent ones.`,
    EXIT.environment,
  );
}
