import { Command } from 'commander';
import { type TargetFlags, targetOf, targetOptions } from '../command-options';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { readJob, unknownVideo } from '../job-reads';
import { describeReport, jobReport } from '../job-report';
import { openJobTable, withTarget } from '../pipeline-connection';
import type { TargetOptions } from '../stack-target';

export function statusCommand(io: Io): Command {
  return targetOptions(
    new Command('status')
      .description("Show a video's job record")
      .argument('<videoId>', 'the video id: the key it was uploaded under (for frames run: its file name)')
      .option('--json', 'print the record as one JSON object'),
  ).action(async (videoId: string, flags: TargetFlags) => {
    process.exitCode = await showStatus(videoId, targetOf(flags), io);
  });
}

/** `frames status <videoId>`: a video's job record, from the local job table or a deployed stack's. */
export async function showStatus(videoId: string, options: TargetOptions & { readonly json?: boolean }, io: Pick<Io, 'stdout'>): Promise<number> {
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
