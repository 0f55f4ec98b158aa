import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Principal } from '../../pipeline/permissions';
import type { Credentials } from '../s3/sigv4';
import { LOCAL_ADMIN_KEY, LOCAL_PRINCIPAL_KEYS } from '../iam/local-principals';
import { LOCAL_REGION } from '../local-identity';
import type { LocalEndpoints } from './cloud-description';

/**
 * The standard SDK client settings for a local endpoint, signing as `credentials` (the CLI user
 * unless said otherwise: what a person at the CLI holds).
 */
export function localClientConfig(endpoint: string, credentials: Credentials = LOCAL_PRINCIPAL_KEYS.cli) {
  return {
    endpoint,
    region: LOCAL_REGION,
    credentials,
    // Checksums only where S3 requires them: the local S3 server neither needs nor checks the SDK's
    // flexible checksums, and computing them costs CPU on every request.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  } as const;
}

export interface LocalClients {
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly events: EventBridgeClient;
  close(): void;
}

/**
 * Clients of a local cloud acting as one principal: the CLI user for the `frames` command (so it
 * meets the permissions it has against a deployed stack), `admin` for the cloud's own set-up.
 */
export function connectLocalCloud(endpoints: LocalEndpoints, principal: Principal | 'admin' = 'cli'): LocalClients {
  const credentials = principal === 'admin' ? LOCAL_ADMIN_KEY : LOCAL_PRINCIPAL_KEYS[principal];
  const s3 = new S3Client(localClientConfig(endpoints.s3, credentials));
  const dynamo = new DynamoDBClient(localClientConfig(endpoints.dynamodb, credentials));
  const sqs = new SQSClient(localClientConfig(endpoints.sqs, credentials));
  const events = new EventBridgeClient(localClientConfig(endpoints.events, credentials));
  return {
    s3,
    dynamodb: DynamoDBDocumentClient.from(dynamo),
    sqs,
    events,
    close: () => [s3, dynamo, sqs, events].forEach((client) => client.destroy()),
  };
}
