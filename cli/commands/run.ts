import { Command } from 'commander';
import { loadProjectStackConfig } from '../../pipeline/stack-config';
import { type CaptureOptions, overrideMetadata } from '../capture-options';
import { captureOptions, dataDirOption } from '../command-options';
import type { Io } from '../io';
import { type JobReport, printReports } from '../job-report';
import { readJob } from '../job-reads';
import { connectLocalPipeline, dataDirectoryOf } from '../pipeline-connection';
import { progressView } from '../progress-view';
import { printReportPaths, reportAfterRun } from '../report/run-report';
import { explainNeverStarted, followToReport } from '../run-follower';
import { uploadVideo, videosToRun } from '../video-files';

export interface RunOptions extends CaptureOptions {
  readonly dataDirectory: string;
  readonly processor?: string;
  readonly key?: string;
  readonly json?: boolean;
  /** Write each finished run's HTML report beside its results (cli/report/). */
  readonly report?: boolean;
}

/** The flags of `frames run` and `frames demo`, as commander hands them over. */
export interface RunFlags extends CaptureOptions {
  readonly processor?: string;
  readonly key?: string;
  readonly json?: boolean;
  readonly dataDir?: string;
  readonly report?: boolean;
}

export const runOptionsOf = (flags: RunFlags): RunOptions => ({ ...flags, dataDirectory: dataDirectoryOf(flags.dataDir) });

export function runCommand(io: Io): Command {
  return captureOptions(
    new Command('run')
      .description('Run videos through the local pipeline (no AWS account needed): upload, extract, process, fetch results')
      .argument('<videos...>', 'video files; each becomes the video id (and key) of its file name')
      .option('--processor <path>', 'processor module for this run (exports processFrame); default: the stack config')
      .option('--key <key>', 'object key (and video id) for a single video, e.g. trips/2026-11-21.mp4')
      .option('--json', 'print each final job record as one JSON object per line on stdout')
      .option('--report', 'write an HTML report of each finished run beside its results (<data dir>/results/<run prefix>/report.html)')
      .addOption(dataDirOption()),
  ).action(async (videos: string[], flags: RunFlags) => {
    process.exitCode = await runVideos(videos, runOptionsOf(flags), io);
  });
}

/**
 * `frames run`: uploads each video into the local pipeline's ingress bucket, follows its job to the
 * end, fetches the results of COMPLETE runs, and reports. Resolves with the exit code.
 */
export async function runVideos(paths: readonly string[], options: RunOptions, io: Io): Promise<number> {
  const metadata = overrideMetadata(options);
  const videos = videosToRun(paths, options.key, loadProjectStackConfig().videoSuffixes);
  const warnings: string[] = [];
  const connection = await connectLocalPipeline({
    dataDirectory: options.dataDirectory,
    processor: options.processor,
    onWarning: (message) => warnings.push(message),
    onStatus: (message) => io.stderr.write(`${message}\n`),
  });
  if (connection.faults.length > 0) io.stderr.write(`Fault injection is on (FRAMES_FAULTS): ${connection.faults.join(', ')}\n`);
  const view = progressView(io.stderr, videos.map((video) => video.key));
  let reports: JobReport[];
  try {
    reports = await Promise.all(
      videos.map(async (video) => {
        const previous = await readJob(connection.dynamodb, connection.jobTable, video.key);
        await uploadVideo(connection, video, metadata, (bytes) => view.uploaded(video.key, bytes, video.size));
        const report = await followToReport({ connection, videoId: video.key, previousRunId: previous?.RunId, view, dataDirectory: options.dataDirectory });
        return options.report ? reportAfterRun(connection, report, options.dataDirectory, io.stderr) : report;
      }),
    );
  } catch (error) {
    explainNeverStarted(error, options.dataDirectory, warnings);
  } finally {
    view.stop();
    await connection.close();
  }
  const code = printReports(reports, options.json, io.stdout);
  if (!options.json) printReportPaths(reports, io.stdout);
  return code;
}
