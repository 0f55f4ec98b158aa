import type { Readable } from 'node:stream';
import { type APIName, GetDataEndpointCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import {
  GetClipCommand,
  KinesisVideoArchivedMediaClient,
  paginateListFragments,
} from '@aws-sdk/client-kinesis-video-archived-media';
import type { TimestampType } from '../../pipeline/clip-request';
import { PipelineError, httpStatusOf } from '../shared/errors';
import { ERROR_CODE } from '../../pipeline/job-record';
import { type Fragment, sortFragments } from './clip-pieces';

export interface StreamRef {
  readonly name: string;
  readonly arn?: string;
}

export interface TimeRange {
  readonly startMs: number;
  readonly endMs: number;
}

/** A stream's archive, as the ingress function reads it. */
export interface StreamArchive {
  /** Every fragment that starts in the range (both ends inclusive), in stream order. */
  listFragments(stream: StreamRef, type: TimestampType, range: TimeRange): Promise<Fragment[]>;
  /** The MP4 of the fragments that start in the range, as a stream (never buffered whole). */
  getClip(stream: StreamRef, type: TimestampType, range: TimeRange): Promise<Readable>;
}

/** ListFragments' page size: its maximum, so a 24-hour range of 2 s fragments is 44 pages. */
const LIST_PAGE_SIZE = 1000;

const streamParameters = (stream: StreamRef) => (stream.arn ? { StreamARN: stream.arn } : { StreamName: stream.name });

/**
 * KVS's archived media over the SDK. Each stream's data endpoint is asked for once per API and
 * kept for the life of the execution environment (GetDataEndpoint allows 5 calls a second per
 * stream); an endpoint that fails for a reason other than a service answer (a network error, a
 * 5xx) is forgotten, so the next call asks again.
 */
export class KvsStreamArchive implements StreamArchive {
  private readonly endpoints = new Map<string, Promise<string>>();
  private readonly clients = new Map<string, KinesisVideoArchivedMediaClient>();

  constructor(
    private readonly control: KinesisVideoClient,
    private readonly clientFor: (endpoint: string) => KinesisVideoArchivedMediaClient = (endpoint) =>
      new KinesisVideoArchivedMediaClient({ endpoint }),
  ) {}

  async listFragments(stream: StreamRef, type: TimestampType, range: TimeRange): Promise<Fragment[]> {
    return this.withDataEndpoint(stream, 'LIST_FRAGMENTS', async (client) => {
      const fragments: Fragment[] = [];
      const pages = paginateListFragments(
        { client, pageSize: LIST_PAGE_SIZE },
        {
          ...streamParameters(stream),
          FragmentSelector: {
            FragmentSelectorType: type,
            TimestampRange: { StartTimestamp: new Date(range.startMs), EndTimestamp: new Date(range.endMs) },
          },
        },
      );
      for await (const page of pages) {
        for (const fragment of page.Fragments ?? []) {
          fragments.push({
            number: fragment.FragmentNumber ?? '',
            producerMs: fragment.ProducerTimestamp?.getTime() ?? 0,
            serverMs: fragment.ServerTimestamp?.getTime() ?? 0,
            lengthMs: fragment.FragmentLengthInMilliseconds ?? 0,
            sizeBytes: fragment.FragmentSizeInBytes ?? 0,
          });
        }
      }
      return sortFragments(fragments, type);
    });
  }

  async getClip(stream: StreamRef, type: TimestampType, range: TimeRange): Promise<Readable> {
    return this.withDataEndpoint(stream, 'GET_CLIP', async (client) => {
      const { Payload } = await client.send(
        new GetClipCommand({
          ...streamParameters(stream),
          ClipFragmentSelector: {
            FragmentSelectorType: type,
            TimestampRange: { StartTimestamp: new Date(range.startMs), EndTimestamp: new Date(range.endMs) },
          },
        }),
      );
      if (!Payload) throw new PipelineError(ERROR_CODE.unexpectedResponse, 'GetClip answered without a payload');
      return Payload as Readable;
    });
  }

  private async withDataEndpoint<T>(
    stream: StreamRef,
    api: APIName,
    call: (client: KinesisVideoArchivedMediaClient) => Promise<T>,
  ): Promise<T> {
    const cacheKey = `${api} ${stream.arn ?? stream.name}`;
    let endpoint = this.endpoints.get(cacheKey);
    if (!endpoint) {
      endpoint = this.control
        .send(new GetDataEndpointCommand({ ...streamParameters(stream), APIName: api }))
        .then(({ DataEndpoint }) => {
          if (!DataEndpoint) throw new PipelineError(ERROR_CODE.unexpectedResponse, `GetDataEndpoint answered without an endpoint for ${api}`);
          return DataEndpoint;
        });
      this.endpoints.set(cacheKey, endpoint);
    }
    try {
      const url = await endpoint;
      let client = this.clients.get(url);
      if (!client) {
        client = this.clientFor(url);
        this.clients.set(url, client);
      }
      return await call(client);
    } catch (error) {
      if (!isServiceAnswer(error)) this.endpoints.delete(cacheKey);
      throw error;
    }
  }
}

/** A 4xx is the service speaking about the request; anything else may be the endpoint's fault. */
function isServiceAnswer(error: unknown): boolean {
  const status = httpStatusOf(error);
  return status !== undefined && status >= 400 && status < 500;
}
