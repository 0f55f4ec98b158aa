import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { type FrameTimeline, type MeasuredVideoStream, frameSyncOption, measureFrameTimeline, measureVideoStream, notAMediaConvertInput, probeMedia } from '../ffmpeg';
import { FfmpegError, captureCount, runFfmpegJob } from './ffmpeg-job';
import { FrameUploadSink } from './frame-uploader';
import { ClippingError, type InputSeek, type ResolvedClip, inputSeek, resolveClips } from './input-clipping';
import { type LocalJob, type OutputDetail, type OutputGroupDetail, jobStateChangeEvent } from './job-events';
import { type JobPlan, BadRequestError, frameCaptureKey, planJob, videoOutputKey } from './job-settings';

export class NotFoundError extends Error {
  override readonly name = 'NotFoundException';
}
export class ConflictError extends Error {
  override readonly name = 'ConflictException';
}

/**
 * Error codes the local endpoint reports, from MediaConvert's documented list: 1010 when the input
 * cannot be opened or probed or is no input MediaConvert takes (missing object, not a media file,
 * no video track, several video streams); 1999 for any other failure of the transcode, with
 * ffmpeg's own last words as the message, and for input clippings the input cannot satisfy (a
 * frame number at or above its frame rate, a clip that starts after its last frame), the message
 * naming the timecode's field.
 */
export const LOCAL_ERROR_CODES = { inputUnreadable: 1010, transcodeFailed: 1999 } as const;

/**
 * How jobs read inputs and write outputs. MediaConvert writes to S3 from inside AWS; local mode
 * runs the endpoint in the S3 server's own process (local/services-process.ts) and writes straight
 * to its store, because 1,800 frame PUTs over HTTP cost about as much CPU as encoding them.
 */
export interface JobStorage {
  /** The object's bytes; rejects with the reason when it cannot be read (no such bucket or key). */
  read(bucket: string, key: string): Promise<Readable>;
  write(bucket: string, key: string, body: Buffer | Readable, contentType: string): Promise<void>;
}

export interface MediaConvertServiceOptions {
  /** The buckets, as MediaConvert reaches them with its role. */
  readonly storage: JobStorage;
  /** Scratch space: each job's input copy and its video output until uploaded. */
  readonly workDirectory: string;
  readonly identity: { readonly region: string; readonly account: string };
  /** Receives each "MediaConvert Job State Change" event (local mode routes it like EventBridge). */
  readonly emit: (event: object) => void;
  /** Jobs transcoding at once; ffmpeg already uses every core, so more only queue up. */
  readonly maxConcurrentJobs: number;
  /**
   * How long MediaConvert's shortest StatusUpdateInterval (SECONDS_10) lasts here; each job's own
   * interval is scaled alike (SECONDS_60, MediaConvert's default: six times this). 10_000 honours
   * intervals exactly. Local mode passes 2_000: its jobs take seconds where AWS's take minutes, and
   * at AWS's pace most would end before their first STATUS_UPDATE.
   */
  readonly statusUpdateIntervalMs: number;
  readonly uploadConcurrency: number;
  /**
   * Fault injection (local/faults/fault-plan.ts, mediaconvert-error): the first job to run fails
   * with ERROR, as a mid-job service failure, once it has stored this many frames.
   */
  readonly failFirstJob?: { readonly afterFrames: number; readonly onFailed: (jobId: string) => void };
}

/** Inputs probed and measured at once (two ffmpeg processes each). */
const PROBES_AT_ONCE = 4;

/** A repeated CreateJob with the same client request token within this window returns the first job. */
const IDEMPOTENCY_WINDOW_MS = 60_000;

/**
 * The jobs behind the local MediaConvert endpoint: CreateJob, GetJob, ListJobs and CancelJob
 * semantics, and each job executed with ffmpeg, its events emitted as MediaConvert emits them.
 */
export class LocalMediaConvert {
  private readonly jobs = new Map<string, LocalJob>();
  private readonly plans = new Map<string, JobPlan>();
  private readonly aborts = new Map<string, AbortController>();
  private readonly byToken = new Map<string, string>();
  private readonly queued: string[] = [];
  private readonly running = new Set<Promise<void>>();
  private active = 0;
  private jobsStarted = 0;

  constructor(private readonly options: MediaConvertServiceOptions) {}

