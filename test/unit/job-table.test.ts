import { DynamoJobTable } from '../../functions/shared/job-table';
import { normalizeSequencer } from '../../functions/ingress/video-key';
import type { JobRecord } from '../../pipeline/job-record';
import { type LocalDynamo, startLocalDynamo } from '../support/dynalite';

// The condition expressions are the exactly-once guarantee, so they run against a real
// DynamoDB-compatible server (dynalite), not a mock that would accept any expression.
let dynamo: LocalDynamo;
let store: DynamoJobTable;
let table = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(async () => {
  const name = `jobs-${++table}`;
  await dynamo.createJobTable(name);
  store = new DynamoJobTable(dynamo.documents, name);
});

const record = (runId: string, sequencer: string, overrides: Partial<JobRecord> = {}): JobRecord => ({
  VideoId: 'clip.mp4',
  RunId: runId,
  Status: 'SUBMITTED',
  SourceBucket: 'in',
  SourceKey: 'clip.mp4',
  SourceETag: 'e',
  SourceSize: 1,
  SourceSequencer: normalizeSequencer(sequencer),
  CreatedAt: '2026-11-21T05:00:00.000Z',
  UpdatedAt: '2026-11-21T05:00:00.000Z',
  ...overrides,
});

describe('claimRun', () => {
  it('claims a video the table has never seen', async () => {
    await expect(store.claimRun(record('run-1', '0A'))).resolves.toEqual({ claimed: true });
    await expect(store.get('clip.mp4')).resolves.toMatchObject({ RunId: 'run-1', Status: 'SUBMITTED' });
  });

  it('refuses the same upload twice and returns what is stored', async () => {
    await store.claimRun(record('run-1', '0A'));
    const again = await store.claimRun(record('run-1', '0A', { CreatedAt: 'later' }));
    expect(again).toMatchObject({ claimed: false, current: { RunId: 'run-1', CreatedAt: '2026-11-21T05:00:00.000Z' } });
  });

  it('lets a later upload of the key replace the run, whatever its state', async () => {
    await store.claimRun(record('run-1', '0A', { Status: 'FAILED', Error: { Code: 'X', Message: 'y' } }));
    await expect(store.claimRun(record('run-2', '0B'))).resolves.toEqual({ claimed: true });
    const current = await store.get('clip.mp4');
    expect(current).toMatchObject({ RunId: 'run-2', Status: 'SUBMITTED' });
    expect(current?.Error).toBeUndefined();
  });

  it('never lets a late event of an earlier upload replace a newer run', async () => {
    await store.claimRun(record('run-2', '0B'));
    await expect(store.claimRun(record('run-1', '0A'))).resolves.toMatchObject({
      claimed: false,
      current: { RunId: 'run-2' },
    });
  });
});

describe('recordSubmission', () => {
  it('records the job of the current SUBMITTED run once', async () => {
    await store.claimRun(record('run-1', '0A', { LastSubmitError: { Code: 'SUBMIT_RETRYING', Message: 'm' } }));
    await expect(store.recordSubmission('clip.mp4', 'run-1', 'job-1', 'at')).resolves.toEqual({ recorded: true });
    const stored = await store.get('clip.mp4');
    expect(stored).toMatchObject({ MediaConvertJobId: 'job-1', SubmittedAt: 'at' });
    expect(stored?.LastSubmitError).toBeUndefined();

    const second = await store.recordSubmission('clip.mp4', 'run-1', 'job-2', 'at');
    expect(second).toMatchObject({ recorded: false, current: { MediaConvertJobId: 'job-1' } });
  });

  it('refuses a job for a run that is no longer current', async () => {
    await store.claimRun(record('run-1', '0A'));
    await store.claimRun(record('run-2', '0B'));
    await expect(store.recordSubmission('clip.mp4', 'run-1', 'job-1', 'at')).resolves.toMatchObject({
      recorded: false,
      current: { RunId: 'run-2' },
    });
  });
});

describe('recordFailure and recordSubmitRetry', () => {
  it('moves the current SUBMITTED run to FAILED, only forwards', async () => {
    await store.claimRun(record('run-1', '0A'));
    const error = { Code: 'MEDIACONVERT_REJECTED', Message: 'no' };
    await expect(store.recordFailure('clip.mp4', 'run-1', error, 'at')).resolves.toBe(true);
    await expect(store.get('clip.mp4')).resolves.toMatchObject({ Status: 'FAILED', Error: error });
    // Already FAILED: a second transition is refused.
    await expect(store.recordFailure('clip.mp4', 'run-1', error, 'at')).resolves.toBe(false);
    // Another run's failure never touches this one.
    await expect(store.recordFailure('clip.mp4', 'run-0', error, 'at')).resolves.toBe(false);
  });

  it('notes a retry only while the run has no job', async () => {
    await store.claimRun(record('run-1', '0A'));
    await store.recordSubmitRetry('clip.mp4', 'run-1', { Code: 'SUBMIT_RETRYING', Message: 'm' }, 'at');
    await expect(store.get('clip.mp4')).resolves.toMatchObject({ LastSubmitError: { Code: 'SUBMIT_RETRYING' } });

    await store.recordSubmission('clip.mp4', 'run-1', 'job-1', 'at2');
    await store.recordSubmitRetry('clip.mp4', 'run-1', { Code: 'SUBMIT_RETRYING', Message: 'late' }, 'at3');
    const stored = await store.get('clip.mp4');
    expect(stored?.LastSubmitError).toBeUndefined();
    expect(stored?.UpdatedAt).toBe('at2');
  });
});
