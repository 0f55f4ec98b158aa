import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { JOB_STATUS, type JobRecord } from '../../pipeline/job-record';
import type { RunSummary } from '../../pipeline/results-format';
import { loadProjectStackConfig } from '../../pipeline/stack-config';
import { formatBytes } from '../progress-view';
import { loadChartLibrary } from './chart-library';
import { THUMBNAIL_LIMIT, chooseSheetFrames, fitToBudget, sampleIndices } from './contact-sheet';
import { type ResultsDigest, digestResults } from './results-digest';
import { reportModel } from './report-model';
import { renderReportHtml } from './report-html';
import { explainMissing, makeThumbnails } from './thumbnails';

/** What the report is made from: the S3 client of the pipeline and the frames bucket, if known. */
export interface ReportSources {
  readonly s3: S3Client;
  readonly framesBucket?: string;
}

/** The report written, as `frames report --json` prints it. */
export interface WrittenReport {
  readonly videoId: string;
  readonly runId: string;
  readonly status: string;
  readonly report: string;
  readonly bytes: number;
  readonly frames: number;
  readonly failedFrames: number;
  readonly cuts: number;
  readonly thumbnails: { readonly shown: number; readonly missing: number; readonly leftOut: number };
  /** Each also printed as a warning line: today, only missing thumbnails and why. */
  readonly warnings: readonly string[];
  readonly error?: { readonly code: string; readonly message: string };
}

/**
 * Writes the report of a finished run (COMPLETE, or FAILED: then with its summary and error, and
 * its results if it has any) to `path`: reads results.jsonl once as a stream, summary.json, and the
 * chosen frames from the frames bucket while they are still there.
 */
export async function writeReport(
  sources: ReportSources,
  record: JobRecord,
  path: string,
  options: { readonly thumbnailLimit?: number; readonly now?: Date } = {},
): Promise<WrittenReport> {
  const limit = options.thumbnailLimit ?? THUMBNAIL_LIMIT;
  const total = record.TotalFrames ?? 0;
  const hasResults = Boolean(record.ResultsBucket && record.ResultsKey);
  let digest: ResultsDigest | undefined;
  let summary: RunSummary | undefined;
  if (hasResults) {
    // The samples are known from the frame count before reading, so only their keys are kept.
    const samples = sampleIndices(total, limit);
    digest = await digestResults(await objectLines(sources.s3, record.ResultsBucket!, record.ResultsKey!), {
      expectedFrames: total,
      wantKey: (index) => samples.has(index),
    });
    summary = record.SummaryKey ? await readSummary(sources.s3, record.ResultsBucket!, record.SummaryKey) : undefined;
  }
  const chosen = digest ? chooseSheetFrames({ total, limit, keys: digest.keys, cuts: digest.cuts, failures: digest.failures }) : [];
  const { made, missing } = await makeThumbnails(sources.s3, sources.framesBucket, chosen);
  const fitted = fitToBudget(made);
  const explanation = explainMissing(missing, {
    wanted: chosen.length,
    bucket: sources.framesBucket,
    framesPrefix: record.FramesPrefix,
    retentionDays: loadProjectStackConfig().framesRetentionDays,
    extractedAt: record.ExtractedAt,
    now: options.now,
  });
  const model = reportModel({
    record,
    summary,
    digest,
    noResults: hasResults
      ? undefined
      : record.Status === JOB_STATUS.failed
        ? `This run FAILED before it had results (${record.Error?.Code ?? 'no error code'}), so the report has its summary and error only.`
        : 'This run has no results.',
    thumbnails: fitted.kept,
    missing,
    droppedThumbnails: fitted.dropped,
    notes: explanation ? [explanation] : [],
    now: options.now,
  });
  const html = renderReportHtml(model, loadChartLibrary());
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, html);
  return {
    videoId: record.VideoId,
    runId: record.RunId,
    status: record.Status,
    report: path,
    bytes: Buffer.byteLength(html),
    frames: digest?.frames ?? 0,
    failedFrames: digest?.failureCount ?? record.FailedFrames ?? 0,
    cuts: digest?.cutCount ?? 0,
    thumbnails: { shown: fitted.kept.length, missing: missing.length, leftOut: fitted.dropped },
    warnings: explanation ? [explanation] : [],
    error: record.Error ? { code: record.Error.Code, message: record.Error.Message } : undefined,
  };
}

/** The lines of an object as they arrive: results.jsonl may be a million lines, never held whole. */
async function objectLines(s3: S3Client, bucket: string, key: string): Promise<AsyncIterable<string>> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return createInterface({ input: object.Body as Readable, crlfDelay: Infinity });
}

async function readSummary(s3: S3Client, bucket: string, key: string): Promise<RunSummary | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse(await object.Body!.transformToString()) as RunSummary;
  } catch {
    // The record has the same counts and times; the stage timings are then worked out from it.
    return undefined;
  }
}

/** The lines a person reads after the report is written. */
export function describeWrittenReport(written: WrittenReport): string {
  const lines = [`${written.videoId}: report written to ${written.report} (${formatBytes(written.bytes)})`];
  // A run that FAILED before it had results has neither: its summary and error are the report.
  if (written.frames > 0) {
    const { shown, missing, leftOut } = written.thumbnails;
    lines.push(`  frames      ${written.frames} in the results, ${written.failedFrames} failed, ${written.cuts} scene cuts`);
    lines.push(`  thumbnails  ${shown} shown${missing ? `, ${missing} missing` : ''}${leftOut ? `, ${leftOut} left out for size` : ''}`);
  }
  if (written.error) lines.push(`  error       ${written.error.code}: ${written.error.message}`);
  return `${lines.join('\n')}\n`;
}
