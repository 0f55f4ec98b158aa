import { BatchGetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { Command } from 'commander';
import { JOB_LIST_INDEX, JOB_STATUS, JOB_TABLE_KEY, type JobRecord, type JobStatus } from '../../pipeline/job-record';
import { type TargetFlags, targetOf, targetOptions, wholeNumber } from '../command-options';
import { CliError, EXIT } from '../exit-codes';
import type { Io } from '../io';
import { type JobReport, jobReport } from '../job-report';
import { openJobTable, withTarget } from '../pipeline-connection';
import type { TargetOptions } from '../stack-target';

export const LIST_LIMITS = { default: 20, max: 1000 } as const;
const STATUSES = Object.values(JOB_STATUS);
/** BatchGetItem's limit. */
const KEYS_PER_BATCH_GET = 100;

export interface ListOptions extends TargetOptions {
  readonly status?: string;
  readonly limit?: number;
  readonly json?: boolean;
}

export function listCommand(io: Io): Command {
  return targetOptions(
    new Command('list')
      .description("List recent jobs, newest first (from the job table's status index: no table scan)")
      .option('--status <status>', `only jobs in this status: ${STATUSES.join(', ')}`)
      .option('--limit <n>', `at most this many (1..${LIST_LIMITS.max})`, wholeNumber('--limit', 1, LIST_LIMITS.max), LIST_LIMITS.default)
      .option('--json', 'print one JSON object per job per line'),
  ).action(async (flags: TargetFlags & { status?: string; limit: number }) => {
    process.exitCode = await listJobs({ ...targetOf(flags), status: flags.status, limit: flags.limit }, io);
  });
}

/** `frames list`: the most recent runs, newest first, from the job table's status index. */
export async function listJobs(options: ListOptions, io: Pick<Io, 'stdout'>): Promise<number> {
  const status = parseStatus(options.status);
  const limit = options.limit ?? LIST_LIMITS.default;
  const records = await withTarget(options, async (target) => {
    const table = await openJobTable(target);
    try {
      return await recentJobs(table.dynamodb, table.jobTable, { status, limit });
    } finally {
      await table.close();
    }
  });
  const reports = records.map((record) => jobReport(record));
  if (options.json) for (const report of reports) io.stdout.write(`${JSON.stringify(report)}\n`);
  else io.stdout.write(reports.length > 0 ? `${formatJobTable(reports)}\n` : `No jobs${status ? ` with status ${status}` : ''}.\n`);
  return EXIT.ok;
}

function parseStatus(text: string | undefined): JobStatus | undefined {
  if (text === undefined) return undefined;
  const status = STATUSES.find((candidate) => candidate === text.toUpperCase());
  if (!status) throw new CliError(`--status must be one of ${STATUSES.join(', ')}; got ${JSON.stringify(text)}.`, EXIT.usage);
  return status;
}

/**
 * The newest `limit` runs, optionally of one status. Each status is one partition of the index,
 * sorted by CreatedAt, so a status is one Query read backwards, and "any status" is the newest
 * `limit` of each status merged: never a scan, whatever the table's size. The index holds keys
 * only; the records themselves come from BatchGetItem, 100 at a time.
 */
export async function recentJobs(
  dynamodb: DynamoDBDocumentClient,
  table: string,
  options: { readonly status?: JobStatus; readonly limit: number },
): Promise<JobRecord[]> {
  const statuses = options.status ? [options.status] : STATUSES;
  const keys = (await Promise.all(statuses.map((status) => newestOfStatus(dynamodb, table, status, options.limit))))
    .flat()
    .sort((a, b) => (a.CreatedAt < b.CreatedAt ? 1 : a.CreatedAt > b.CreatedAt ? -1 : 0))
    .slice(0, options.limit);
  const records = await getRecords(dynamodb, table, keys.map((key) => key[JOB_TABLE_KEY]));
  // A record may have moved on (another status, a newer run) since the index was read: list it as it is now.
  return keys.map((key) => records.get(key[JOB_TABLE_KEY])).filter((record): record is JobRecord => record !== undefined);
}

type IndexKey = { VideoId: string; CreatedAt: string };

async function newestOfStatus(dynamodb: DynamoDBDocumentClient, table: string, status: JobStatus, limit: number): Promise<IndexKey[]> {
  const keys: IndexKey[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamodb.send(
      new QueryCommand({
        TableName: table,
        IndexName: JOB_LIST_INDEX.name,
        KeyConditionExpression: '#status = :status',
        ExpressionAttributeNames: { '#status': JOB_LIST_INDEX.partitionKey },
        ExpressionAttributeValues: { ':status': status },
        ScanIndexForward: false,
        Limit: limit - keys.length,
        ExclusiveStartKey: start,
      }),
    );
    keys.push(...((page.Items ?? []) as IndexKey[]));
    start = page.LastEvaluatedKey;
  } while (start && keys.length < limit);
  return keys;
}

async function getRecords(dynamodb: DynamoDBDocumentClient, table: string, videoIds: readonly string[]): Promise<Map<string, JobRecord>> {
  const records = new Map<string, JobRecord>();
  for (let i = 0; i < videoIds.length; i += KEYS_PER_BATCH_GET) {
    let keys: Record<string, unknown>[] | undefined = videoIds.slice(i, i + KEYS_PER_BATCH_GET).map((id) => ({ [JOB_TABLE_KEY]: id }));
    for (let attempt = 0; keys && keys.length > 0; attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 2_000)));
      const response: BatchGetCommandOutput = await dynamodb.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys } } }));
      for (const item of (response.Responses?.[table] ?? []) as JobRecord[]) records.set(item.VideoId, item);
      // Unprocessed keys are what DynamoDB could not read this time (throttling): ask again.
      keys = response.UnprocessedKeys?.[table]?.Keys;
    }
  }
  return records;
}

/** Aligned columns: created, status, frames, video id, and the error code of failed runs. */
export function formatJobTable(reports: readonly JobReport[]): string {
  const rows = reports.map((report) => [
    report.createdAt?.replace('T', ' ').replace(/\.\d+Z$/, 'Z') ?? '',
    report.status,
    report.totalFrames !== undefined ? `${report.processedFrames + report.failedFrames}/${report.totalFrames}` : '',
    report.videoId,
    report.error?.code ?? '',
  ]);
  const header = ['CREATED', 'STATUS', 'FRAMES', 'VIDEO ID', 'ERROR'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  return [header, ...rows].map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ').trimEnd()).join('\n');
}