  createJob(body: unknown): LocalJob {
    const { request, plan } = planJob(body);
    if (request.queue && !/(^|\/)Default$/.test(request.queue)) {
      throw new BadRequestError(`Queue ${request.queue} does not exist locally; use the Default queue`);
    }
    const token = request.clientRequestToken;
    const earlier = token ? this.jobs.get(this.byToken.get(token) ?? '') : undefined;
    if (earlier && Date.now() - earlier.createdAt.getTime() < IDEMPOTENCY_WINDOW_MS) return earlier;

    const { region, account } = this.options.identity;
    const id = `${Date.now()}-${randomBytes(3).toString('hex')}`;
    const job: LocalJob = {
      id,
      arn: `arn:aws:mediaconvert:${region}:${account}:jobs/${id}`,
      queueArn: `arn:aws:mediaconvert:${region}:${account}:queues/Default`,
      createdAt: new Date(),
      role: request.role,
      settings: request.settings,
      userMetadata: request.userMetadata ?? {},
      tags: request.tags ?? {},
      clientRequestToken: token,
      statusUpdateInterval: `SECONDS_${plan.statusUpdateSeconds}`,
      status: 'SUBMITTED',
    };
    this.jobs.set(id, job);
    this.plans.set(id, plan);
    if (token) this.byToken.set(token, id);
    this.queued.push(id);
    // CreateJob answers with the job SUBMITTED, as MediaConvert does; it moves to PROGRESSING
    // (with its event) once the answer is on its way.
    setImmediate(() => this.startQueued());
    return job;
  }

  getJob(id: string): LocalJob {
    const job = this.jobs.get(id);
    if (!job) throw new NotFoundError(`The specified job ${id} was not found`);
    return job;
  }

  listJobs(query: { order?: string; status?: string; maxResults?: number; nextToken?: string }) {
    const newestFirst = query.order !== 'ASCENDING';
    const all = [...this.jobs.values()]
      .filter((job) => !query.status || job.status === query.status)
      .sort((a, b) => (a.createdAt.getTime() - b.createdAt.getTime()) * (newestFirst ? -1 : 1));
    const start = query.nextToken ? Number(Buffer.from(query.nextToken, 'base64url').toString()) : 0;
    if (!Number.isInteger(start) || start < 0) throw new BadRequestError('nextToken is not valid');
    const size = Math.min(Math.max(query.maxResults ?? 20, 1), 20);
    const page = all.slice(start, start + size);
    const next = start + size < all.length ? Buffer.from(String(start + size)).toString('base64url') : undefined;
    return { jobs: page, nextToken: next };
  }

  cancelJob(id: string): void {
    const job = this.getJob(id);
    if (job.status !== 'SUBMITTED' && job.status !== 'PROGRESSING') {
      throw new ConflictError(`Job ${id} is ${job.status} and can no longer be canceled`);
    }
    const queuedAt = this.queued.indexOf(id);
    if (queuedAt >= 0) this.queued.splice(queuedAt, 1);
    this.aborts.get(id)?.abort();
    this.finish(job, { status: 'CANCELED' });
  }

  /** Resolves when every job started so far has finished. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Cancels whatever is running or queued, e.g. when the local cloud stops. */
  async stop(): Promise<void> {
    this.queued.length = 0;
    for (const controller of this.aborts.values()) controller.abort();
    await this.drain();
  }

  private startQueued(): void {
    while (this.active < this.options.maxConcurrentJobs && this.queued.length > 0) {
      const id = this.queued.shift()!;
      this.active += 1;
      const run = this.execute(this.getJob(id), this.plans.get(id)!)
        .catch(() => undefined)
        .finally(() => {
          this.active -= 1;
          this.running.delete(run);
          this.startQueued();
        });
      this.running.add(run);
    }
  }

  private emit(job: LocalJob, statusUpdate?: { framesDecoded: number }): void {
    this.options.emit(jobStateChangeEvent(job, this.options.identity, statusUpdate));
  }

  private finish(job: LocalJob, outcome: Partial<LocalJob> & { status: LocalJob['status'] }): void {
    if (job.status !== 'SUBMITTED' && job.status !== 'PROGRESSING') return;
    Object.assign(job, outcome, { finishedAt: new Date() });
    this.emit(job);
  }

