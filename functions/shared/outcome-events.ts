import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PipelineError } from './errors';
import { DynamoJobTable, type OutcomeAnnouncer } from './job-table';
import { logger } from './logger';
import { ERROR_CODE, type JobRecord } from '../../pipeline/job-record';
import { outcomeEventOf } from '../../pipeline/outcome-event';

/**
 * Puts "Video Frames Completed" / "Video Frames Failed" (pipeline/outcome-event.ts) on the
 * default bus. A refused entry throws, so the function's event is retried and the job table's
 * retried write announces again (functions/shared/job-table.ts).
 */
export class EventBridgeAnnouncer implements OutcomeAnnouncer {
  constructor(
    private readonly events: EventBridgeClient,
    private readonly pipelineName: string,
  ) {}

  async announce(record: JobRecord): Promise<void> {
    const { source, detailType, detail } = outcomeEventOf(record, this.pipelineName);
    const answer = await this.events.send(
      new PutEventsCommand({ Entries: [{ Source: source, DetailType: detailType, Detail: JSON.stringify(detail) }] }),
    );
    const [entry] = answer.Entries ?? [];
    if ((answer.FailedEntryCount ?? 0) > 0 || !entry?.EventId) {
      throw new PipelineError(
        ERROR_CODE.unexpectedResponse,
        `EventBridge did not take the "${detailType}" event of ${JSON.stringify(record.VideoId)}: ${entry?.ErrorCode ?? ''} ${entry?.ErrorMessage ?? ''}`.trim(),
      );
    }
    logger.info('outcome announced', { detailType, eventId: entry.EventId, status: detail.status });
  }
}

/** The job table as a function that finishes runs uses it: every final write is announced. */
export function announcingJobTable(tableName: string, pipelineName: string): DynamoJobTable {
  return new DynamoJobTable(
    DynamoDBDocumentClient.from(new DynamoDBClient({})),
    tableName,
    new EventBridgeAnnouncer(new EventBridgeClient({}), pipelineName),
  );
}
