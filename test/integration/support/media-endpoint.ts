import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { CreateJobCommand, type CreateJobRequest, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { frameCaptureSettings } from '../../../functions/ingress/submit-job';
import template from '../../../job-templates/frame-capture.json';
import { LocalMediaConvert } from '../../../local/mediaconvert/mediaconvert-service';
import { startMediaConvertServer } from '../../../local/mediaconvert/mediaconvert-server';
import { ObjectStore } from '../../../local/s3/object-store';
import { scratchDirectory } from './frames-cli';

/**
 * The local MediaConvert endpoint on its own, as local mode runs it (local/services-process.ts):
 * the REST server over the service, writing into the local S3 store, driven with the real
 * @aws-sdk/client-mediaconvert. Its "MediaConvert Job State Change" events are kept in order.
 * ffmpeg is whichever ffmpegPath() gives: FRAMES_FFMPEG pins a build, per job.
 */
export const INPUT_BUCKET = 'frames-ingress';
export const OUTPUT_BUCKET = 'frames-frames';

export interface JobStateEvent {
  readonly 'detail-type': string;
  readonly source: string;
  readonly detail: {
    readonly status: string;
    readonly jobId: string;
    readonly errorCode?: number;
    readonly errorMessage?: string;
    readonly jobProgress?: { readonly jobPercentComplete?: number };
    readonly outputGroupDetails?: ReadonlyArray<{
      readonly outputDetails: ReadonlyArray<{
        readonly outputFilePaths: string[];
        readonly durationInMs: number;
        readonly videoDetails: { readonly widthInPx: number; readonly heightInPx: number };
      }>;
    }>;
  };
}

export interface CaptureRequest {
  readonly fps: { readonly numerator: number; readonly denominator: number };
  readonly quality?: number;
  readonly maxCaptures?: number;
}

export interface MediaEndpoint {
  readonly client: MediaConvertClient;
  readonly store: ObjectStore;
  /** Every event so far, in the order emitted. */
  readonly events: JobStateEvent[];
  /** Stores a local file as an input object; resolves to its s3:// URI. */
  upload(path: string, key: string): Promise<string>;
  /** CreateJob with the pipeline's own job template (as the ingress function renders it). */
  submitCapture(inputUri: string, capture: CaptureRequest, prefix: string): Promise<CreateJobResult>;
  /** CreateJob with any request. */
  createJob(request: Omit<CreateJobRequest, 'Role'>): Promise<CreateJobResult>;
  /** The job's final event: COMPLETE, ERROR or CANCELED. */
  finished(jobId: string, timeoutMs?: number): Promise<JobStateEvent>;
  eventsOf(jobId: string): JobStateEvent[];
  /** The objects under a prefix of the output bucket, in key order, with their bytes. */
  objects(prefix: string): Promise<Array<{ key: string; body: Buffer }>>;
  stop(): Promise<void>;
}

export interface CreateJobResult {
  readonly id: string;
  readonly status: string;
  readonly statusUpdateInterval?: string;
}

const ROLE = 'arn:aws:iam::000000000000:role/frames-mediaconvert';
const FINAL = new Set(['COMPLETE', 'ERROR', 'CANCELED']);

export async function startMediaEndpoint(options: { statusUpdateIntervalMs?: number; maxConcurrentJobs?: number } = {}): Promise<MediaEndpoint> {
  const scratch = scratchDirectory('mediaconvert');
  const store = await ObjectStore.open(join(scratch.path, 's3'), [INPUT_BUCKET, OUTPUT_BUCKET]);
  const events: JobStateEvent[] = [];
  const listeners = new Set<() => void>();
  const service = new LocalMediaConvert({
    storage: {
      read: async (bucket: string, key: string): Promise<Readable> => store.read(bucket, store.head(bucket, key)),
      write: async (bucket, key, body, contentType) => void (await store.put(bucket, key, body, { contentType })),
    },
    workDirectory: join(scratch.path, 'work'),
    identity: { region: 'us-east-1', account: '000000000000' },
    emit: (event) => {
      events.push(event as JobStateEvent);
      for (const listener of listeners) listener();
    },
    maxConcurrentJobs: options.maxConcurrentJobs ?? 1,
    statusUpdateIntervalMs: options.statusUpdateIntervalMs ?? 2_000,
    uploadConcurrency: 4,
  });
  const server = await startMediaConvertServer(service);
  const client = new MediaConvertClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'LOCALFRAMESKEY', secretAccessKey: 'local-frames-secret' },
  });
  const eventsOf = (jobId: string) => events.filter((event) => event.detail.jobId === jobId);

  const createJob = async (request: Omit<CreateJobRequest, 'Role'>): Promise<CreateJobResult> => {
    const { Job } = await client.send(new CreateJobCommand({ Role: ROLE, ...request }));
    return { id: Job!.Id!, status: Job!.Status!, statusUpdateInterval: Job!.StatusUpdateInterval };
  };

  return {
    client,
    store,
    events,
    upload: async (path, key) => {
      await store.put(INPUT_BUCKET, key, createReadStream(path));
      return `s3://${INPUT_BUCKET}/${key}`;
    },
    submitCapture: (inputUri, capture, prefix) =>
      createJob({
        Settings: frameCaptureSettings(
          [inputUri],
          { fps: capture.fps, quality: capture.quality ?? 80, maxCaptures: capture.maxCaptures ?? 10_000_000 },
          OUTPUT_BUCKET,
          `${prefix}/frames/`,
          `${prefix}/proxy/`,
        ),
        // As the template asks (the ingress function is to send it with the settings).
        StatusUpdateInterval: (template as { StatusUpdateInterval?: CreateJobRequest['StatusUpdateInterval'] }).StatusUpdateInterval,
      }),
    createJob,
    finished: (jobId, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const final = eventsOf(jobId).find((event) => FINAL.has(event.detail.status));
          if (!final) return false;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(final);
          return true;
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`job ${jobId} did not finish within ${timeoutMs} ms; its events: ${JSON.stringify(eventsOf(jobId))}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    eventsOf,
    objects: async (prefix) => {
      const { contents } = store.list(OUTPUT_BUCKET, { prefix, maxKeys: 1_000_000 });
      return Promise.all(
        contents.map(async (record) => {
          const chunks: Buffer[] = [];
          for await (const chunk of store.read(OUTPUT_BUCKET, record)) chunks.push(chunk as Buffer);
          return { key: record.key, body: Buffer.concat(chunks) };
        }),
      );
    },
    stop: async () => {
      client.destroy();
      await server.stop();
      await service.stop();
      await store.close();
      scratch.remove();
    },
  };
}
