import { Command, Option } from 'commander';
import { addLocalStream } from './add-stream';
import { requestClip } from './clip';
import { CliError, EXIT } from './exit-codes';
import { FaultPlanError } from '../local/faults/fault-plan';
import { localUp } from './local-up';
import { dataDirectoryOf } from './pipeline-connection';
import { type RunOptions, runVideos } from './run-videos';
import { demoSample } from './sample-video';
import { showStatus } from './show-status';
import { resultsCommand } from './fetch-results';
import { LIST_LIMITS, listCommand } from './list-jobs';
import { uploadCommand } from './upload';
import { estimateCommand } from './estimate/estimate-command';
import { watchCommand } from './watch-job';
import { JOB_STATUS } from '../pipeline/job-record';

const io = { stdout: process.stdout, stderr: process.stderr };

const EXIT_HELP = `
Exit codes:
  0  done (run: every video COMPLETE)
  1  a job FAILED; its error code and message are printed
  2  bad command line or input file; nothing was started
  3  job, stack, credentials or local cloud not found, or another problem (function logs: <data dir>/logs)`;

const dataDirOption = () =>
  new Option('--data-dir <dir>', 'local cloud data: objects, job table, logs, results').env('FRAMES_DATA_DIR').default('.frames');

const TARGET_HELP = `
Which pipeline (first match wins):
  --local                      the local cloud on --data-dir
  --stack-outputs <file>       the deployed stack in a \`cdktf deploy --outputs-file\` file
  $FRAMES_STACK_OUTPUTS        the same, from the environment
  $FRAMES_INGRESS_BUCKET, $FRAMES_EGRESS_BUCKET, $FRAMES_JOB_TABLE (+ $FRAMES_PIPELINE_NAME)
                               a deployed stack named by its resources, in $AWS_REGION
  ./stack-outputs.json         the outputs file the README's deploy command writes
  otherwise                    the local cloud on --data-dir
A deployed stack is reached with the standard AWS credential chain (AWS_PROFILE, SSO, keys, roles).`;

const ESTIMATE_HELP = `
The figures (README, "frames estimate", says how each is counted):
  frames        ceil(duration x fps), at most --max-captures; batches of processing.framesPerMessage
  MediaConvert  output minutes of the frame capture and the 180-line proxy (1 s steps, 10 s minimum),
                priced by resolution (SD/HD/UHD) and output frame rate class
  S3 requests   PUT/LIST: upload, one per frame, proxy, listing, batch results, results files;
                GET/HEAD: the input, one per frame, batch results, your download
  S3 storage    frames, proxy and batch results for framesRetentionDays; video and results a month
  Lambda        requests of ingress, completion (one per MediaConvert event) and workers, and GB-seconds
                from the processor's time per frame (measured here on sample frames, or --ms-per-frame)
  SQS           SendMessageBatch, and the event source mapping's receives and deletes
  DynamoDB      write units of the job record (it grows a few bytes a batch) and its status index
  wall time     extraction at 1x real time, fan-out, processing on min(maxConcurrency, invocations)
                workers, fan-in
Prices are a dated table; check it against AWS's pages or pass your own with --prices.`;

/** The options that choose the pipeline a command talks to (cli/stack-target.ts). */
function targetOptions(command: Command): Command {
  return command
    .option('--stack-outputs <file>', 'the deployed stack this `cdktf deploy --outputs-file` file describes')
    .option('--local', 'the local cloud, even if a deployed stack is configured')
    .addOption(dataDirOption())
    .addHelpText('after', TARGET_HELP);
}

interface TargetFlags {
  stackOutputs?: string;
  local?: boolean;
  dataDir?: string;
  json?: boolean;
}

const targetOf = (flags: TargetFlags) => ({ stackOutputs: flags.stackOutputs, local: flags.local, json: flags.json, dataDirectory: dataDirectoryOf(flags.dataDir) });

function captureOptions(command: Command): Command {
  return command
    .option('--fps <rate>', 'frames captured per second: N, N/D (30000/1001) or a decimal (0.5); default: the stack config')
    .option('--quality <q>', 'JPEG quality 1..100 (MediaConvert scale); default: the stack config')
    .option('--max-captures <n>', 'capture at most this many frames');
}

interface RunFlags {
  fps?: string;
  quality?: string;
  maxCaptures?: string;
  processor?: string;
  key?: string;
  json?: boolean;
  dataDir?: string;
}

const runOptions = (flags: RunFlags): RunOptions => ({
  fps: flags.fps,
  quality: flags.quality,
  maxCaptures: flags.maxCaptures,
  processor: flags.processor,
  key: flags.key,
  json: flags.json,
  dataDirectory: dataDirectoryOf(flags.dataDir),
});

