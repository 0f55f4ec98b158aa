import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface StubResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** JSON-encoded, unless it is a Buffer (sent as it is). */
  readonly body?: unknown;
}

/** A loopback HTTP server that answers with `respond` and remembers every request. */
export class HttpStub {
  readonly requests: StubRequest[] = [];
  private server?: Server;

  constructor(private readonly respond: (request: StubRequest, index: number) => StubResponse) {}

  async start(): Promise<string> {
    this.server = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const request = {
          method: incoming.method ?? '',
          url: incoming.url ?? '',
          headers: incoming.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(request);
        const response = this.respond(request, this.requests.length - 1);
        const body =
          response.body === undefined ? '' : Buffer.isBuffer(response.body) ? response.body : JSON.stringify(response.body);
        outgoing.writeHead(response.status, { 'content-type': 'application/json', ...response.headers });
        outgoing.end(request.method === 'HEAD' ? undefined : body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
