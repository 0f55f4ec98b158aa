import { JOB_STATUS, type JobRecord } from '../pipeline/job-record';
import { EXIT } from './exit-codes';

/** The job as `--json` prints it: stable lower-camel-case names scripts can rely on. */
export interface JobReport {
  readonly videoId: string;
  readonly runId?: string;
  readonly status: string;
  readonly totalFrames?: number;
  readonly processedFrames: number;
  readonly failedFrames: number;
  readonly extractPercent?: number;
  readonly fps?: string;
  readonly frameWidth?: number;
  readonly frameHeight?: number;
  readonly durationMs?: number;
  readonly mediaConvertJobId?: string;
  /** KVS clips: what was pulled, and the producer time of the first frame. */
  readonly clip?: {
    readonly stream: string;
    readonly start?: string;
    readonly end?: string;
    readonly timestampType?: string;
    readonly fragments?: number;
    readonly pieces?: number;
    readonly firstProducerTimestamp?: string;
  };
  /** Path of the local copy of results.jsonl (COMPLETE runs fetched by `frames run`). */
  readonly results?: string;
  readonly summary?: string;
  readonly resultsUri?: string;
  readonly error?: { readonly code: string; readonly message: string; readonly serviceCode?: number | string };
  readonly createdAt?: string;
  readonly submittedAt?: string;
  readonly extractedAt?: string;
  readonly completedAt?: string;
}

export function jobReport(record: JobRecord, local: { results?: string; summary?: string } = {}): JobReport {
  return {
    videoId: record.VideoId,
    runId: record.RunId,
    status: record.Status,
    totalFrames: record.TotalFrames,
    processedFrames: record.ProcessedFrames ?? 0,
    failedFrames: record.FailedFrames ?? 0,
    extractPercent: record.ExtractPercent,
    fps: record.FpsNumerator ? `${record.FpsNumerator}/${record.FpsDenominator ?? 1}` : undefined,
    frameWidth: record.FrameWidth,
    frameHeight: record.FrameHeight,
    durationMs: record.DurationMs,
    mediaConvertJobId: record.MediaConvertJobId,
    clip: record.SourceStream
      ? {
          stream: record.SourceStream,
          start: record.ClipStart,
          end: record.ClipEnd,
          timestampType: record.ClipTimestampType,
          fragments: record.ClipFragments,
          pieces: record.ClipPieces,
          firstProducerTimestamp: record.ClipFirstProducerTimestamp,
        }
      : undefined,
    results: local.results,
    summary: local.summary,
    resultsUri: record.ResultsKey ? `s3://${record.ResultsBucket}/${record.ResultsKey}` : undefined,
    error: record.Error
      ? { code: record.Error.Code, message: record.Error.Message, serviceCode: record.Error.ServiceCode }
      : undefined,
    createdAt: record.CreatedAt,
    submittedAt: record.SubmittedAt,
    extractedAt: record.ExtractedAt,
    completedAt: record.CompletedAt,
  };
}

/** The same, for a person: a few aligned lines. */
export function describeReport(report: JobReport): string {
  const lines = [`${report.videoId}: ${report.status}`];
  const { clip } = report;
  if (clip) {
    const pulled = clip.pieces !== undefined ? `, ${clip.fragments} fragments in ${clip.pieces} GetClip pieces` : '';
    lines.push(`  clip        ${clip.stream} ${clip.start} to ${clip.end} by ${clip.timestampType}${pulled}`);
    if (clip.firstProducerTimestamp) lines.push(`  first frame ${clip.firstProducerTimestamp} (producer time)`);
  }
  if (report.totalFrames !== undefined) {
    lines.push(`  frames      ${report.processedFrames} processed, ${report.failedFrames} failed, ${report.totalFrames} in all`);
  } else if (report.extractPercent !== undefined) {
    lines.push(`  extracting  ${report.extractPercent}%`);
  }
  if (report.frameWidth) lines.push(`  size        ${report.frameWidth}x${report.frameHeight}, ${((report.durationMs ?? 0) / 1000).toFixed(2)} s, captured at ${report.fps} fps`);
  if (report.results) lines.push(`  results     ${report.results}`);
  else if (report.resultsUri) lines.push(`  results     ${report.resultsUri}`);
  if (report.error) lines.push(`  error       ${report.error.code}: ${report.error.message}`);
  return lines.join('\n');
}

/** Prints the reports (JSON lines or text) and returns the exit code: 0 when every run is COMPLETE. */
export function printReports(reports: readonly JobReport[], json: boolean | undefined, out: NodeJS.WritableStream): number {
  for (const report of reports) out.write(json ? `${JSON.stringify(report)}\n` : `${describeReport(report)}\n`);
  return reports.every((report) => report.status === JOB_STATUS.complete) ? EXIT.ok : EXIT.jobFailed;
}