export function program(): Command {
  const frames = new Command('frames')
    .description('Video frame pipeline: every frame (or N a second) of a video, processed in parallel.')
    .addHelpText('after', EXIT_HELP)
    .showHelpAfterError()
    .exitOverride();

  captureOptions(
    frames
      .command('run')
      .description('Run videos through the local pipeline (no AWS account needed): upload, extract, process, fetch results')
      .argument('<videos...>', 'video files; each becomes the video id (and key) of its file name')
      .option('--processor <path>', 'processor module for this run (exports processFrame); default: the stack config')
      .option('--key <key>', 'object key (and video id) for a single video, e.g. trips/2026-11-21.mp4')
      .option('--json', 'print each final job record as one JSON object per line on stdout')
      .addOption(dataDirOption()),
  ).action(async (videos: string[], flags: RunFlags) => {
    process.exitCode = await runVideos(videos, runOptions(flags), io);
  });

  captureOptions(
    frames
      .command('demo')
      .description('Run the local pipeline on a generated 10 s sample (captured at 5 fps), or on the video given')
      .argument('[video]', 'a video file to run instead of the sample')
      .option('--processor <path>', 'processor module (exports processFrame)')
      .option('--json', 'print the final job record as JSON')
      .addOption(dataDirOption()),
  ).action(async (video: string | undefined, flags: RunFlags) => {
    const options = runOptions(flags);
    const path = video ?? (await demoSample(options.dataDirectory));
    if (!video) io.stderr.write(`Running the generated sample ${path}\n`);
    process.exitCode = await runVideos([path], { ...options, fps: options.fps ?? (video ? undefined : '5') }, io);
  });

  targetOptions(
    captureOptions(
      frames
        .command('clip')
        .description('Clip a time range of a Kinesis video stream and run it through the pipeline (locally: streams added with `frames local add-stream`)')
        .requiredOption('--stream <name>', 'the stream: its name, or its ARN')
        .requiredOption('--start <time>', 'start of the range, ISO 8601 with a zone (2026-11-21T08:00:30Z); fragments that start at or after it')
        .requiredOption('--end <time>', 'end of the range, inclusive: fragments that start up to it (at most 24 hours after --start)')
        .option('--timestamp-type <type>', 'select fragments by PRODUCER_TIMESTAMP (the camera clock) or SERVER_TIMESTAMP (arrival)', 'PRODUCER_TIMESTAMP')
        .option('--video-id <id>', "the job's video id; default kvs/<stream>/<start>--<end>")
        .option('--json', 'print the final job record (or, deployed, the video id) as JSON'),
    ),
  ).action(async (flags: RunFlags & TargetFlags & { stream: string; start: string; end: string; timestampType?: string; videoId?: string }) => {
    process.exitCode = await requestClip({ ...flags, ...runOptions(flags), ...targetOf(flags) }, io);
  });

  targetOptions(
    captureOptions(
      frames
        .command('upload')
        .description("Upload a video into the pipeline's ingress bucket (multipart, with a progress bar) and print its video id; frames watch follows it")
        .argument('<video>', 'the video file')
        .option('--key <key>', 'object key, which is the video id (default: the file name), e.g. trips/2026-11-21.mp4')
        .option('--json', 'print {videoId, bucket, key, bytes, overrides} as JSON'),
    ),
  ).action(async (video: string, flags: RunFlags & TargetFlags) => {
    process.exitCode = await uploadCommand(video, { ...flags, ...targetOf(flags) }, io);
  });

  targetOptions(
    frames
      .command('status')
      .description("Show a video's job record")
      .argument('<videoId>', 'the video id: the key it was uploaded under (for frames run: its file name)')
      .option('--json', 'print the record as one JSON object'),
  ).action(async (videoId: string, flags: TargetFlags) => {
    process.exitCode = await showStatus(videoId, targetOf(flags), io);
  });

  targetOptions(
    frames
      .command('watch')
      .description("Follow a video's job with live progress bars until it is COMPLETE or FAILED (exit 0 or 1)")
      .argument('<videoId>', 'the video id (the uploaded key)')
      .option('--wait <seconds>', 'how long to wait for a job that has not started yet (just uploaded)', wholeNumber('--wait', 0, 86_400), 30)
      .option('--json', 'print the final record as one JSON object'),
  ).action(async (videoId: string, flags: TargetFlags & { wait: number }) => {
    process.exitCode = await watchCommand(videoId, { ...targetOf(flags), waitSeconds: flags.wait }, io);
  });

  targetOptions(
    frames
      .command('list')
      .description('List recent jobs, newest first (from the job table\'s status index: no table scan)')
      .option('--status <status>', `only jobs in this status: ${Object.values(JOB_STATUS).join(', ')}`)
      .option('--limit <n>', `at most this many (1..${LIST_LIMITS.max})`, wholeNumber('--limit', 1, LIST_LIMITS.max), LIST_LIMITS.default)
      .option('--json', 'print one JSON object per job per line'),
  ).action(async (flags: TargetFlags & { status?: string; limit: number }) => {
    process.exitCode = await listCommand({ ...targetOf(flags), status: flags.status, limit: flags.limit }, io);
  });

  targetOptions(
    frames
      .command('results')
      .description("Download a COMPLETE job's results.jsonl and summary.json (exit 1 if it FAILED, 3 if it is not done)")
      .argument('<videoId>', 'the video id (the uploaded key)')
      .option('--out <dir>', 'directory to write them into (default ./frames-results/<run prefix>)')
      .option('--json', 'print the job and the paths as one JSON object'),
  ).action(async (videoId: string, flags: TargetFlags & { out?: string }) => {
    process.exitCode = await resultsCommand(videoId, { ...targetOf(flags), out: flags.out }, io);
  });

  captureOptions(
    frames
      .command('estimate')
      .description('Estimate what a run on the deployed stack would produce, cost and take (no AWS account needed)')
      .argument('<video>', 'the video file: probed, and 5 sample frames measured with the configured processor')
      .option('--region <region>', 'prices of this region (default: $AWS_REGION, the stack config, or us-east-1)')
      .option('--prices <file>', 'a price table of the shape of cli/estimate/aws-prices.json (default: that file)')
      .option('--ms-per-frame <ms>', "the processor's time per frame on Lambda, instead of the time measured here")
      .option('--json', 'print the inputs, the assumptions and every figure as one JSON object')
      .addHelpText('after', ESTIMATE_HELP),
  ).action(async (video: string, flags: RunFlags & { region?: string; prices?: string; msPerFrame?: string }) => {
    process.exitCode = await estimateCommand(video, flags, io);
  });

  const local = frames.command('local').description('The local cloud: S3, DynamoDB, SQS, MediaConvert, Kinesis Video Streams and EventBridge on this machine');
  local
    .command('up')
    .description('Start the local cloud and keep it running; uploads to its ingress bucket run through the pipeline')
    .option('--port <n>', 'first of six consecutive ports (S3, DynamoDB, SQS, MediaConvert, KVS, EventBridge); default: free ports', wholeNumber('--port', 1024, 65_530))
    .option('--processor <path>', 'processor module (exports processFrame)')
    .option('--json', 'print the endpoints and resource names as JSON')
    .addOption(dataDirOption())
    .action(async (flags: { port?: number; processor?: string; json?: boolean; dataDir?: string }) => {
      const stop = await localUp({ ...flags, dataDirectory: dataDirectoryOf(flags.dataDir) }, io);
      await new Promise<void>((resolve) => {
        const shutdown = () => resolve();
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
      });
      io.stderr.write('Stopping the local cloud...\n');
      await stop();
    });

  local
    .command('add-stream')
    .description('Register a video file as a local Kinesis video stream (fragments at its keyframes) for `frames clip`')
    .argument('<name>', 'the stream name')
    .argument('<video>', 'the video file; H.264 or H.265 for GetClip to serve it, as in KVS')
    .option('--start <time>', "producer time of the video's first frame, ISO 8601 with a zone; default: the video ends now")
    .option('--retention-hours <n>', 'data retention; 0 keeps nothing (GetClip then answers NoDataRetentionException)', '24')
    .option('--replace', 'replace a local stream of the same name')
    .option('--json', 'print the stream as JSON')
    .addOption(dataDirOption())
    .action(async (name: string, video: string, flags: { start?: string; retentionHours?: string; replace?: boolean; json?: boolean; dataDir?: string }) => {
      process.exitCode = await addLocalStream(name, video, { ...flags, dataDirectory: dataDirectoryOf(flags.dataDir) }, io);
    });

  return frames;
}

/** A commander parser for a whole-number option within bounds: a usage error (exit 2) otherwise. */
function wholeNumber(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < min || number > max) {
      throw new CliError(`${flag} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}.`, EXIT.usage);
    }
    return number;
  };
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    await program().parseAsync(argv as string[]);
  } catch (error) {
    const commander = error as { code?: string; exitCode?: number };
    if (commander.code?.startsWith('commander.')) {
      // Help and version exit 0; a bad command line has already been explained by commander.
      process.exitCode = commander.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    // A bad FRAMES_FAULTS is a usage error too (local/ cannot throw the CLI's own errors).
    if (error instanceof CliError || error instanceof FaultPlanError) {
      io.stderr.write(`frames: ${error.message}\n`);
      process.exitCode = error instanceof CliError ? error.exitCode : EXIT.usage;
      return;
    }
    io.stderr.write(`frames: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = EXIT.environment;
  }
}
