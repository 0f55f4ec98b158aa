import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { JOB_STATUS, JOB_TABLE_KEY, type JobRecord } from '../pipeline/job-record';
import { CliError, EXIT } from './exit-codes';
import type { StackTarget } from './stack-target';

/** A video's job record, read consistently (the pipeline writes it often). */
export async function readJob(dynamodb: DynamoDBDocumentClient, table: string, videoId: string): Promise<JobRecord | undefined> {
  const { Item } = await dynamodb.send(
    new GetCommand({ TableName: table, Key: { [JOB_TABLE_KEY]: videoId }, ConsistentRead: true }),
  );
  return Item as JobRecord | undefined;
}

export const isFinished = (record: JobRecord) => record.Status === JOB_STATUS.complete || record.Status === JOB_STATUS.failed;

/** No job for the video id: exit 3, saying where it looked and what a video id is. */
export function unknownVideo(target: StackTarget, videoId: string): CliError {
  const where = target.kind === 'local' ? `the local job table in ${target.dataDirectory}` : `job table ${target.jobTable} (${target.source})`;
  return new CliError(
    `No job for video id ${JSON.stringify(videoId)} in ${where}. The video id is the uploaded object's key (for frames run: the file name); frames list shows recent ones.`,
    EXIT.environment,
  );
}
