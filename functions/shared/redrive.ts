import type { FailedEvent, JobRecord } from '../../pipeline/job-record';
import type { RedriveEventDetail } from '../../pipeline/outcome-event';
import { isRedrivable } from '../../pipeline/run-lifecycle';
import { logger } from './logger';

/**
 * The event a redrive request resumes: the run's own kept event, when the run named is the
 * video's current run and redrivable by this function; otherwise undefined (logged), and the
 * request does nothing. The request never carries an event itself.
 */
export async function keptEventFor(
  request: RedriveEventDetail,
  target: FailedEvent['target'],
  runs: { get(videoId: string): Promise<JobRecord | undefined> },
): Promise<unknown> {
  const record = await runs.get(request.videoId);
  if (record?.RunId !== request.runId || !isRedrivable(record, target)) {
    logger.warn('redrive ignored: the run is not one the pipeline gave up on, or not this function’s', {
      status: record?.Status,
      code: record?.Error?.Code,
      currentRunId: record?.RunId,
    });
    return undefined;
  }
  return JSON.parse(record.FailedEvent.event) as unknown;
}
