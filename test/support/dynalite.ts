import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureJobTable, startDynamoServer } from '../../local/dynamo-server';

/** dynalite in memory (local mode's own server), with a document client and the job table's shape. */
export interface LocalDynamo {
  readonly endpoint: string;
  readonly documents: DynamoDBDocumentClient;
  createJobTable(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalDynamo(): Promise<LocalDynamo> {
  const server = await startDynamoServer();
  const client = new DynamoDBClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    endpoint: server.endpoint,
    documents: DynamoDBDocumentClient.from(client),
    // The table as the stack and local mode declare it.
    createJobTable: (name) => ensureJobTable(client, name),
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}
