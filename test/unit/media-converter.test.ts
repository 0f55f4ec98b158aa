import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { RejectedInputError } from '../../functions/shared/errors';
import {
  MEDIACONVERT_MAX_ATTEMPTS,
  SdkMediaConverter,
  createMediaConvertClient,
} from '../../functions/shared/media-converter';
import { HttpStub, type StubRequest, type StubResponse } from '../support/http-stub';

// The real SDK client, configured as the handler configures it, against a loopback server that
// answers like MediaConvert's REST API: retries and error mapping are exercised for real.
async function withMediaConvert(
  respond: (request: StubRequest, index: number) => StubResponse,
  act: (converter: SdkMediaConverter, stub: HttpStub) => Promise<void>,
  overrides: Parameters<typeof createMediaConvertClient>[0] = {},
) {
  const stub = new HttpStub(respond);
  const endpoint = await stub.start();
  const client = createMediaConvertClient({
    endpoint,
    region: 'us-west-2',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'secret' },
    ...overrides,
  });
  try {
    await act(new SdkMediaConverter(client), stub);
  } finally {
    client.destroy();
    await stub.stop();
  }
}

const request = {
  settings: { Inputs: [{ FileInput: 's3://in/clip.mp4' }] },
  roleArn: 'arn:aws:iam::111122223333:role/mc',
  userMetadata: { pipeline: 'frames', videoId: 'clip.mp4', runId: 'run-1' },
  tags: { pipeline: 'frames' },
  clientRequestToken: 'run-1',
};

const throttled: StubResponse = {
  status: 429,
  headers: { 'x-amzn-errortype': 'TooManyRequestsException' },
  body: { message: 'Too many requests' },
};

describe('SdkMediaConverter.createJob', () => {
  it('backs off and retries when MediaConvert throttles, then returns the job id', async () => {
    await withMediaConvert(
      (_, index) => (index < 2 ? throttled : { status: 201, body: { job: { id: 'job-9', role: 'r', settings: {} } } }),
      async (converter, stub) => {
        await expect(converter.createJob(request)).resolves.toBe('job-9');
        expect(stub.requests).toHaveLength(3);
        for (const sent of stub.requests) {
          expect(sent.method).toBe('POST');
          expect(sent.url).toBe('/2017-08-29/jobs');
          // Every attempt carries the same token, so MediaConvert can deduplicate them.
          expect(JSON.parse(sent.body)).toMatchObject({
            clientRequestToken: 'run-1',
            role: request.roleArn,
            userMetadata: request.userMetadata,
          });
        }
      },
    );
  }, 30_000);

  it(`is configured for ${MEDIACONVERT_MAX_ATTEMPTS} attempts`, async () => {
    const client = createMediaConvertClient({ region: 'us-west-2' });
    await expect(client.config.maxAttempts()).resolves.toBe(MEDIACONVERT_MAX_ATTEMPTS);
    client.destroy();
  });

  it('rethrows the throttling error once the attempts are spent', async () => {
    // Same attempt count, 1 ms between attempts: the SDK's real backoff would take ~40 s here.
    const fastBackoff = new ConfiguredRetryStrategy(MEDIACONVERT_MAX_ATTEMPTS, () => 1);
    await withMediaConvert(
      () => throttled,
      async (converter, stub) => {
        await expect(converter.createJob(request)).rejects.toMatchObject({ name: 'TooManyRequestsException' });
        expect(stub.requests).toHaveLength(MEDIACONVERT_MAX_ATTEMPTS);
      },
      { retryStrategy: fastBackoff },
    );
  });

  it('turns BadRequest into a rejected input with MediaConvert\'s message, without retrying', async () => {
    await withMediaConvert(
      () => ({ status: 400, headers: { 'x-amzn-errortype': 'BadRequestException' }, body: { message: '/settings: bad' } }),
      async (converter, stub) => {
        const attempt = converter.createJob(request);
        await expect(attempt).rejects.toBeInstanceOf(RejectedInputError);
        await expect(converter.createJob(request)).rejects.toMatchObject({
          code: 'MEDIACONVERT_REJECTED',
          message: 'MediaConvert refused the job: /settings: bad',
        });
        expect(stub.requests).toHaveLength(2);
      },
    );
  });
});

describe('SdkMediaConverter.findJob', () => {
  const job = (id: string, runId: string, createdAt: Date, segment?: string) => ({
    id,
    role: 'r',
    settings: {},
    userMetadata: { runId, ...(segment ? { segment } : {}) },
    createdAt: createdAt.getTime() / 1000,
  });

  it('pages through the default queue, newest first, until it finds the run', async () => {
    const now = new Date();
    await withMediaConvert(
      (sent) =>
        sent.url.includes('nextToken=page2')
          ? { status: 200, body: { jobs: [job('mine', 'run-1', now)] } }
          : { status: 200, body: { jobs: [job('other', 'run-x', now)], nextToken: 'page2' } },
      async (converter, stub) => {
        await expect(converter.findJob({ runId: 'run-1' }, now)).resolves.toBe('mine');
        expect(stub.requests).toHaveLength(2);
        expect(stub.requests[0].url).toMatch(/queue=Default/);
        expect(stub.requests[0].url).toMatch(/order=DESCENDING/);
      },
    );
  });

  it("a segment's job matches its run and its segment, not another segment of the run", async () => {
    const now = new Date();
    await withMediaConvert(
      () => ({ status: 200, body: { jobs: [job('segment-2', 'run-1', now, '2'), job('segment-1', 'run-1', now, '1')] } }),
      async (converter) => {
        await expect(converter.findJob({ runId: 'run-1', segment: '1' }, now)).resolves.toBe('segment-1');
        await expect(converter.findJob({ runId: 'run-1', segment: '3' }, now)).resolves.toBeUndefined();
      },
    );
  });

  it('stops at the first page older than the claim', async () => {
    const claimedAt = new Date();
    const longBefore = new Date(claimedAt.getTime() - 24 * 60 * 60 * 1000);
    await withMediaConvert(
      () => ({ status: 200, body: { jobs: [job('old', 'run-x', longBefore)], nextToken: 'more' } }),
      async (converter, stub) => {
        await expect(converter.findJob({ runId: 'run-1' }, claimedAt)).resolves.toBeUndefined();
        expect(stub.requests).toHaveLength(1);
      },
    );
  });
});
