import { access, readFile, rm } from 'node:fs/promises';

export interface FrameUploadOptions {
  /** Local path of frame `index`, as ffmpeg writes it. */
  readonly pathOf: (index: number) => string;
  /** Stores frame `index`; the local file is removed once it has been stored. */
  readonly upload: (index: number, body: Buffer) => Promise<void>;
  /** True once ffmpeg has exited successfully: every frame file is complete. */
  readonly isFinished: () => boolean;
  /** True when the job was cancelled or failed: stop without waiting for more frames. */
  readonly isAbandoned: () => boolean;
  readonly concurrency: number;
}

const POLL_MS = 20;
const exists = (path: string) => access(path).then(() => true, () => false);

/**
 * Uploads frames while ffmpeg is still writing them, so the upload overlaps the decode instead of
 * following it, and local disk holds only the frames not yet uploaded. image2 writes frames in
 * order, so frame N is complete once frame N+1 exists (or ffmpeg has exited). Resolves with the
 * number of frames uploaded.
 */
export async function uploadFramesAsProduced(options: FrameUploadOptions): Promise<number> {
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let next = 0;
  for (;;) {
    if (failure) break;
    if (options.isAbandoned()) break;
    const finished = options.isFinished();
    const ready = (await exists(options.pathOf(next + 1))) || (finished && (await exists(options.pathOf(next))));
    if (!ready) {
      if (finished) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      continue;
    }
    const index = next++;
    const upload = (async () => {
      const path = options.pathOf(index);
      await options.upload(index, await readFile(path));
      await rm(path, { force: true });
    })().catch((error: unknown) => {
      failure ??= error;
    });
    const tracked = upload.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
  return next;
}
