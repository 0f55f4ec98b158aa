import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { type BuildOptions, buildSync } from 'esbuild';
import { PROJECT_ROOT, reusableBuild } from '../pipeline/bundle';
import type { ObjectEvent } from './s3/object-store';
import type { ServicesMessage, ServicesProcessOptions } from './services-process';

export interface LocalServices {
  readonly s3Endpoint: string;
  readonly mediaConvertEndpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts the local S3 server and MediaConvert endpoint (local/services-process.ts) in a child
 * process on 127.0.0.1. Object events of the notifying buckets go to `onS3Event`, job state
 * changes to `onMediaConvertEvent`. The child is TypeScript bundled with esbuild into
 * `buildDirectory` first (about 0.1 s, and only when a source changed): a forked process does not
 * inherit the CLI's tsx hook.
 */
export async function startLocalServices(
  options: ServicesProcessOptions & {
    readonly buildDirectory: string;
    readonly onS3Event: (event: ObjectEvent) => void;
    readonly onMediaConvertEvent: (event: object) => void;
  },
): Promise<LocalServices> {
  const { buildDirectory, onS3Event, onMediaConvertEvent, ...processOptions } = options;
  mkdirSync(options.s3.directory, { recursive: true });
  mkdirSync(buildDirectory, { recursive: true });
  const script = join(buildDirectory, 'services.js');
  const build = {
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [join(__dirname, 'services-process.ts')],
    outfile: `${script}.tmp`,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'error',
    metafile: true,
    // Left to Node's resolution from the project's node_modules: bundled, the installer looks for
    // its binary next to the bundle and then under the working directory, so `frames` started
    // anywhere but the repository's root found no ffmpeg and every job failed.
    // The IAM simulator's data (AWS's published actions and condition keys) is read from its
    // package's own folder at run time: bundled, it cannot find it.
    external: ['@ffmpeg-installer/ffmpeg', '@cloud-copilot/*'],
  } satisfies BuildOptions;
  // Built again only when a source changed (pipeline/bundle.ts, reusableBuild).
  reusableBuild(join(buildDirectory, '.services-manifest.json'), build, () => {
    const { metafile } = buildSync(build);
    renameSync(`${script}.tmp`, script);
    return metafile;
  }, [script]);
  const child: ChildProcess = fork(script, [JSON.stringify(processOptions satisfies ServicesProcessOptions)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const ready = await new Promise<Extract<ServicesMessage, { type: 'ready' }>>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`The local S3 and MediaConvert process exited with code ${code} before it was ready`)));
    child.on('message', (message: ServicesMessage) => {
      if (message.type === 'ready') resolve(message);
      else if (message.type === 'failed') reject(new Error(`The local S3 and MediaConvert process failed to start: ${message.message}`));
      else if (message.type === 's3-event') onS3Event(message.event);
      else onMediaConvertEvent(message.event);
    });
  });
  child.removeAllListeners('exit');
  return {
    s3Endpoint: `http://127.0.0.1:${ready.s3Port}`,
    mediaConvertEndpoint: ready.mediaConvertEndpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}
