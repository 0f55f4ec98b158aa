import { JOB_STATUS, segmentJobKey, type JobRecord } from '../pipeline/job-record';
import { EXIT } from './exit-codes';
import { OUTCOME_EVENT } from '../pipeline/outcome-event';
import { isRedrivable } from '../pipeline/run-lifecycle';
import { shellQuote } from './shell-quote';

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
  /** How the frames were captured: one job, or one per segment (and why), and the segments' jobs. */
  readonly extraction?: { readonly plan: string; readonly segments: number; readonly jobIds: readonly string[] };
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
  /** The run's outcome event ("Video Frames Completed" / "Failed"), once it is on the bus. */
  readonly outcomeEvent?: { readonly detailType: string; readonly at: string };
  /** What the sweeper last did to this run, and when. */
  readonly swept?: { readonly action: string; readonly at: string; readonly attempts: number };
  /** The command that resumes a run the pipeline gave up on (its event is kept). */
  readonly redrive?: string;
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
    extraction: record.ExtractionPlan
      ? {
          plan: record.ExtractionPlan,
          segments: Math.max(1, record.Segments?.length ?? 0),
          jobIds: record.Segments?.length
            ? record.Segments.flatMap((_, index) => record.SegmentJobs?.[segmentJobKey(index)] ?? [])
            : record.MediaConvertJobId
              ? [record.MediaConvertJobId]
              : [],
        }
      : undefined,
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
    outcomeEvent: record.AnnouncedAt
      ? { detailType: record.Status === JOB_STATUS.failed ? OUTCOME_EVENT.failed : OUTCOME_EVENT.completed, at: record.AnnouncedAt }
      : undefined,
    swept: record.SweptAt ? { action: record.SweptAction ?? '', at: record.SweptAt, attempts: record.SweepAttempts ?? 0 } : undefined,
    redrive:
      isRedrivable(record)
        ? `npx frames redrive ${shellQuote(record.VideoId)}`
        : undefined,
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
  if (report.extraction) lines.push(`  extraction  ${report.extraction.plan}`);
  if (report.frameWidth) lines.push(`  size        ${report.frameWidth}x${report.frameHeight}, ${((report.durationMs ?? 0) / 1000).toFixed(2)} s, captured at ${report.fps} fps`);
  if (report.results) lines.push(`  results     ${report.results}`);
  else if (report.resultsUri) lines.push(`  results     ${report.resultsUri}`);
  if (report.error) lines.push(`  error       ${report.error.code}: ${report.error.message}`);
  if (report.swept) lines.push(`  swept       ${report.swept.action} at ${report.swept.at} (the sweeper's repair ${report.swept.attempts})`);
  if (report.redrive) lines.push(`  redrive     ${report.redrive}   (once the cause is fixed; with your --data-dir or --stack-outputs)`);
  if (report.outcomeEvent) lines.push(`  event       "${report.outcomeEvent.detailType}" put on the default bus at ${report.outcomeEvent.at}`);
  return lines.join('\n');
}

/** Prints the reports (JSON lines or text) and returns the exit code: 0 when every run is COMPLETE. */
export function printReports(reports: readonly JobReport[], json: boolean | undefined, out: NodeJS.WritableStream): number {
  for (const report of reports) out.write(json ? `${JSON.stringify(report)}\n` : `${describeReport(report)}\n`);
  return reports.every((report) => report.status === JOB_STATUS.complete) ? EXIT.ok : EXIT.jobFailed;
}
