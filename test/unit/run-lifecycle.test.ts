import { DynamoJobTable, type OutcomeAnnouncer } from '../../functions/shared/job-table';
import { type JobRecord, type JobStatus, JOB_STATUS } from '../../pipeline/job-record';
import { FINAL_STATUSES, RUNNING_STATUSES, RUN_LIFECYCLE, type RunOperation, mayStart } from '../../pipeline/run-lifecycle';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type LocalDynamo, startLocalDynamo } from '../support/dynalite';

/**
 * The run lifecycle is one table (pipeline/run-lifecycle.ts) and the job table's conditional
 * writes are derived from it. Here every operation is tried from every status against a real
 * DynamoDB-compatible server: it must succeed exactly from the statuses the table names, and
 * leave the status the table says. A write whose condition drifted from the table fails here.
 */
let dynamo: LocalDynamo;
let table: DynamoJobTable;
const announced: JobRecord[] = [];
const announcer: OutcomeAnnouncer = { announce: async (record) => void announced.push(record) };
let tables = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(async () => {
  const name = `lifecycle-${++tables}`;
  await dynamo.createJobTable(name);
  table = new DynamoJobTable(dynamo.documents, name, announcer);
  announced.length = 0;
});

const ALL_STATUSES = Object.values(JOB_STATUS);
const at = '2026-12-01T10:00:00.000Z';
const run = { videoId: 'v.mp4', runId: 'run-1' };

/** A record in `status` that meets every other condition of the operations (no job id, not fanned out, redrivable). */
function recordIn(status: JobStatus): JobRecord {
  return {
    VideoId: run.videoId,
    RunId: run.runId,
    Status: status,
    SourceBucket: 'in',
    SourceKey: 'v.mp4',
    SourceSequencer: '0A',
    TotalFrames: 4,
    ProcessedFrames: 0,
    FailedFrames: 0,
    // Segment 0's job, for the segment operations (one-job operations ignore it).
    SegmentJobs: { Segment0: 'job-1' },
    ...(status === JOB_STATUS.failed
      ? { Error: { Code: 'RETRIES_EXHAUSTED', Message: 'gave up' }, FailedFrom: JOB_STATUS.submitted, FailedEvent: { target: 'ingress', event: '{}', failedAt: at } }
      : {}),
    CreatedAt: at,
    UpdatedAt: at,
  } as JobRecord;
}

/** Each operation, called as its function calls it; true when it wrote. */
const OPERATIONS: Record<RunOperation, (status: JobStatus) => Promise<boolean>> = {
  recordClipped: () =>
    table.recordClipped(run.videoId, run.runId, { ClipFragments: 1, ClipPieces: 1, ClipFirstProducerTimestamp: at, ClipTimeline: [], SourceSize: 1 }, at),
  recordSubmission: async () => (await table.recordSubmission(run.videoId, run.runId, 'job-1', at)).recorded,
  recordSubmitRetry: async () => {
    await table.recordSubmitRetry(run.videoId, run.runId, { Code: 'SUBMIT_RETRYING', Message: 'm' }, at);
    return (await table.get(run.videoId))?.LastSubmitError !== undefined;
  },
  failSubmission: () => table.recordFailure(run.videoId, run.runId, { Code: 'X', Message: 'm' }, at),
  recordExtractProgress: () => table.recordExtractProgress(run, 'job-1', 50, at),
  failExtraction: () => table.failExtraction(run, 'job-1', { Code: 'X', Message: 'm' }, at),
  recordSegmentJob: async () => (await table.recordSegmentSubmission(run, 1, 'job-2', at)).recorded,
  failSegment: () => table.failSegment(run, 0, 'job-1', { Code: 'X', Message: 'm' }, at),
  startProcessing: () => table.startProcessing(run, 'job-1', { totalFrames: 4, framesPerBatch: 2, batchCount: 2 }, at),
  recordFannedOut: async () => {
    await table.recordFannedOut(run, at);
    return (await table.get(run.videoId))?.FannedOutAt !== undefined;
  },
  countBatch: async () => (await table.countBatch(run, 0, 2, 0, at)).state === 'counted',
  claimFanIn: async () => (await table.claimFanIn(run, new Date(at), 1000)) !== undefined,
  completeRun: () => table.completeRun(run, { bucket: 'out', resultsKey: 'r', summaryKey: 's' }, at),
  failProcessing: () => table.failProcessing(run, { Code: 'X', Message: 'm' }, at),
  abandonRun: (status) => table.abandonRun(run, status, { Code: 'RUN_STALLED', Message: 'm' }, at),
  reopenRun: async () => (await table.reopenRun(run, at)) !== undefined,
  recordAnnounced: async () => {
    // Only reachable through a final write: announce a final record, then look for the note.
    await table.claimRun({ ...recordIn(JOB_STATUS.failed), VideoId: 'other.mp4' });
    return (await table.get('other.mp4'))?.AnnouncedAt !== undefined;
  },
  recordSwept: (status) => table.recordSwept(run, status, 'replay', at),
  requestRepair: () => table.requestRepair(run, { target: 'completion', event: '{}', failedAt: at }, at),
  keepFailedEvent: async () => {
    // The FAILED record of recordIn keeps an event already: take it off first, so only the status decides.
    await dynamo.documents.send(new UpdateCommand({ TableName: `lifecycle-${tables}`, Key: { VideoId: run.videoId }, UpdateExpression: 'REMOVE FailedEvent' }));
    return table.keepFailedEvent(run, { target: 'ingress', event: '{"kept":true}', failedAt: at });
  },
};

