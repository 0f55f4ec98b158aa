import { Writable } from 'node:stream';

/**
 * Stores frames as ffmpeg produces them, `concurrency` at a time: the end of the frame stream
 * (JpegSplitter) in the MediaConvert job's pipeline. When that many uploads are in flight it stops
 * taking frames, so the pipe fills and ffmpeg waits: nothing piles up in memory or on disk.
 * `count` is the number of frames stored once the stream has finished.
 */
export class FrameUploadSink extends Writable {
  count = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: Error | undefined;

  constructor(
    private readonly options: {
      /** Stores frame `index` (0-based, in capture order). */
      readonly upload: (index: number, body: Buffer) => Promise<void>;
      readonly concurrency: number;
    },
  ) {
    super({ objectMode: true, highWaterMark: 1 });
  }

  override _write(frame: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.failure) return callback(this.failure);
    const index = this.count++;
    const upload = this.options
      .upload(index, frame)
      .catch((error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => this.inFlight.delete(upload));
    this.inFlight.add(upload);
    if (this.inFlight.size < this.options.concurrency) return callback();
    void Promise.race(this.inFlight).then(() => callback(this.failure));
  }

  override _final(callback: (error?: Error | null) => void): void {
    void Promise.all(this.inFlight).then(() => callback(this.failure));
  }
}
