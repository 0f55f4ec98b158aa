import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobReport } from '../../../cli/job-report';
import { type FaultName, INJECTED_FAULTS_FILE, type InjectedFault } from '../../../local/faults/fault-plan';
import { JOB_STATUS } from '../../../pipeline/job-record';
import { type ResultLine, frames, readResults } from '../../integration/support/frames-cli';

/** The statuses a job rests in; anything else is a run still going (or stuck). */
const FINAL_STATUSES: readonly string[] = [JOB_STATUS.complete, JOB_STATUS.failed];

/**
 * The pipeline's promise for a finished run: every frame counted once (processed + failed = total)
 * and in results.jsonl exactly once, in order, with as many error lines as failed frames.
 * Returns the result lines for further checks.
 */
export function expectCompleteAndExact(report: JobReport, expectedFrames: number): ResultLine[] {
  expect({ videoId: report.videoId, status: report.status, error: report.error }).toEqual({
    videoId: report.videoId,
    status: JOB_STATUS.complete,
    error: undefined,
  });
  expect(report.totalFrames).toBe(expectedFrames);
  expect(report.processedFrames + report.failedFrames).toBe(expectedFrames);
  const lines = readResults(report.results!);
  expect(lines.map((line) => line.index)).toEqual([...Array(expectedFrames).keys()]);
  expect(lines.filter((line) => line.error !== undefined)).toHaveLength(report.failedFrames);
  return lines;
}

/** Every job in the data directory's job table has finished: none left SUBMITTED, EXTRACTING, … */
export async function expectNothingRunning(dataDir: string): Promise<JobReport[]> {
  const listed = await frames(['list', '--json', '--limit', '1000', '--data-dir', dataDir]);
  expect(listed.code).toBe(0);
  const unfinished = listed.reports.filter((report) => !FINAL_STATUSES.includes(report.status));
  expect(unfinished.map((report) => `${report.videoId}: ${report.status}`)).toEqual([]);
  return listed.reports;
}

/** Every fault injected into the cloud that ran on this data directory, as injected.jsonl notes them. */
export function injectedFaultRecords(dataDir: string): InjectedFault[] {
  const file = join(dataDir, 'faults', INJECTED_FAULTS_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as InjectedFault);
}

/** How often each fault was injected into the cloud that ran on this data directory. */
export function injectedFaults(dataDir: string): Partial<Record<FaultName, number>> {
  const counts: Partial<Record<FaultName, number>> = {};
  for (const { fault } of injectedFaultRecords(dataDir)) counts[fault] = (counts[fault] ?? 0) + 1;
  return counts;
}

/**
 * How often the processor-throws fault fired for each frame, by run id then frame index (its
 * injected.jsonl detail is "frame <index> of run <runId>").
 */
export function processorThrowsByFrame(dataDir: string): Map<string, Map<number, number>> {
  const byRun = new Map<string, Map<number, number>>();
  for (const { fault, detail } of injectedFaultRecords(dataDir)) {
    if (fault !== 'processor-throws') continue;
    const match = /^frame (\d+) of run (\S+)$/.exec(detail);
    if (!match) throw new Error(`unexpected processor-throws detail: ${detail}`);
    const frames = byRun.get(match[2]) ?? new Map<number, number>();
    frames.set(Number(match[1]), (frames.get(Number(match[1])) ?? 0) + 1);
    byRun.set(match[2], frames);
  }
  return byRun;
}