  private async execute(job: LocalJob, plan: JobPlan): Promise<void> {
    const { storage, workDirectory, statusUpdateIntervalMs, uploadConcurrency } = this.options;
    const controller = new AbortController();
    this.aborts.set(job.id, controller);
    const directory = join(workDirectory, job.id);
    const inputNames = plan.inputs.length === 1 ? plan.inputs[0].uri : `${plan.inputs[0].uri} and ${plan.inputs.length - 1} more inputs`;
    try {
      if (job.status !== 'SUBMITTED') return;
      Object.assign(job, { status: 'PROGRESSING', startedAt: new Date(), currentPhase: 'PROBING', jobPercentComplete: 0 });
      this.emit(job);
      await mkdir(directory, { recursive: true });

      const inputPaths = plan.inputs.map((_, index) => join(directory, `input-${String(index).padStart(3, '0')}`));
      for (const [index, input] of plan.inputs.entries()) {
        try {
          await pipeline(await storage.read(input.bucket, input.key), createWriteStream(inputPaths[index]), { signal: controller.signal });
        } catch (error) {
          if (controller.signal.aborted) return;
          this.finish(job, {
            status: 'ERROR',
            errorCode: LOCAL_ERROR_CODES.inputUnreadable,
            errorMessage: `Unable to open input file [${input.uri}]: [Failed probe/open: [${(error as Error).message}]]`,
          });
          return;
        }
      }

      const frames = plan.frameCaptures[0];
      const video = plan.videos[0];
      const videoPath = join(directory, 'video.mp4');
      const frameSync = await frameSyncOption();
      const probes: Array<Awaited<ReturnType<typeof probeMedia>>> = [];
      const extents: Array<MeasuredVideoStream | undefined> = [];
      // A clipped job (one input) reads its input frame by frame instead: the clips' lengths are
      // their frames' (input-clipping.ts).
      let timeline: FrameTimeline | undefined;
      if (plan.clippings) {
        [probes[0], timeline] = await Promise.all([probeMedia(inputPaths[0]), measureFrameTimeline(inputPaths[0])]);
      }
      // A few inputs at a time: a job may have 150.
      for (let from = 0; !plan.clippings && from < inputPaths.length; from += PROBES_AT_ONCE) {
        const batch = inputPaths.slice(from, from + PROBES_AT_ONCE);
        const [batchProbes, batchExtents] = await Promise.all([
          Promise.all(batch.map((path) => probeMedia(path))),
          Promise.all(batch.map((path) => measureVideoStream(path))),
        ]);
        probes.push(...batchProbes);
        extents.push(...batchExtents);
      }
      const probe = probes[0];
      // Inputs ffmpeg opens but MediaConvert refuses (a still image, audio only, several video
      // streams) fail as MediaConvert fails unreadable inputs; files ffmpeg cannot open at all fail
      // below with ffmpeg's own words.
      for (const [index, each] of probes.entries()) {
        const reason = each && notAMediaConvertInput(each);
        if (reason) {
          this.finish(job, {
            status: 'ERROR',
            errorCode: LOCAL_ERROR_CODES.inputUnreadable,
            errorMessage: `Unable to open input file [${plan.inputs[index].uri}]: [Failed probe/open: [${reason}]]`,
          });
          return;
        }
      }
      let clips: ResolvedClip[] | undefined;
      let seek: InputSeek | undefined;
      if (plan.clippings) {
        try {
          if (!timeline) throw new ClippingError(`${plan.inputs[0].uri} has no video frames to clip`);
          clips = resolveClips(plan.clippings, timeline);
          seek = inputSeek(timeline, clips, probe?.container ?? '');
        } catch (error) {
          if (!(error instanceof ClippingError)) throw error;
          this.finish(job, { status: 'ERROR', errorCode: LOCAL_ERROR_CODES.transcodeFailed, errorMessage: `Clipping [${inputNames}] failed: [${error.message}]` });
          return;
        }
      }
      // The timeline is the inputs' video streams end to end (or the input's clips), whatever else
      // their containers hold (audio that runs on, a start offset): its length is the outputs'
      // duration, and with the capture rate it says how many captures there are.
      // (Unmeasured when a stream's packets say nothing of its length: ffmpeg's own end then counts.
      // Never for clips, whose capture must be stopped: see ffmpegArguments.)
      const measured =
        clips ?? (extents.every((extent): extent is MeasuredVideoStream => extent !== undefined && extent.ticks > 0) ? extents : undefined);
      const timelineMs = measured
        ? measured.reduce((sum, extent) => sum + extent.durationMs, 0)
        : probes.reduce((sum, each) => sum + (each?.durationMs ?? 0), 0);
      const failure = this.jobsStarted++ === 0 ? this.options.failFirstJob : undefined;
      const sink = frames
        ? new FrameUploadSink({
            upload: async (index, body) => {
              if (failure && index >= failure.afterFrames) {
                if (index === failure.afterFrames) failure.onFailed(job.id);
                throw new Error(`injected fault (mediaconvert-error): the job failed after storing ${failure.afterFrames} frames`);
              }
              await storage.write(frames.bucket, frameCaptureKey(frames, index), body, 'image/jpeg');
            },
            concurrency: uploadConcurrency,
          })
        : undefined;
      // STATUS_UPDATE every StatusUpdateInterval while the job runs (scaled: see the option).
      let framesDecoded = 0;
      const statusUpdates = setInterval(() => {
        if (job.status === 'PROGRESSING') this.emit(job, { framesDecoded });
      }, (plan.statusUpdateSeconds * statusUpdateIntervalMs) / 10);
      // Resolves once ffmpeg has exited and every frame is stored.
      const transcode = runFfmpegJob(
        {
          inputPaths,
          ...(clips ? { clips } : {}),
          ...(seek ? { seek } : {}),
          inputPixels: probe?.video,
          frameSync,
          ...(timelineMs > 0 ? { durationMs: timelineMs } : {}),
          frames: frames && sink && { output: frames, sink, ...(measured ? { captures: captureCount(measured, frames) } : {}) },
          video: video && { output: video, path: videoPath },
          onProgress: (progress) => {
            job.currentPhase = 'TRANSCODING';
            job.jobPercentComplete = progress.percent;
            framesDecoded = progress.framesDecoded;
          },
        },
        controller.signal,
      ).finally(() => clearInterval(statusUpdates));

      let result;
      try {
        result = await transcode;
      } catch (error) {
        if (controller.signal.aborted) return;
        // A frame that could not be stored: reported as an output failure by the outer catch.
        if (!(error instanceof FfmpegError)) throw error;
        const opened = error.opened;
        this.finish(job, {
          status: 'ERROR',
          errorCode: opened ? LOCAL_ERROR_CODES.transcodeFailed : LOCAL_ERROR_CODES.inputUnreadable,
          errorMessage: opened
            ? `Transcoding [${inputNames}] failed: [${(error as Error).message}]`
            : `Unable to open input file [${inputNames}]: [Failed probe/open: [${(error as Error).message}]]`,
        });
        return;
      }
      job.currentPhase = 'UPLOADING';
      const frameCount = sink?.count ?? 0;
      if (video) {
        await storage.write(video.bucket, videoOutputKey(video), createReadStream(videoPath), 'video/mp4');
      }

      const durationInMs = Math.round(measured ? timelineMs : result.durationMs);
      const sizeOf = (outputIndex: number) => {
        const size = result.outputSizes[outputIndex] ?? { width: 0, height: 0 };
        return { widthInPx: size.width, heightInPx: size.height };
      };
      // Each group's details list its outputs in the settings' order.
      const details: Array<{ at: { groupIndex: number; outputIndex: number }; detail: OutputDetail }> = [];
      if (frames) {
        details.push({
          at: frames,
          detail: {
            // For frame capture MediaConvert reports only the last capture's path.
            outputFilePaths: frameCount > 0 ? [`s3://${frames.bucket}/${frameCaptureKey(frames, frameCount - 1)}`] : [],
            durationInMs,
            videoDetails: sizeOf(0),
          },
        });
      }
      if (video) {
        details.push({
          at: video,
          detail: { outputFilePaths: [`s3://${video.bucket}/${videoOutputKey(video)}`], durationInMs, videoDetails: sizeOf(frames ? 1 : 0) },
        });
      }
      const groups: OutputGroupDetail[] = plan.outputCounts.map((_, groupIndex) => ({
        outputDetails: details
          .filter(({ at }) => at.groupIndex === groupIndex)
          .sort((a, b) => a.at.outputIndex - b.at.outputIndex)
          .map(({ detail }) => detail),
        type: 'FILE_GROUP',
      }));
      this.finish(job, { status: 'COMPLETE', jobPercentComplete: 100, outputGroupDetails: groups });
    } catch (error) {
      if (!controller.signal.aborted) {
        this.finish(job, {
          status: 'ERROR',
          errorCode: LOCAL_ERROR_CODES.transcodeFailed,
          errorMessage: `Writing the outputs of [${inputNames}] failed: [${error instanceof Error ? error.message : String(error)}]`,
        });
      }
    } finally {
      this.aborts.delete(job.id);
      this.plans.delete(job.id);
      await rm(directory, { recursive: true, force: true });
    }
  }
}
