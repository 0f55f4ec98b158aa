import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSqsServer } from 'local-aws-sqs';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './local-identity';

export interface LocalSqsServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * An SQS-compatible server (local-aws-sqs: JSON protocol, visibility timeouts, redrive to a DLQ)
 * in memory. Queues live as long as the local cloud: messages of a run that was interrupted are
 * not kept, and the job record says where that run stopped.
 */
export async function startSqsServer(options: { readonly port?: number } = {}): Promise<LocalSqsServer> {
  const server: Server = await createSqsServer({
    port: options.port ?? 0,
    hostname: '127.0.0.1',
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
    emulateQueueCreationLifecycle: false,
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
