import { Command } from 'commander';
import { StreamRegistryError, addStream } from '../../local/kvs/stream-registry';
import { parseIsoTime } from '../../pipeline/clip-request';
import { dataDirOption } from '../command-options';
import { CliError, EXIT } from '../exit-codes';
import type { Io } from '../io';
import { dataDirectoryOf } from '../pipeline-connection';

export interface AddStreamFlags {
  readonly start?: string;
  readonly retentionHours?: string;
  readonly replace?: boolean;
  readonly json?: boolean;
  readonly dataDirectory: string;
}

export function addStreamCommand(io: Io): Command {
  return new Command('add-stream')
    .description('Register a video file as a local Kinesis video stream (fragments at its keyframes) for `frames clip`')
    .argument('<name>', 'the stream name')
    .argument('<video>', 'the video file; H.264 or H.265 for GetClip to serve it, as in KVS')
    .option('--start <time>', "producer time of the video's first frame, ISO 8601 with a zone; default: the video ends now")
    .option('--retention-hours <n>', 'data retention; 0 keeps nothing (GetClip then answers NoDataRetentionException)', '24')
    .option('--replace', 'replace a local stream of the same name')
    .option('--json', 'print the stream as JSON')
    .addOption(dataDirOption())
    .action(async (name: string, video: string, flags: Omit<AddStreamFlags, 'dataDirectory'> & { dataDir?: string }) => {
      process.exitCode = await addLocalStream(name, video, { ...flags, dataDirectory: dataDirectoryOf(flags.dataDir) }, io);
    });
}

/**
 * `frames local add-stream NAME video.mp4`: registers a video file as a local Kinesis video
 * stream whose first frame was produced at `--start`, for `frames clip` and the local KVS endpoint.
 */
export async function addLocalStream(name: string, videoPath: string, flags: AddStreamFlags, io: Io): Promise<number> {
  const startMs = flags.start === undefined ? undefined : parseIsoTime(flags.start);
  if (flags.start !== undefined && startMs === undefined) {
    throw new CliError(`--start ${JSON.stringify(flags.start)} is not an ISO 8601 time with a zone, e.g. 2026-11-21T08:00:00Z.`, EXIT.usage);
  }
  const retention = flags.retentionHours === undefined ? undefined : Number(flags.retentionHours);
  if (retention !== undefined && (!Number.isInteger(retention) || retention < 0 || retention > 87_600)) {
    throw new CliError('--retention-hours must be a whole number of hours from 0 (keep nothing) to 87600 (ten years), as KVS allows.', EXIT.usage);
  }
  let stream;
  try {
    stream = await addStream({ dataDirectory: flags.dataDirectory, name, videoPath, startMs, dataRetentionHours: retention, replace: flags.replace });
  } catch (error) {
    if (error instanceof StreamRegistryError) throw new CliError(error.message, EXIT.usage);
    throw error;
  }
  const first = stream.fragments[0];
  const last = stream.fragments.at(-1)!;
  const summary = {
    name: stream.name,
    arn: stream.arn,
    fragments: stream.fragments.length,
    firstProducerTimestamp: new Date(first.producerMs).toISOString(),
    endProducerTimestamp: new Date(last.producerMs + last.lengthMs).toISOString(),
    codec: stream.codec,
    dataRetentionHours: stream.dataRetentionHours,
  };
  io.stdout.write(
    flags.json
      ? `${JSON.stringify(summary)}\n`
      : `Stream ${summary.name}: ${summary.fragments} fragments (${summary.codec}) from ${summary.firstProducerTimestamp} to ${summary.endProducerTimestamp}.\n` +
          `Clip it with: npx frames clip --stream ${summary.name} --start ${summary.firstProducerTimestamp} --end ${summary.endProducerTimestamp}\n`,
  );
  return EXIT.ok;
}
