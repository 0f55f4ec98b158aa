import { Command } from 'commander';
import { loadProjectStackConfig } from '../../pipeline/stack-config';
import { type CaptureOptions, overrideMetadata } from '../capture-options';
import { type TargetFlags, captureOptions, targetOf, targetOptions } from '../command-options';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { openPipeline, withTarget } from '../pipeline-connection';
import { byteProgress } from '../progress-view';
import { framesCommandLine } from '../shell-quote';
import type { TargetOptions } from '../stack-target';
import { uploadVideo, videosToRun } from '../video-files';

export interface UploadOptions extends CaptureOptions, TargetOptions {
  readonly key?: string;
  readonly json?: boolean;
}

export function uploadCommand(io: Io): Command {
  return targetOptions(
    captureOptions(
      new Command('upload')
        .description("Upload a video into the pipeline's ingress bucket (multipart, with a progress bar) and print its video id; frames watch follows it")
        .argument('<video>', 'the video file')
        .option('--key <key>', 'object key, which is the video id (default: the file name), e.g. trips/2026-11-21.mp4')
        .option('--json', 'print {videoId, bucket, key, bytes, overrides} as JSON'),
    ),
  ).action(async (video: string, flags: CaptureOptions & TargetFlags & { key?: string }) => {
    process.exitCode = await uploadFile(video, { ...flags, ...targetOf(flags) }, io);
  });
}

/**
 * `frames upload`: puts one video into the pipeline's ingress bucket (multipart, with the capture
 * overrides as object metadata) and prints the video id its job will have: the key. It does not
 * wait for the job; `frames watch` does.
 */
export async function uploadFile(path: string, options: UploadOptions, io: Io): Promise<number> {
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
  const follow = framesCommandLine('watch', video.key, options);
  io.stdout.write(
    options.json
      ? `${JSON.stringify({ videoId: video.key, bucket, key: video.key, bytes: video.size, overrides: metadata })}\n`
      : `Uploaded ${video.key} to s3://${bucket}/${video.key}\nVideo id: ${video.key}\nFollow it: ${follow}\n`,
  );
  return EXIT.ok;
}
