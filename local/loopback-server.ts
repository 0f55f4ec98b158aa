import { type RequestListener, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * An HTTP server on 127.0.0.1 (a free port unless one is given) for a local AWS endpoint. Local
 * endpoints listen on loopback only, which is why they need no authentication of their own.
 */
export async function listenOnLoopback(handler: RequestListener, port?: number): Promise<LoopbackServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
