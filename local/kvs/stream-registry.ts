import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ffmpegOutput, probeMedia, runFfmpeg } from '../ffmpeg';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../local-identity';

/**
 * Local Kinesis video streams: a video file registered under a stream name becomes a stream of
 * fragments, stored the way KVS stores them, one file per fragment. A fragment starts at each of
 * the file's keyframes (KVS producers start a fragment at a keyframe too), and is the file's
 * packets up to the next keyframe, stream-copied by ffmpeg's segment muxer: no re-encoding, so a
 * clip's frames are the file's frames exactly. Fragments are MPEG-TS, not KVS's Matroska: TS
 * fragments joined byte for byte are one stream with the original, continuous timestamps, where
 * ffmpeg's concat demuxer over Matroska fragments drifted by ~50 ms a fragment (measured).
 *
 * Layout: `<data>/kvs/<name>/stream.json` and `<data>/kvs/<name>/fragments/NNNNNN.ts`.
 */

export interface LocalFragment {
  /** A decimal string as long as KVS's, ordered like the fragments. */
  readonly number: string;
  readonly producerMs: number;
  readonly serverMs: number;
  readonly lengthMs: number;
  readonly sizeBytes: number;
  /** File name under the stream's fragments directory. */
  readonly file: string;
}

export interface LocalStream {
  readonly name: string;
  readonly arn: string;
  readonly createdAt: string;
  /** 0 keeps nothing: GetClip answers NoDataRetentionException, as KVS does. */
  readonly dataRetentionHours: number;
  /** ffmpeg's name of the video codec: GetClip serves h264 and hevc only. */
  readonly codec: string;
  /** ffmpeg's name of the audio codec, when the stream has audio. */
  readonly audioCodec?: string;
  readonly sourceFile: string;
  readonly fragments: readonly LocalFragment[];
}

/** Server timestamps are when KVS received a fragment: locally, a fixed second after it was produced. */
export const LOCAL_INGEST_DELAY_MS = 1000;

const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,256}$/;

export class StreamRegistryError extends Error {
  override readonly name = 'StreamRegistryError';
}

export const streamsDirectory = (dataDirectory: string) => join(dataDirectory, 'kvs');
const streamDirectory = (dataDirectory: string, name: string) => join(streamsDirectory(dataDirectory), name);

export function fragmentPath(dataDirectory: string, stream: LocalStream, fragment: LocalFragment): string {
  return join(streamDirectory(dataDirectory, stream.name), 'fragments', fragment.file);
}

/** Every registered stream, read afresh (add-stream may run while a local cloud serves them). */
export function listStreams(dataDirectory: string): LocalStream[] {
  const root = streamsDirectory(dataDirectory);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((name) => join(root, name, 'stream.json'))
    .filter((path) => existsSync(path))
    .map((path) => JSON.parse(readFileSync(path, 'utf8')) as LocalStream);
}

export function findStream(dataDirectory: string, nameOrArn: { name?: string; arn?: string }): LocalStream | undefined {
  return listStreams(dataDirectory).find((stream) =>
    nameOrArn.arn ? stream.arn === nameOrArn.arn : stream.name === nameOrArn.name,
  );
}

export interface AddStreamOptions {
  readonly dataDirectory: string;
  readonly name: string;
  readonly videoPath: string;
  /** Producer time of the file's first frame; default: the file ends now, as if just recorded. */
  readonly startMs?: number;
  readonly dataRetentionHours?: number;
  /** Replace a stream of the same name instead of refusing. */
  readonly replace?: boolean;
}

