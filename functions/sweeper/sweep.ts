import { OPERATIONS_LOG } from '../../pipeline/definition';
import type { JobStatus } from '../../pipeline/job-record';
import { RUNNING_STATUSES } from '../../pipeline/run-lifecycle';
import { messageOf } from '../shared/errors';
import { forRun, logger } from '../shared/logger';
import { type SweepAction, type SweeperDependencies, repairRun } from './repair-run';

export interface SweepReport {
  /** Running runs read (at most the limit). */
  readonly examined: number;
  /** Runs something was done to, by action. */
  readonly swept: Readonly<Record<string, number>>;
  /** Runs whose repair threw: tried again next pass (and ended after MAX_SWEEP_ATTEMPTS). */
  readonly errors: number;
}

/**
 * One pass: the oldest running runs of each running status, through the ByStatus index (never
 * a scan), at most `limit` in all, each repaired or ended (repair-run.ts). A repair that throws
 * is logged and left for the next pass; the others go on.
 */
export async function sweep(dependencies: SweeperDependencies, limit: number): Promise<SweepReport> {
  const swept: Record<string, number> = {};
  let examined = 0;
  let errors = 0;
  const before = dependencies.now().toISOString();
  for (const status of RUNNING_STATUSES as readonly JobStatus[]) {
    if (examined >= limit) break;
    const videoIds = await dependencies.runs.runsCreatedBefore(status, before, limit - examined);
    for (const videoId of videoIds) {
      examined += 1;
      const record = await dependencies.runs.get(videoId);
      // The index is eventually consistent: the run may have moved on since.
      if (record?.Status !== status) continue;
      forRun({ videoId: record.VideoId, runId: record.RunId });
      let action: SweepAction;
      try {
        action = await repairRun(dependencies, record);
      } catch (error) {
        errors += 1;
        logger.error('sweep of a run failed; it is tried again next pass', { status, error: messageOf(error) });
        continue;
      }
      if (action.action === 'healthy' || action.action === 'extraction-running' || action.action === 'moved-on') continue;
      swept[action.action] = (swept[action.action] ?? 0) + 1;
      // Counted by the stack's metric filter (OPERATIONS_LOG.runSwept), which an alarm watches.
      logger.warn(OPERATIONS_LOG.runSwept.message, { status, ...action });
    }
  }
  // The last run's keys must not follow the pass's own summary line.
  logger.removeKeys(['videoId', 'runId']);
  return { examined, swept, errors };
}
