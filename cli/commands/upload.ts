import { EXIT } from './exit-codes';
import { dataDirectoryOf, openPipeline, withTarget } from './pipeline-connection';
import { byteProgress } from './progress-view';
import { type CaptureOptions, type Io, overrideMetadata, uploadVideo, videosToRun } from './run-videos';
import type { TargetOptions } from './stack-target';
import { loadProjectStackConfig } from '../pipeline/stack-config';

export interface UploadOptions extends CaptureOptions, TargetOptions {
  readonly key?: string;
  readonly json?: boolean;
}

/**
 * `frames upload`: puts one video into the pipeline's ingress bucket (multipart, with the capture
 * overrides as object metadata) and prints the video id its job will have: the key. It does not
 * wait for the job; `frames watch` does.
 */
export async function uploadCommand(path: string, options: UploadOptions, io: Io): Promise<number> {
  const metadata = overrideMetadata(options);
  const [video] = videosToRun([path], options.key, loadProjectStackConfig().videoSuffixes);
  const bucket = await withTarget(options, async (target) => {
    const connection = await openPipeline(target, { startLocal: false });
    const progress = byteProgress(io.stderr, video.key, video.size);
    try {
      await uploadVideo(connection, video, metadata, (bytes) => progress.update(bytes));
      return connection.ingressBucket;
    } finally {
      progress.stop();
      await connection.close();
    }
  });
  const follow = `frames watch ${shellQuote(video.key)}${followFlags(options)}`;
  io.stdout.write(
    options.json
      ? `${JSON.stringify({ videoId: video.key, bucket, key: video.key, bytes: video.size, overrides: metadata })}\n`
      : `Uploaded ${video.key} to s3://${bucket}/${video.key}\nVideo id: ${video.key}\nFollow it: ${follow}\n`,
  );
  return EXIT.ok;
}

function followFlags(options: UploadOptions): string {
  if (options.stackOutputs) return ` --stack-outputs ${shellQuote(options.stackOutputs)}`;
  const dataDir = options.dataDirectory === dataDirectoryOf(undefined) ? '' : ` --data-dir ${shellQuote(options.dataDirectory)}`;
  return `${options.local ? ' --local' : ''}${dataDir}`;
}

/** Quotes a word for a POSIX shell when it needs it, so the printed command can be pasted. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