/** Registers a video file as a local stream: probes it, finds its keyframes, writes its fragments. */
export async function addStream(options: AddStreamOptions): Promise<LocalStream> {
  const { dataDirectory, name, videoPath } = options;
  if (!STREAM_NAME.test(name)) {
    throw new StreamRegistryError(`${JSON.stringify(name)} is not a stream name KVS accepts: 1-256 letters, digits, "_", "." or "-".`);
  }
  const directory = streamDirectory(dataDirectory, name);
  if (existsSync(join(directory, 'stream.json')) && !options.replace) {
    throw new StreamRegistryError(`A local stream named ${name} already exists; pass --replace to replace it, or choose another name.`);
  }
  if (!existsSync(videoPath) || !statSync(videoPath).isFile()) throw new StreamRegistryError(`${videoPath}: no such file.`);
  const probe = await probeMedia(videoPath);
  if (!probe?.video) throw new StreamRegistryError(`${videoPath} is not a video ffmpeg can read.`);

  const keyframes = await readKeyframes(videoPath);
  if (keyframes.startsMs.length === 0) throw new StreamRegistryError(`${videoPath} has no keyframes to start fragments at.`);
  const startMs = options.startMs ?? Math.floor((Date.now() - keyframes.endMs) / 1000) * 1000;

  // Written beside the old stream and swapped in, so a running local cloud never sees half of it.
  const staging = `${directory}.staging`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'fragments'), { recursive: true });
  await runFfmpeg([
    '-i', videoPath,
    '-map', '0:v:0', '-map', '0:a:0?', '-c', 'copy',
    // A segment at every keyframe: 1 ms is shorter than any GOP.
    '-f', 'segment', '-segment_time', '0.001', '-segment_format', 'mpegts',
    join(staging, 'fragments', '%06d.ts'),
  ]);
  const files = readdirSync(join(staging, 'fragments')).sort();
  if (files.length !== keyframes.startsMs.length) {
    rmSync(staging, { recursive: true, force: true });
    throw new StreamRegistryError(
      `${videoPath} split into ${files.length} fragments at ${keyframes.startsMs.length} keyframes; its keyframes could not be read reliably.`,
    );
  }
  const fragments = keyframes.startsMs.map((offsetMs, index): LocalFragment => {
    const nextMs = keyframes.startsMs[index + 1] ?? keyframes.endMs;
    return {
      number: `91343852333181432${String(startMs).padStart(14, '0')}${String(index).padStart(8, '0')}`,
      producerMs: startMs + offsetMs,
      serverMs: startMs + offsetMs + LOCAL_INGEST_DELAY_MS,
      lengthMs: nextMs - offsetMs,
      sizeBytes: statSync(join(staging, 'fragments', files[index])).size,
      file: files[index],
    };
  });
  const stream: LocalStream = {
    name,
    arn: `arn:aws:kinesisvideo:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stream/${name}/${Date.now()}`,
    createdAt: new Date().toISOString(),
    dataRetentionHours: options.dataRetentionHours ?? 24,
    codec: probe.video.codec,
    ...(probe.audioCodec ? { audioCodec: probe.audioCodec } : {}),
    sourceFile: videoPath,
    fragments,
  };
  writeFileSync(join(staging, 'stream.json'), `${JSON.stringify(stream, null, 1)}\n`);
  rmSync(directory, { recursive: true, force: true });
  renameSync(staging, directory);
  return stream;
}

/**
 * The video stream's keyframe times (ms from the first keyframe) and where its last frame ends,
 * from ffmpeg's per-packet report (`-f framecrc`, stream copy: nothing is decoded). framecrc
 * prints a packet's flags only when they are not exactly "keyframe".
 */
export async function readKeyframes(videoPath: string): Promise<{ startsMs: number[]; endMs: number }> {
  const { code, stdout, stderr } = await ffmpegOutput(['-i', videoPath, '-map', '0:v:0', '-c', 'copy', '-f', 'framecrc', '-']);
  if (code !== 0) throw new StreamRegistryError(`ffmpeg could not read the packets of ${videoPath}: ${stderr.trim().split('\n').pop()}`);
  return parseFramecrc(stdout);
}

export function parseFramecrc(text: string): { startsMs: number[]; endMs: number } {
  const timebase = /^#tb 0: (\d+)\/(\d+)/m.exec(text);
  if (!timebase) return { startsMs: [], endMs: 0 };
  const toMs = (ticks: number) => (ticks * 1000 * Number(timebase[1])) / Number(timebase[2]);
  const keys: number[] = [];
  let end = -Infinity;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.trim()) continue;
    const fields = line.split(',').map((field) => field.trim());
    const pts = Number(fields[2]);
    const duration = Number(fields[3]);
    const flags = fields[6]?.startsWith('F=') ? Number.parseInt(fields[6].slice(2), 16) : 1;
    // eslint-disable-next-line no-bitwise
    if (flags & 1) keys.push(pts);
    end = Math.max(end, pts + duration);
  }
  keys.sort((a, b) => a - b);
  const first = keys[0] ?? 0;
  return { startsMs: keys.map((pts) => Math.round(toMs(pts - first))), endMs: Math.round(toMs(end - first)) };
}