const cases = (Object.keys(RUN_LIFECYCLE) as RunOperation[])
  .filter((operation) => operation !== 'recordAnnounced')
  .flatMap((operation) => ALL_STATUSES.map((status) => [operation, status] as const));

test.each(cases)('%s from %s: writes exactly when the lifecycle allows it, and leaves its status', async (operation, status) => {
  await table.claimRun(recordIn(status));
  const wrote = await OPERATIONS[operation](status);
  expect({ operation, status, wrote }).toEqual({ operation, status, wrote: mayStart(operation, status) });
  const after = await table.get(run.videoId);
  const transition = RUN_LIFECYCLE[operation];
  const expected = wrote ? ('to' in transition ? transition.to : operation === 'reopenRun' ? JOB_STATUS.submitted : status) : status;
  expect(after?.Status).toBe(expected);
});

test('a write that ends a run announces it once, and notes when', async () => {
  await table.claimRun(recordIn(JOB_STATUS.processing));
  expect(await table.completeRun(run, { bucket: 'out', resultsKey: 'r', summaryKey: 's' }, at)).toBe(true);
  expect(announced.map((record) => [record.VideoId, record.Status])).toEqual([['v.mp4', 'COMPLETE']]);
  expect(await table.get(run.videoId)).toMatchObject({ AnnouncedAt: expect.any(String) });
  expect((await table.get(run.videoId))?.AnnouncePending).toBeUndefined();
  // A duplicate final write finds it announced: nothing twice.
  expect(await table.completeRun(run, { bucket: 'out', resultsKey: 'r', summaryKey: 's' }, at)).toBe(false);
  expect(announced).toHaveLength(1);
});

test('an announcement that failed is made by the retried write', async () => {
  let failing = true;
  const flaky = new DynamoJobTable(dynamo.documents, `lifecycle-${tables}`, {
    announce: async (record) => {
      if (failing) throw new Error('EventBridge unavailable');
      announced.push(record);
    },
  });
  await flaky.claimRun(recordIn(JOB_STATUS.extracting));
  await expect(flaky.failExtraction(run, 'job-1', { Code: 'MEDIACONVERT_ERROR', Message: 'm' }, at)).rejects.toThrow('EventBridge unavailable');
  // Final, and pending its announcement in the index the sweeper reads.
  expect(await flaky.get(run.videoId)).toMatchObject({ Status: 'FAILED', AnnouncePending: 'PENDING' });
  expect(await flaky.runsPendingAnnouncement('2999-01-01T00:00:00.000Z', 10)).toEqual([run.videoId]);
  failing = false;
  // The event is retried: the write finds the run FAILED already, unannounced, and announces it.
  expect(await flaky.failExtraction(run, 'job-1', { Code: 'MEDIACONVERT_ERROR', Message: 'm' }, at)).toBe(false);
  expect(announced.map((record) => record.Status)).toEqual(['FAILED']);
  expect((await flaky.get(run.videoId))?.AnnouncedAt).toEqual(expect.any(String));
});

