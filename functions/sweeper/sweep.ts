import { OPERATIONS_LOG } from '../../pipeline/definition';
import type { JobStatus } from '../../pipeline/job-record';
import { RUNNING_STATUSES } from '../../pipeline/run-lifecycle';
import { ERROR_CODE } from '../../pipeline/job-record';
import { PipelineError, messageOf } from '../shared/errors';
import { forRun, logger } from '../shared/logger';
import { type SweepAction, type SweeperDependencies, repairRun } from './repair-run';

export interface SweepReport {
  /** Running runs read (at most the limit). */
  readonly examined: number;
  /** Runs something was done to, by action. */
  readonly swept: Readonly<Record<string, number>>;
  /** Runs whose repair threw: tried again next pass (and ended after MAX_SWEEP_ATTEMPTS). */
  readonly errors: number;
  /** Outcome events announced for runs their own function left pending. */
  readonly announced?: number;
}

/**
 * One pass: the oldest running runs of each running status, through the ByStatus index (never
 * a scan), at most `limit` in all, each repaired or ended (repair-run.ts). Each status has its
 * share of the limit (what one leaves goes to the next), so a backlog of healthy runs in one
 * status (jobs queued at MediaConvert) cannot keep the sweeper from stalled runs in another.
 * A repair that throws is logged, counted as an attempt and left for the next pass.
 */
export async function sweep(dependencies: SweeperDependencies, limit: number): Promise<SweepReport> {
  const report: { examined: number; swept: Record<string, number>; errors: number; announced?: number } = { examined: 0, swept: {}, errors: 0 };
  const before = dependencies.now().toISOString();
  const statuses = RUNNING_STATUSES as readonly JobStatus[];
  const seen = new Set<string>();
  // First each status its share of what is left, then what is still left to any that had more.
  const rounds = [(position: number) => Math.ceil((limit - report.examined) / (statuses.length - position)), () => limit - report.examined];
  for (const shareOf of rounds) {
    for (const [position, status] of statuses.entries()) {
      const share = shareOf(position);
      if (share <= 0) break;
      const oldest = await dependencies.runs.runsCreatedBefore(status, before, seen.size + share);
      for (const videoId of oldest.filter((id) => !seen.has(id)).slice(0, share)) {
        seen.add(videoId);
        report.examined += 1;
        await sweepRun(dependencies, status, videoId, report);
      }
    }
  }
  await announcePending(dependencies, report);
  // The last run's keys must not follow the pass's own summary line.
  logger.removeKeys(['videoId', 'runId']);
  return report;
}

/**
 * A final run's announcement is written right after the final write, by the function that made
 * it; one that failed then (and whose function never came back to the run) waits in the
 * PendingAnnouncement index. Announced here once it is a minute old, within what is left of the limit.
 */
export const ANNOUNCEMENT_GRACE_MS = 60_000;

async function announcePending(dependencies: SweeperDependencies, report: { examined: number; announced?: number; errors: number }): Promise<void> {
  const before = new Date(dependencies.now().getTime() - ANNOUNCEMENT_GRACE_MS).toISOString();
  for (const videoId of await dependencies.runs.runsPendingAnnouncement(before, Math.max(1, SWEEP_ANNOUNCEMENTS))) {
    forRun({ videoId });
    try {
      if (await dependencies.runs.announcePending(videoId)) report.announced = (report.announced ?? 0) + 1;
    } catch (error) {
      report.errors += 1;
      logger.error('a pending outcome event could not be announced; tried again next pass', { error: messageOf(error) });
    }
  }
}

/** Pending announcements made in one pass at most (each is a read, a PutEvents and a write). */
const SWEEP_ANNOUNCEMENTS = 100;

/** One run the index lists under `status`: repaired, ended or left, and logged (and counted) when something was done. */
async function sweepRun(
  dependencies: SweeperDependencies,
  status: JobStatus,
  videoId: string,
  report: { swept: Record<string, number>; errors: number },
): Promise<void> {
  const record = await dependencies.runs.get(videoId);
  // The index is eventually consistent: the run may have moved on since.
  if (record?.Status !== status) return;
  const run = { videoId: record.VideoId, runId: record.RunId };
  forRun(run);
  let action: SweepAction;
  try {
    action = await repairRun(dependencies, record);
  } catch (error) {
    report.errors += 1;
    logger.error('sweep of a run failed; it is tried again next pass', { status, error: messageOf(error) });
    // Counted as an attempt, so a repair that always fails ends the run after MAX_SWEEP_ATTEMPTS.
    await dependencies.runs.recordSwept(run, status, `repair failed: ${messageOf(error)}`.slice(0, 500), dependencies.now().toISOString()).catch(() => undefined);
    return;
  }
  if (action.action === 'healthy' || action.action === 'extraction-running' || action.action === 'moved-on') return;
  report.swept[action.action] = (report.swept[action.action] ?? 0) + 1;
  // Counted by the stack's metric filter (OPERATIONS_LOG.runSwept), which an alarm watches.
  logger.warn(OPERATIONS_LOG.runSwept.message, { status, ...action });
}

/** A pass in which a repair failed: the invocation fails too, so the sweeper's Errors alarm says so. */
export class SweepErrors extends PipelineError {
  override readonly name = 'SweepErrors';

  constructor(report: SweepReport) {
    super(ERROR_CODE.runStalled, `${report.errors} of ${report.examined} runs could not be repaired this pass (each is logged, and tried again next pass).`);
  }
}
