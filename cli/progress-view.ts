import { MultiBar, Presets, SingleBar } from 'cli-progress';
import { JOB_STATUS, type JobRecord } from '../pipeline/job-record';

/** Shows the progress of one or more videos: bars on a terminal, plain lines otherwise. */
export interface ProgressView {
  uploaded(videoId: string, bytes: number, total: number): void;
  update(record: JobRecord): void;
  stop(): void;
}

/**
 * Plain lines (logs, CI, pipes): one per stage change and per tenth of a stage, each printed once
 * however often it is reported (an upload reports its last bytes twice: the SDK, then the caller).
 */
class LineView implements ProgressView {
  private readonly last = new Map<string, string>();
  private readonly uploads = new Set<string>();

  constructor(private readonly out: NodeJS.WritableStream) {}

  uploaded(videoId: string, bytes: number, total: number): void {
    if (bytes !== total || this.uploads.has(videoId)) return;
    this.uploads.add(videoId);
    this.out.write(`${videoId}: uploaded ${formatBytes(total)}\n`);
  }

  update(record: JobRecord): void {
    const line = describeStage(record);
    const key = `${record.Status}|${stageTenth(record)}`;
    if (this.last.get(record.VideoId) === key) return;
    this.last.set(record.VideoId, key);
    this.out.write(`${record.VideoId}: ${line}\n`);
  }

  stop(): void {}
}

/**
 * Terminal bars: per video, one for its way in (the upload's bytes, or a KVS clip being pulled),
 * one for the extraction (MediaConvert %) and one for the frames.
 */
class BarView implements ProgressView {
  private readonly bars: MultiBar;
  private readonly perVideo = new Map<string, { upload: SingleBar; extract: SingleBar; frames: SingleBar }>();

  constructor(out: NodeJS.WritableStream, videoIds: readonly string[], firstStage: string) {
    this.bars = new MultiBar(
      {
        stream: out as NodeJS.WriteStream,
        format: ' {label} {bar} {percentage}% | {detail}',
        barsize: 30,
        hideCursor: true,
        clearOnComplete: false,
        autopadding: true,
        etaBuffer: 20,
      },
      Presets.shades_classic,
    );
    const width = Math.max(...videoIds.map((id) => shorten(id).length));
    for (const id of videoIds) {
      const label = (stage: string) => `${shorten(id).padEnd(width)} ${stage.padEnd(7)}`;
      this.perVideo.set(id, {
        upload: this.bars.create(1, 0, { label: label(firstStage), detail: '' }),
        extract: this.bars.create(100, 0, { label: label('extract'), detail: 'waiting' }),
        frames: this.bars.create(1, 0, { label: label('frames'), detail: 'waiting' }),
      });
    }
  }

  uploaded(videoId: string, bytes: number, total: number): void {
    const bars = this.perVideo.get(videoId);
    bars?.upload.setTotal(Math.max(total, 1));
    bars?.upload.update(bytes, { detail: `${formatBytes(bytes)} of ${formatBytes(total)}` });
  }

  update(record: JobRecord): void {
    const bars = this.perVideo.get(record.VideoId);
    if (!bars) return;
    if (record.SourceStream) {
      const clipped = record.Status !== JOB_STATUS.clipping && record.ClipPieces !== undefined;
      bars.upload.update(clipped ? 1 : 0, {
        detail: clipped ? `${record.ClipFragments} fragments in ${record.ClipPieces} pieces` : record.Status.toLowerCase(),
      });
    }
    const extracted = record.TotalFrames !== undefined || record.Status === JOB_STATUS.complete;
    bars.extract.update(extracted ? 100 : (record.ExtractPercent ?? 0), {
      detail: extracted ? `${record.TotalFrames ?? 0} frames` : record.Status.toLowerCase(),
    });
    if (record.TotalFrames !== undefined) {
      const done = (record.ProcessedFrames ?? 0) + (record.FailedFrames ?? 0);
      bars.frames.setTotal(Math.max(record.TotalFrames, 1));
      bars.frames.update(record.TotalFrames === 0 ? 1 : done, {
        detail: `${done}/${record.TotalFrames}${record.FailedFrames ? ` (${record.FailedFrames} failed)` : ''}`,
      });
    }
    if (record.Status === JOB_STATUS.failed) bars.frames.update({ detail: `FAILED: ${record.Error?.Code ?? ''}` });
  }

  stop(): void {
    this.bars.stop();
  }
}

/** `firstStage` names the first bar: `upload`, or `clip` for KVS clips. */
export function progressView(out: NodeJS.WriteStream, videoIds: readonly string[], firstStage = 'upload'): ProgressView {
  return out.isTTY ? new BarView(out, videoIds, firstStage) : new LineView(out);
}

function describeStage(record: JobRecord): string {
  switch (record.Status) {
    case JOB_STATUS.clipping:
      return `clipping ${record.SourceStream} from ${record.ClipStart} to ${record.ClipEnd}`;
    case JOB_STATUS.submitted:
      return 'submitted to MediaConvert';
    case JOB_STATUS.extracting:
      return `extracting frames ${record.ExtractPercent ?? 0}%`;
    case JOB_STATUS.processing:
      return `processing frames ${(record.ProcessedFrames ?? 0) + (record.FailedFrames ?? 0)}/${record.TotalFrames}`;
    case JOB_STATUS.complete:
      return `COMPLETE: ${record.ProcessedFrames ?? 0} frames processed, ${record.FailedFrames ?? 0} failed`;
    case JOB_STATUS.failed:
      return `FAILED: ${record.Error?.Code}: ${record.Error?.Message}`;
    default:
      return record.Status;
  }
}

function stageTenth(record: JobRecord): number {
  if (record.Status === JOB_STATUS.extracting) return Math.floor((record.ExtractPercent ?? 0) / 10);
  if (record.Status === JOB_STATUS.processing && record.TotalFrames) {
    return Math.floor((((record.ProcessedFrames ?? 0) + (record.FailedFrames ?? 0)) / record.TotalFrames) * 10);
  }
  return 0;
}

/** One upload's bytes: a bar with speed and time left on a terminal, a line per quarter otherwise. */
export interface ByteProgress {
  update(bytes: number): void;
  stop(): void;
}

export function byteProgress(out: NodeJS.WriteStream, label: string, total: number): ByteProgress {
  const started = Date.now();
  const rate = (bytes: number) => `${formatBytes(bytes / Math.max((Date.now() - started) / 1000, 0.001))}/s`;
  if (!out.isTTY) {
    let quarter = -1;
    return {
      update(bytes) {
        const now = total === 0 ? 4 : Math.floor((bytes / total) * 4);
        if (now === quarter) return;
        quarter = now;
        out.write(`${label}: uploaded ${formatBytes(bytes)} of ${formatBytes(total)} (${Math.round((bytes / Math.max(total, 1)) * 100)}%, ${rate(bytes)})\n`);
      },
      stop() {},
    };
  }
  const bar = new SingleBar(
    { stream: out, format: ` ${shorten(label)} {bar} {percentage}% | {detail} | ETA {eta_formatted}`, barsize: 30, hideCursor: true, etaBuffer: 20 },
    Presets.shades_classic,
  );
  bar.start(Math.max(total, 1), 0, { detail: '' });
  return {
    update: (bytes) => bar.update(bytes, { detail: `${formatBytes(bytes)} of ${formatBytes(total)}, ${rate(bytes)}` }),
    stop: () => bar.stop(),
  };
}

const shorten = (id: string) => (id.length > 28 ? `…${id.slice(-27)}` : id);

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