test('a redrive resumes only a run the pipeline gave up on, in the status it failed from', async () => {
  await table.claimRun({ ...recordIn(JOB_STATUS.failed), FailedFrom: JOB_STATUS.extracting });
  const reopened = await table.reopenRun(run, at);
  expect(reopened).toMatchObject({ Status: 'EXTRACTING', RedrivenAt: at });
  expect(reopened?.Error).toBeUndefined();
  // The kept event stays: if the resumed run fails again, it is what is kept again.
  expect(reopened?.FailedEvent).toEqual({ target: 'ingress', event: '{}', failedAt: at });

  // An input MediaConvert refused would fail again: not redrivable.
  await table.claimRun({ ...recordIn(JOB_STATUS.failed), VideoId: 'refused.mp4', Error: { Code: 'MEDIACONVERT_REJECTED', Message: 'm' } });
  expect(await table.reopenRun({ videoId: 'refused.mp4', runId: run.runId }, at)).toBeUndefined();
  expect(await table.get('refused.mp4')).toMatchObject({ Status: 'FAILED' });
});

test('abandoning a run keeps the status it was in, and only from that status', async () => {
  await table.claimRun(recordIn(JOB_STATUS.extracting));
  // The caller read SUBMITTED, but the run moved on: nothing is written.
  expect(await table.abandonRun(run, JOB_STATUS.submitted, { Code: 'RUN_STALLED', Message: 'm' }, at)).toBe(false);
  expect(await table.abandonRun(run, JOB_STATUS.extracting, { Code: 'RUN_STALLED', Message: 'm' }, at)).toBe(true);
  expect(await table.get(run.videoId)).toMatchObject({ Status: 'FAILED', FailedFrom: 'EXTRACTING', Error: { Code: 'RUN_STALLED' } });
});

test('runs of a status are found oldest first through the ByStatus index, up to a limit', async () => {
  for (const [index, created] of ['2026-12-01T09:00:00.000Z', '2026-12-01T08:00:00.000Z', '2026-12-01T10:30:00.000Z'].entries()) {
    await table.claimRun({ ...recordIn(JOB_STATUS.processing), VideoId: `v${index}.mp4`, CreatedAt: created });
  }
  await table.claimRun({ ...recordIn(JOB_STATUS.submitted), VideoId: 'submitted.mp4', CreatedAt: '2026-12-01T07:00:00.000Z' });
  expect(await table.runsCreatedBefore(JOB_STATUS.processing, '2026-12-01T10:00:00.000Z', 10)).toEqual(['v1.mp4', 'v0.mp4']);
  expect(await table.runsCreatedBefore(JOB_STATUS.processing, '2026-12-01T11:00:00.000Z', 1)).toEqual(['v1.mp4']);
});

test('the lifecycle names every status, and a final status starts nothing but a redrive or a note', () => {
  const from = new Set(Object.values(RUN_LIFECYCLE).flatMap((transition) => transition.from));
  expect([...from].sort()).toEqual([...ALL_STATUSES].sort());
  const fromFinal = (Object.keys(RUN_LIFECYCLE) as RunOperation[]).filter((operation) => FINAL_STATUSES.some((status) => mayStart(operation, status)));
  expect(fromFinal.sort()).toEqual(['keepFailedEvent', 'recordAnnounced', 'reopenRun']);
  expect(RUNNING_STATUSES).toEqual(['CLIPPING', 'SUBMITTED', 'EXTRACTING', 'PROCESSING']);
});
