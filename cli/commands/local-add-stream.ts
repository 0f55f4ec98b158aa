import { parseIsoTime } from '../pipeline/clip-request';
import { StreamRegistryError, addStream } from '../local/kvs/stream-registry';
import { CliError, EXIT } from './exit-codes';
import type { Io } from './run-videos';

export interface AddStreamFlags {
  readonly start?: string;
  readonly retentionHours?: string;
  readonly replace?: boolean;
  readonly json?: boolean;
  readonly dataDirectory: string;
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
          `Clip it with: frames clip --stream ${summary.name} --start ${summary.firstProducerTimestamp} --end ${summary.endProducerTimestamp}\n`,
  );
  return EXIT.ok;
}
