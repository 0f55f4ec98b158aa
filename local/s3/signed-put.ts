import { Agent, request } from 'node:http';
import { type Credentials, signRequest, uriEncode } from './sigv4';

/**
 * PutObject over plain keep-alive HTTP with a SigV4 Authorization header: how the local
 * MediaConvert endpoint writes its frames, as MediaConvert writes to S3 with its role. The SDK's
 * client costs about 1.9 ms of CPU per request (middleware, checksums, XML), which for 1,800
 * frames is as much CPU as ffmpeg spends encoding them on the same cores (measured, issue 4); this
 * costs a signature. The body is not hashed (UNSIGNED-PAYLOAD, as S3 allows).
 */
export class SignedObjectWriter {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(
    private readonly options: { readonly endpoint: string; readonly credentials: Credentials; readonly region: string; readonly maxSockets: number },
  ) {
    this.url = new URL(options.endpoint);
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets });
  }

  put(bucket: string, key: string, body: Buffer, contentType: string, signal?: AbortSignal): Promise<void> {
    const path = `/${uriEncode(bucket)}/${key.split('/').map(uriEncode).join('/')}`;
    const headers: Record<string, string> = {
      host: this.url.host,
      'content-type': contentType,
      'content-length': String(body.length),
    };
    Object.assign(headers, signRequest({ method: 'PUT', path, query: [], headers }, this.options.credentials, this.options.region));
    return new Promise((resolve, reject) => {
      const put = request({ host: this.url.hostname, port: this.url.port, method: 'PUT', path, headers, agent: this.agent, signal }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          if (response.statusCode === 200) return resolve();
          const text = Buffer.concat(chunks).toString('utf8');
          const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP ${response.statusCode}`;
          const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 200);
          reject(new Error(`PutObject s3://${bucket}/${key} failed: ${code}: ${message}`));
        });
        response.on('error', reject);
      });
      put.on('error', reject);
      put.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
