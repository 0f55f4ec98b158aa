import { createReadStream, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import { CliError, EXIT } from './exit-codes';
import type { PipelineConnection } from './pipeline-connection';

export interface VideoToRun {
  readonly path: string;
  readonly key: string;
  readonly size: number;
}

/** The size of a file named on the command line, or a usage error that says why it cannot be read. */
export function fileSizeOf(path: string): number {
  try {
    const stats = statSync(path);
    if (!stats.isFile()) throw new CliError(`${path} is not a file.`, EXIT.usage);
    return stats.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`, EXIT.usage);
  }
}

/** Checks the files and names their keys before anything starts. */
export function videosToRun(paths: readonly string[], key: string | undefined, suffixes: readonly string[]): VideoToRun[] {
  if (paths.length === 0) throw new CliError('Name at least one video file.', EXIT.usage);
  if (key !== undefined && paths.length > 1) throw new CliError('--key names one video; give one file with it.', EXIT.usage);
  const videos = paths.map((path) => {
    const size = fileSizeOf(path);
    const objectKey = key ?? basename(path);
    if (!suffixes.some((suffix) => objectKey.toLowerCase().endsWith(suffix.toLowerCase()))) {
      throw new CliError(
        `${objectKey} does not end in one of the video suffixes the pipeline picks up (${suffixes.join(', ')}); rename it or pass --key name.mp4.`,
        EXIT.usage,
      );
    }
    return { path: resolve(path), key: objectKey, size };
  });
  const keys = new Set<string>();
  for (const video of videos) {
    if (keys.has(video.key)) throw new CliError(`Two of the videos would have the same key ${video.key}; run them one at a time.`, EXIT.usage);
    keys.add(video.key);
  }
  return videos;
}

/** Multipart above 8 MiB, four parts in flight: what the AWS CLI does for large files. */
const PART_SIZE = 8 * 1024 * 1024;

export async function uploadVideo(
  connection: PipelineConnection,
  video: VideoToRun,
  metadata: Record<string, string>,
  onProgress: (bytes: number) => void,
): Promise<void> {
  const upload = new Upload({
    client: connection.s3,
    partSize: PART_SIZE,
    queueSize: 4,
    params: { Bucket: connection.ingressBucket, Key: video.key, Body: createReadStream(video.path), Metadata: metadata },
  });
  upload.on('httpUploadProgress', (progress) => onProgress(progress.loaded ?? 0));
  await upload.done();
  onProgress(video.size);
}
