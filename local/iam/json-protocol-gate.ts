import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Agent, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse, request as httpRequest } from 'node:http';
import { crc32 } from 'node:zlib';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../local-identity';
import { type LoopbackServer, listenOnLoopback } from '../loopback-server';
import { ALGORITHM, SignatureError, amzDate, canonicalRequest, signature, verifyRequest } from '../s3/sigv4';
import type { Decision, LocalPrincipal } from './authorizer';
import { LOCAL_ADMIN_KEY } from './local-principals';
import type { GatedRequest, RequestGate } from './request-gate';

/**
 * Local mode's IAM in front of the DynamoDB and SQS servers it takes from npm (dynalite,
 * local-aws-sqs), which check neither signatures nor grants. Every request is read (bounded),
 * its SigV4 signature verified with the signer's local key (body hash included), its operation
 * mapped to the IAM actions, resource ARNs and condition keys AWS authorizes it by, and each
 * evaluated by the request gate against the signer's identity policy and the resource's policy.
 * An allowed request goes upstream unchanged and its answer comes back as the upstream gave it
 * (SQS queue URLs rewritten to point here); a refused one is answered as the service answers it,
 * in its own wire format, so the SDK raises the error it raises against AWS.
 *
 * The AWS JSON protocols: `X-Amz-Target: DynamoDB_20120810.<Operation>` and `AmazonSQS.<Operation>`
 * (application/x-amz-json-1.0). SQS's older query protocol (form-encoded `Action=…`, XML answers)
 * is gated the same way, so no client gets past the gate by speaking it.
 */

export type JsonProtocolService = 'dynamodb' | 'sqs';

export interface JsonProtocolGateOptions {
  readonly service: JsonProtocolService;
  /** The upstream endpoint, `http://127.0.0.1:<port>` (dynalite's or the SQS server's). */
  readonly upstream: string;
  /** Whose key signed a request, and whether that principal may do it. */
  readonly gate: RequestGate;
  /** The gate's port on 127.0.0.1; a free one if none. */
  readonly port?: number;
  /** The largest request body read (DynamoDB's own limit, 16 MiB, by default). */
  readonly maxBodyBytes?: number;
  /**
   * The IAM ARN of a principal, for denial messages (`User: <arn> is not authorized …`). By
   * default the gate's own (`requestGate()` carries its principals); else the principal's name.
   */
  readonly principalArn?: (principal: string) => string | undefined;
  /**
   * Fault injection: told of every allowed request before it is forwarded. An interruption runs
   * `then` once the upstream has answered (or, with `forward: false`, instead of forwarding at
   * all), and the answer is dropped (the caller sees its connection reset), as when the caller's
   * process dies waiting for it.
   */
  readonly interrupt?: (request: {
    readonly principal: string | undefined;
    readonly operation: string;
    readonly input: Record<string, unknown>;
  }) => Interruption | undefined;
}

export interface Interruption {
  readonly forward: boolean;
  readonly then: () => Promise<void>;
}

export interface JsonProtocolGate {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** One IAM authorization a request needs: BatchGetItem on two tables needs two. */
export interface RequiredAuthorization extends GatedRequest {
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
const DYNAMODB_TARGET = 'DynamoDB_20120810';
const SQS_TARGET = 'AmazonSQS';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect']);

export async function startJsonProtocolGate(options: JsonProtocolGateOptions): Promise<JsonProtocolGate> {
  const upstream = new URL(options.upstream);
  // One pool of kept-alive connections to the upstream: the workers make thousands of calls a run.
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const tables = new TableKeys(upstream, agent);
  const context: GateContext = { options, upstream, agent, tables, origin: '' };
  let server: LoopbackServer;
  try {
    server = await listenOnLoopback((request, response) => {
      handle(context, request, response).catch((error: unknown) => {
        if (!response.headersSent) sendError(context, response, requestProtocol(options.service, request), new GateError('Internal', `The local ${options.service} gate failed: ${(error as Error).message}`));
        else response.destroy();
      });
    }, options.port);
  } catch (error) {
    agent.destroy();
    throw error;
  }
  context.origin = server.endpoint;
  return {
    endpoint: server.endpoint,
    stop: async () => {
      await server.stop();
      agent.destroy();
    },
  };
}

interface GateContext {
  readonly options: JsonProtocolGateOptions;
  readonly upstream: URL;
  readonly agent: Agent;
  readonly tables: TableKeys;
  /** The gate's own origin, `http://127.0.0.1:<port>`: what queue URLs handed out point at. */
  origin: string;
}

type Protocol = 'json' | 'query';

function requestProtocol(service: JsonProtocolService, request: IncomingMessage): Protocol {
  if (service === 'dynamodb') return 'json';
  return mediaType(request.headers['content-type']).startsWith('application/x-amz-json') || request.headers['x-amz-target'] !== undefined ? 'json' : 'query';
}

const mediaType = (value: string | undefined) => (value ?? '').split(';')[0].trim().toLowerCase();

async function handle(context: GateContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { service } = context.options;
  const protocol = requestProtocol(service, request);
  // DynamoDB answers GET / with its health line, unauthenticated; dynalite says the same.
  if (service === 'dynamodb' && request.method === 'GET') return forward(context, request, Buffer.alloc(0), response, undefined);

  const body = await readBody(request, context.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  if (body === undefined) {
    // Answered at once, the rest unread: the connection closes after the answer.
    return sendError(context, response, protocol, new GateError('TooLarge', ''), true);
  }
  let accessKeyId: string;
  try {
    accessKeyId = verifySignature(request, body, context.options.gate, service);
  } catch (error) {
    if (error instanceof GateError) return sendError(context, response, protocol, error);
    throw error;
  }

  const parsed = parseOperation(service, protocol, request, body);
  if (parsed instanceof GateError) return sendError(context, response, protocol, parsed);
  const { operation, input } = parsed;
  const principal = context.options.gate.principalOf(accessKeyId);

  // The local cloud's own key is allowed everything: its requests are not mapped at all, so an
  // operation the gate has no mapping for still reaches the server (which validates it).
  if (principal !== 'admin') {
    let required: readonly RequiredAuthorization[];
    try {
      required =
        service === 'dynamodb'
          ? await dynamoDbAuthorizations(operation, input, (table) => context.tables.keysOf(table))
          : sqsAuthorizations(operation, input, request.url ?? '/');
    } catch (error) {
      return sendError(context, response, protocol, error instanceof SqsInputError ? error : new GateError('Validation', (error as Error).message));
    }
    for (const each of required) {
      const decision = await context.options.gate.authorize(accessKeyId, each);
      if (!decision.allowed) {
        const message = accessDeniedMessage(context, principal ?? accessKeyId, each, decision);
        return sendError(context, response, protocol, new GateError('AccessDenied', message));
      }
    }
  }

  const rewrite = service === 'sqs' && QUEUE_URL_ANSWERS.has(operation) ? protocol : undefined;
  const interruption = context.options.interrupt?.({ principal, operation, input: input as Record<string, unknown> });
  if (interruption && !interruption.forward) {
    void interruption.then().finally(() => response.destroy());
    return;
  }
  forward(context, request, body, response, rewrite, interruption?.then);
  if (service === 'dynamodb' && TABLE_SCHEMA_CHANGES.has(operation)) {
    response.once('finish', () => context.tables.forget(tableNameOf(input.TableName)));
  }
}

/** The body, or undefined past `maxBytes` (the rest is not read). */
async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------
// Signatures

/**
 * The access key id of a request whose SigV4 signature checks out for `service`. These services
 * sign the body itself: the canonical request carries its SHA-256 (the SDKs send no
 * x-amz-content-sha256 for them), and a declared hash must be the body's, so a body changed after
 * signing is refused (S3's UNSIGNED-PAYLOAD is S3's alone).
 */
function verifySignature(request: IncomingMessage, body: Buffer, gate: Pick<RequestGate, 'secretOf'>, service: JsonProtocolService): string {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const query = [...url.searchParams.entries()];
  const authorization = request.headers.authorization;
  const presigned = url.searchParams.has('X-Amz-Signature') || url.searchParams.has('X-Amz-Algorithm');
  if (!authorization && !presigned) throw new GateError('MissingToken', '');
  if (authorization && !authorization.trim().startsWith('AWS4-')) throw new GateError('MissingToken', '');
  if (authorization && presigned) {
    throw new GateError('BadSignature', "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.");
  }
  const bodyHash = createHash('sha256').update(body).digest('hex');
  try {
    const { payloadHash, accessKeyId } = verifyRequest(
      { method: request.method ?? 'POST', path: (request.url ?? '/').split('?')[0], query, headers: request.headers },
      (id) => gate.secretOf(id),
      { service, bodyHash },
    );
    if (payloadHash !== bodyHash && !presigned) throw new GateError('BadSignature', '');
    return accessKeyId;
  } catch (error) {
    if (!(error instanceof SignatureError)) throw error;
    switch (error.code) {
      case 'InvalidAccessKeyId':
        throw new GateError('UnknownKey', '');
      case 'SignatureDoesNotMatch':
        throw new GateError('BadSignature', '');
      case 'RequestTimeTooSkewed':
        throw new GateError('Expired', expiredMessage(String(request.headers['x-amz-date'] ?? '')));
      case 'InvalidRequest':
        throw new GateError('MissingToken', '');
      default:
        // A credential scoped to another service, region form or terminator; a header that is
        // not AWS4-HMAC-SHA256 with Credential, SignedHeaders and Signature.
        throw error.message.startsWith('Malformed credential scope')
          ? new GateError('BadSignature', `Credential should be scoped to correct service: '${service}'. ${error.message}`)
          : new GateError('IncompleteSignature', error.message);
    }
  }
}

/** DynamoDB's (and the other coral services') words for a request signed too long ago or ahead. */
function expiredMessage(date: string): string {
  const now = Date.now();
  const at = (ms: number) => amzDate(new Date(ms));
  const signed = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  const signedAt = signed ? Date.UTC(+signed[1], +signed[2] - 1, +signed[3], +signed[4], +signed[5], +signed[6]) : Number.NaN;
  return signedAt > now
    ? `Signature not yet current: ${date} is still later than ${at(now + 15 * 60_000)} (${at(now)} + 15 min.)`
    : `Signature expired: ${date} is now earlier than ${at(now - 15 * 60_000)} (${at(now)} - 15 min.)`;
}

// ---------------------------------------------------------------------------------------------
// Operations

type Input = Record<string, unknown>;

function parseOperation(service: JsonProtocolService, protocol: Protocol, request: IncomingMessage, body: Buffer): { operation: string; input: Input } | GateError {
  if (protocol === 'query') {
    // SQS's query protocol: parameters in the form body (POST) or the query string (GET).
    const parameters = new URLSearchParams(request.method === 'GET' ? new URL(request.url ?? '/', 'http://localhost').search : body.toString('utf8'));
    const input: Input = Object.fromEntries(parameters.entries());
    const operation = typeof input.Action === 'string' ? input.Action : '';
    if (!operation) return new GateError('UnknownOperation', 'Your request must include Action parameter.');
    return { operation, input: queryTags(input) };
  }
  const target = String(request.headers['x-amz-target'] ?? '');
  const [prefix, operation, ...rest] = target.split('.');
  if (rest.length > 0 || prefix !== (service === 'dynamodb' ? DYNAMODB_TARGET : SQS_TARGET) || !/^[A-Za-z]+$/.test(operation ?? '')) {
    return new GateError('UnknownOperation', service === 'sqs' ? `Unknown operation ${target}` : '');
  }
  if (body.length === 0) return { operation, input: {} };
  try {
    const input = JSON.parse(body.toString('utf8')) as unknown;
    if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new Error('not an object');
    return { operation, input: input as Input };
  } catch {
    return new GateError('Serialization', service === 'sqs' ? 'The request body is not valid JSON' : '');
  }
}

/** Tag.N.Key/Tag.N.Value (CreateQueue) as the JSON protocol's `tags` map, for the tag condition keys. */
function queryTags(input: Input): Input {
  const tags: Record<string, string> = {};
  for (const [name, value] of Object.entries(input)) {
    const match = /^Tag\.(\d+)\.Key$/.exec(name);
    if (match) tags[String(value)] = String(input[`Tag.${match[1]}.Value`] ?? '');
  }
  return Object.keys(tags).length > 0 ? { ...input, tags } : input;
}

// ---------------------------------------------------------------------------------------------
// DynamoDB: actions, resources and condition keys

const localDynamoArn = (resource: string) => `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${resource}`;
const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;
const TABLE_ARN = /^arn:aws:dynamodb:[a-z0-9-]+:\d{12}:table\/[a-zA-Z0-9_.-]{3,255}$/;
const RESOURCE_ARN = /^arn:aws:dynamodb:[a-z0-9-]+:\d{12}:[a-zA-Z0-9_./:-]+$/;

/** Operations whose IAM action has no resource type: IAM takes only Resource "*" for them. */
const DYNAMODB_ACCOUNT_ACTIONS = new Set([
  'ListTables',
  'DescribeLimits',
  'DescribeEndpoints',
  'ListBackups',
  'ListGlobalTables',
  'ListContributorInsights',
  'DescribeReservedCapacity',
  'DescribeReservedCapacityOfferings',
  'PurchaseReservedCapacityOfferings',
]);
/** After these, a table's key schema may have changed. */
const TABLE_SCHEMA_CHANGES = new Set(['CreateTable', 'DeleteTable', 'UpdateTable']);
/** The actions `dynamodb:EnclosingOperation` is defined for (Service Authorization Reference). */
const ENCLOSED_ACTIONS = new Set(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']);

/** A table's key attributes: the partition key of the table and of each index. */
export interface TableKeySchema {
  readonly partitionKey: string;
  readonly indexes: Readonly<Record<string, string>>;
}

const tableNameOf = (value: unknown): string => {
  const text = String(value ?? '');
  return text.startsWith('arn:') ? text.slice(text.indexOf(':table/') + ':table/'.length) : text;
};

/** A table's ARN (DynamoDB takes a table's name or its ARN wherever it takes TableName). */
function tableArn(value: unknown, parameter = 'tableName'): string {
  if (typeof value !== 'string' || value === '') {
    throw new Error(`1 validation error detected: Value null at '${parameter}' failed to satisfy constraint: Member must not be null`);
  }
  if (TABLE_ARN.test(value)) return value;
  if (!TABLE_NAME.test(value)) {
    throw new Error(
      `1 validation error detected: Value '${value}' at '${parameter}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+`,
    );
  }
  return localDynamoArn(`table/${value}`);
}

function indexArn(table: string, index: unknown): string {
  if (typeof index !== 'string' || !TABLE_NAME.test(index)) {
    throw new Error(`1 validation error detected: Value '${String(index)}' at 'indexName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+`);
  }
  return `${table}/index/${index}`;
}

/** An attribute value as IAM compares it: the string of an S, N or B value. */
function keyText(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const typed = value as Record<string, unknown>;
  for (const type of ['S', 'N', 'B']) if (typeof typed[type] === 'string') return typed[type] as string;
  return undefined;
}

/**
 * The IAM authorizations a DynamoDB request needs, with the condition keys AWS sets on them that
 * a policy could use: `dynamodb:LeadingKeys` (the partition key values the request reads or
 * writes, from the table's key schema), `dynamodb:Select`, `dynamodb:ReturnValues`,
 * `dynamodb:ReturnConsumedCapacity` where the request sets them, and `dynamodb:EnclosingOperation`
 * for the items of a transaction. `aws:RequestTag/*` and `aws:TagKeys` on CreateTable and
 * TagResource. (`dynamodb:Attributes` is not set: AWS's rules for which names it holds for each
 * operation are not documented precisely enough to mirror, and a wrong set would decide wrongly.)
 * Throws a DynamoDB validation message for a request that names no valid resource.
 */
export async function dynamoDbAuthorizations(
  operation: string,
  input: Input,
  keysOf: (table: string) => Promise<TableKeySchema | undefined> = async () => undefined,
): Promise<readonly RequiredAuthorization[]> {
  const action = `dynamodb:${operation}`;
  const requestKeys = (extra: Record<string, string | readonly string[]> = {}) => {
    const context: Record<string, string | readonly string[]> = { ...extra };
    for (const key of ['Select', 'ReturnValues', 'ReturnConsumedCapacity'] as const) {
      if (typeof input[key] === 'string') context[`dynamodb:${key}`] = input[key] as string;
    }
    return context;
  };
  const leadingKeys = async (table: string, items: readonly unknown[], index?: string): Promise<Record<string, readonly string[]>> => {
    const schema = await keysOf(tableNameOf(table));
    const partitionKey = index === undefined ? schema?.partitionKey : schema?.indexes[index];
    if (!partitionKey) return {};
    const values = items.map((item) => keyText((item as Record<string, unknown> | undefined)?.[partitionKey])).filter((value): value is string => value !== undefined);
    return values.length > 0 ? { 'dynamodb:LeadingKeys': [...new Set(values)] } : {};
  };
  const withContext = (resource: string, context: Record<string, string | readonly string[]>): RequiredAuthorization =>
    Object.keys(context).length > 0 ? { action, resource, context } : { action, resource };

  switch (operation) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem': {
      const table = tableArn(input.TableName);
      return [withContext(table, requestKeys(await leadingKeys(table, [input.Key])))];
    }
    case 'PutItem': {
      const table = tableArn(input.TableName);
      return [withContext(table, requestKeys(await leadingKeys(table, [input.Item])))];
    }
    case 'Query':
    case 'Scan': {
      const table = tableArn(input.TableName);
      const index = input.IndexName === undefined ? undefined : String(input.IndexName);
      const resource = index === undefined ? table : indexArn(table, index);
      const partition = operation === 'Query' ? await queryPartition(table, index, input, keysOf) : undefined;
      return [withContext(resource, requestKeys(partition ? { 'dynamodb:LeadingKeys': [partition] } : {}))];
    }
    case 'BatchGetItem':
    case 'BatchWriteItem': {
      const requestItems = (input.RequestItems ?? {}) as Record<string, unknown>;
      if (Object.keys(requestItems).length === 0) {
        throw new Error("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null");
      }
      const authorizations: RequiredAuthorization[] = [];
      for (const [name, entry] of Object.entries(requestItems)) {
        const table = tableArn(name, 'requestItems');
        const items =
          operation === 'BatchGetItem'
            ? (((entry as { Keys?: unknown[] })?.Keys ?? []) as unknown[])
            : (((entry as unknown[]) ?? []) as Array<{ PutRequest?: { Item?: unknown }; DeleteRequest?: { Key?: unknown } }>).map(
                (write) => write?.PutRequest?.Item ?? write?.DeleteRequest?.Key,
              );
        authorizations.push(withContext(table, requestKeys(await leadingKeys(table, items))));
      }
      return authorizations;
    }
    case 'TransactGetItems':
    case 'TransactWriteItems': {
      // No IAM action of their own: each item is authorized as the single-item call it makes.
      const authorizations: RequiredAuthorization[] = [];
      const kinds = { Get: 'GetItem', Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' } as const;
      for (const item of (input.TransactItems ?? []) as Array<Record<string, Record<string, unknown>>>) {
        for (const [kind, itemAction] of Object.entries(kinds)) {
          const request = item?.[kind];
          if (!request) continue;
          const table = tableArn(request.TableName);
          const itemActionName = `dynamodb:${itemAction}`;
          const context: Record<string, string | readonly string[]> = {
            ...(await leadingKeys(table, [kind === 'Put' ? request.Item : request.Key])),
            ...(ENCLOSED_ACTIONS.has(itemActionName) ? { 'dynamodb:EnclosingOperation': operation } : {}),
            ...(typeof input.ReturnConsumedCapacity === 'string' ? { 'dynamodb:ReturnConsumedCapacity': input.ReturnConsumedCapacity } : {}),
          };
          authorizations.push({ action: itemActionName, resource: table, context });
        }
      }
      if (authorizations.length === 0) {
        throw new Error("1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null");
      }
      return authorizations;
    }
    case 'ExecuteStatement':
      return [partiQl(String(input.Statement ?? ''))];
    case 'BatchExecuteStatement':
      return ((input.Statements ?? []) as Array<{ Statement?: string }>).map((each) => partiQl(String(each?.Statement ?? '')));
    case 'ExecuteTransaction':
      return ((input.TransactStatements ?? []) as Array<{ Statement?: string }>).map((each) => partiQl(String(each?.Statement ?? ''), 'ExecuteTransaction'));
    case 'CreateTable':
      return [withContext(tableArn(input.TableName), tagKeys((input.Tags ?? []) as Array<{ Key?: string; Value?: string }>))];
    case 'TagResource':
    case 'UntagResource':
    case 'ListTagsOfResource':
    case 'GetResourcePolicy':
    case 'PutResourcePolicy':
    case 'DeleteResourcePolicy': {
      const resource = String(input.ResourceArn ?? '');
      if (!RESOURCE_ARN.test(resource) || /[*?]/.test(resource)) {
        throw new Error(`Invalid TableArn: Invalid ResourceArn provided as input ${resource}`);
      }
      const tags =
        operation === 'TagResource'
          ? tagKeys((input.Tags ?? []) as Array<{ Key?: string; Value?: string }>)
          : operation === 'UntagResource'
            ? { 'aws:TagKeys': ((input.TagKeys ?? []) as string[]).map(String) }
            : {};
      return [withContext(resource, tags)];
    }
    case 'DescribeContributorInsights':
    case 'UpdateContributorInsights': {
      const table = tableArn(input.TableName);
      return [{ action, resource: input.IndexName === undefined ? table : indexArn(table, input.IndexName) }];
    }
    case 'RestoreTableToPointInTime':
      // Reads the source table and creates the target.
      return [
        { action, resource: input.SourceTableArn !== undefined ? tableArn(input.SourceTableArn, 'sourceTableArn') : tableArn(input.SourceTableName, 'sourceTableName') },
        { action, resource: tableArn(input.TargetTableName, 'targetTableName') },
      ];
    case 'RestoreTableFromBackup':
      return [{ action, resource: tableArn(input.TargetTableName, 'targetTableName') }];
    default:
      if (DYNAMODB_ACCOUNT_ACTIONS.has(operation)) return [{ action, resource: '*' }];
      if (input.TableName !== undefined) return [{ action, resource: tableArn(input.TableName) }];
      if (typeof input.TableArn === 'string') return [{ action, resource: tableArn(input.TableArn, 'tableArn') }];
      // Never "*" for an action that has resource types: the simulator reads it as any resource.
      throw new Error(`The local DynamoDB gate cannot tell which resource ${operation} acts on`);
  }
}

function tagKeys(tags: ReadonlyArray<{ Key?: string; Value?: string }>): Record<string, string | readonly string[]> {
  if (tags.length === 0) return {};
  return {
    ...Object.fromEntries(tags.map((tag) => [`aws:RequestTag/${String(tag.Key)}`, String(tag.Value ?? '')])),
    'aws:TagKeys': tags.map((tag) => String(tag.Key)),
  };
}

/**
 * The partition key value a Query reads: the equality on the partition key in its
 * KeyConditionExpression (`#n = :v`, either way round), or its legacy KeyConditions.
 */
async function queryPartition(table: string, index: string | undefined, input: Input, keysOf: (table: string) => Promise<TableKeySchema | undefined>): Promise<string | undefined> {
  const schema = await keysOf(tableNameOf(table));
  const partitionKey = index === undefined ? schema?.partitionKey : schema?.indexes[index];
  if (!partitionKey) return undefined;
  const legacy = (input.KeyConditions as Record<string, { AttributeValueList?: unknown[] }> | undefined)?.[partitionKey];
  if (legacy) return keyText(legacy.AttributeValueList?.[0]);
  const expression = typeof input.KeyConditionExpression === 'string' ? input.KeyConditionExpression : '';
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
  const nameOf = (token: string) => (token.startsWith('#') ? names[token] : token);
  for (const match of expression.matchAll(/([#:]?[A-Za-z0-9_.-]+)\s*=\s*([#:]?[A-Za-z0-9_.-]+)/g)) {
    const [, left, right] = match;
    if (nameOf(left) === partitionKey && right.startsWith(':')) return keyText(values[right]);
    if (nameOf(right) === partitionKey && left.startsWith(':')) return keyText(values[left]);
  }
  return undefined;
}

/** A PartiQL statement's action and table (or index): `SELECT … FROM "t"."i"`, `INSERT INTO t`, `UPDATE t`, `DELETE FROM t`. */
function partiQl(statement: string, enclosing?: string): RequiredAuthorization {
  const name = String.raw`(?:"([^"]+)"|([A-Za-z0-9_.-]+))`;
  const kinds: Array<[string, RegExp]> = [
    ['PartiQLSelect', new RegExp(String.raw`^\s*SELECT\b[\s\S]*?\bFROM\s+${name}(?:\s*\.\s*${name})?`, 'i')],
    ['PartiQLInsert', new RegExp(String.raw`^\s*INSERT\s+INTO\s+${name}`, 'i')],
    ['PartiQLUpdate', new RegExp(String.raw`^\s*UPDATE\s+${name}`, 'i')],
    ['PartiQLDelete', new RegExp(String.raw`^\s*DELETE\s+FROM\s+${name}`, 'i')],
  ];
  for (const [kind, pattern] of kinds) {
    const match = pattern.exec(statement);
    if (!match) continue;
    const table = tableArn(match[1] ?? match[2], 'statement');
    const index = match[3] ?? match[4];
    return {
      action: `dynamodb:${kind}`,
      resource: index ? indexArn(table, index) : table,
      ...(enclosing ? { context: { 'dynamodb:EnclosingOperation': enclosing } } : {}),
    };
  }
  throw new Error('Statement wasn\'t well formed, can\'t be processed: unexpected statement');
}

/**
 * The tables' key schemas, asked of the upstream with DescribeTable (signed with the local
 * cloud's own key) the first time a table is used, and forgotten when a table is created,
 * deleted or updated through the gate.
 */
class TableKeys {
  private readonly schemas = new Map<string, Promise<TableKeySchema | undefined>>();

  constructor(
    private readonly upstream: URL,
    private readonly agent: Agent,
  ) {}

  keysOf(table: string): Promise<TableKeySchema | undefined> {
    let schema = this.schemas.get(table);
    if (!schema) {
      schema = this.describe(table);
      this.schemas.set(table, schema);
      // A table that does not exist (yet) is asked about again next time.
      schema.then((found) => {
        if (!found) this.schemas.delete(table);
      });
    }
    return schema;
  }

  forget(table: string): void {
    this.schemas.delete(table);
  }

  private async describe(table: string): Promise<TableKeySchema | undefined> {
    try {
      return await this.describeOrThrow(table);
    } catch {
      return undefined;
    }
  }

  private async describeOrThrow(table: string): Promise<TableKeySchema | undefined> {
    const body = JSON.stringify({ TableName: table });
    const now = new Date();
    const date = amzDate(now);
    const headers: Record<string, string> = {
      host: this.upstream.host,
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-date': date,
      'x-amz-target': `${DYNAMODB_TARGET}.DescribeTable`,
    };
    const signedHeaders = Object.keys(headers).sort();
    const scope = { date: date.slice(0, 8), region: LOCAL_REGION, service: 'dynamodb' };
    const canonical = canonicalRequest({ method: 'POST', path: '/', query: [], headers }, signedHeaders, createHash('sha256').update(body).digest('hex'));
    headers.authorization = `${ALGORITHM} Credential=${LOCAL_ADMIN_KEY.accessKeyId}/${scope.date}/${scope.region}/${scope.service}/aws4_request, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature(LOCAL_ADMIN_KEY.secretAccessKey, scope, date, canonical)}`;
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const call = httpRequest(
        { host: this.upstream.hostname, port: this.upstream.port, method: 'POST', path: '/', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent: this.agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', reject);
        },
      );
      call.on('error', reject);
      call.end(body);
    });
    if (answer.status !== 200) return undefined;
    type KeyElement = { AttributeName: string; KeyType: string };
    const description = (JSON.parse(answer.text) as { Table?: { KeySchema?: KeyElement[]; GlobalSecondaryIndexes?: Array<{ IndexName: string; KeySchema: KeyElement[] }>; LocalSecondaryIndexes?: Array<{ IndexName: string }> } }).Table;
    const hashOf = (schema: KeyElement[] | undefined) => schema?.find((element) => element.KeyType === 'HASH')?.AttributeName;
    const partitionKey = hashOf(description?.KeySchema);
    if (!partitionKey) return undefined;
    const indexes: Record<string, string> = {};
    for (const index of description?.GlobalSecondaryIndexes ?? []) {
      const key = hashOf(index.KeySchema);
      if (key) indexes[index.IndexName] = key;
    }
    // A local secondary index shares the table's partition key.
    for (const index of description?.LocalSecondaryIndexes ?? []) indexes[index.IndexName] = partitionKey;
    return { partitionKey, indexes };
  }
}

// ---------------------------------------------------------------------------------------------
// SQS: actions and resources

/** The batch calls are authorized as the single calls they batch (SQS has no batch actions). */
const SQS_ACTION_OF: Readonly<Record<string, string>> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};
const QUEUE_NAME = /^[a-zA-Z0-9_-]{1,80}(\.fifo)?$/;
const QUEUE_ARN = /^arn:aws:sqs:[a-z0-9-]+:\d{12}:[a-zA-Z0-9_-]{1,80}(\.fifo)?$/;
/** Answers that carry queue URLs, which must point at the gate, not at the server behind it. */
const QUEUE_URL_ANSWERS = new Set(['CreateQueue', 'GetQueueUrl', 'ListQueues', 'ListDeadLetterSourceQueues']);

const localQueueArn = (name: string, account = LOCAL_ACCOUNT_ID) => `arn:aws:sqs:${LOCAL_REGION}:${account}:${name}`;

/** A queue's ARN from its URL, `http(s)://host/<account>/<name>` (the queue named by the last two segments). */
function queueArnOfUrl(url: unknown): string {
  if (typeof url !== 'string' || url === '') throw new SqsInputError('MissingParameter', 'The request must contain the parameter QueueUrl.');
  let segments: string[];
  try {
    segments = new URL(url).pathname.split('/').filter(Boolean);
  } catch {
    segments = url.split('/').filter(Boolean);
  }
  const [account, name] = segments.slice(-2);
  if (segments.length < 2 || !/^\d{12}$/.test(account) || !QUEUE_NAME.test(name)) {
    throw new SqsInputError('InvalidAddress', `The address ${url} is not valid for this endpoint.`);
  }
  return localQueueArn(name, account);
}

function queueArnOfName(name: unknown, account?: unknown): string {
  if (typeof name !== 'string' || name === '') throw new SqsInputError('MissingParameter', 'The request must contain the parameter QueueName.');
  if (!QUEUE_NAME.test(name)) {
    throw new SqsInputError('InvalidParameterValue', 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
  }
  return localQueueArn(name, typeof account === 'string' && /^\d{12}$/.test(account) ? account : LOCAL_ACCOUNT_ID);
}

function queueArnOf(arn: unknown, parameter: string): string {
  if (typeof arn !== 'string' || !QUEUE_ARN.test(arn)) throw new SqsInputError('InvalidParameterValue', `Value for parameter ${parameter} is invalid.`);
  return arn;
}

class SqsInputError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The IAM authorization an SQS request needs: its action on the queue its QueueUrl (or, for
 * CreateQueue and GetQueueUrl, its QueueName) names; ListQueues on "*" (it has no resource type);
 * `aws:RequestTag/*` and `aws:TagKeys` where the request tags a queue. `path` is the request's
 * path, where older query-protocol clients put the queue. Throws SqsInputError for a request that
 * names no valid queue.
 */
export function sqsAuthorizations(operation: string, input: Input, path = '/'): readonly RequiredAuthorization[] {
  const action = `sqs:${SQS_ACTION_OF[operation] ?? operation}`;
  const queueUrl = input.QueueUrl ?? (/^\/\d{12}\/[^/?]+/.test(path) ? path.split('?')[0] : undefined);
  switch (operation) {
    case 'ListQueues':
      return [{ action, resource: '*' }];
    case 'CreateQueue': {
      const tags = (input.tags ?? {}) as Record<string, string>;
      const names = Object.keys(tags);
      const context =
        names.length > 0 ? { ...Object.fromEntries(names.map((key) => [`aws:RequestTag/${key}`, String(tags[key])])), 'aws:TagKeys': names } : undefined;
      return [{ action, resource: queueArnOfName(input.QueueName), ...(context ? { context } : {}) }];
    }
    case 'GetQueueUrl':
      return [{ action, resource: queueArnOfName(input.QueueName, input.QueueOwnerAWSAccountId) }];
    case 'StartMessageMoveTask':
    case 'ListMessageMoveTasks':
      return [{ action, resource: queueArnOf(input.SourceArn, 'SourceArn') }];
    case 'CancelMessageMoveTask': {
      // The task handle is base64 JSON naming the task's source queue.
      let source: unknown;
      try {
        source = (JSON.parse(Buffer.from(String(input.TaskHandle ?? ''), 'base64').toString('utf8')) as { sourceArn?: unknown }).sourceArn;
      } catch {
        source = undefined;
      }
      return [{ action, resource: queueArnOf(source, 'TaskHandle') }];
    }
    case 'TagQueue': {
      const tags = (input.Tags ?? {}) as Record<string, string>;
      const names = Object.keys(tags);
      const context = { ...Object.fromEntries(names.map((key) => [`aws:RequestTag/${key}`, String(tags[key])])), 'aws:TagKeys': names };
      return [{ action, resource: queueArnOfUrl(queueUrl), context }];
    }
    case 'UntagQueue':
      return [{ action, resource: queueArnOfUrl(queueUrl), context: { 'aws:TagKeys': ((input.TagKeys ?? []) as string[]).map(String) } }];
    default:
      return [{ action, resource: queueArnOfUrl(queueUrl) }];
  }
}

// ---------------------------------------------------------------------------------------------
// Denials

/** Roles act as sessions: a Lambda function's calls are made as `assumed-role/<role>/<function>`. */
function callerArn(context: GateContext, principal: string): string {
  const arn = context.options.principalArn?.(principal) ?? principalsOf(context.options.gate)?.[principal]?.arn;
  if (!arn) return principal;
  const role = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  return role ? `arn:aws:sts::${role[1]}:assumed-role/${role[2]}/${role[2]}` : arn;
}

const principalsOf = (gate: RequestGate) => (gate as RequestGate & { readonly access?: { readonly principals?: Readonly<Record<string, LocalPrincipal>> } }).access?.principals;

/**
 * AWS's words: `User: <arn> is not authorized to perform: <action> on resource: <arn> because no
 * identity-based policy allows the <action> action` (or `with an explicit deny in an
 * identity-based|resource-based policy`). SQS writes its actions in lower case.
 */
function accessDeniedMessage(context: GateContext, principal: string, request: RequiredAuthorization, decision: Decision): string {
  const action = context.options.service === 'sqs' ? request.action.toLowerCase() : request.action;
  const head = `User: ${callerArn(context, principal)} is not authorized to perform: ${action} on resource: ${request.resource}`;
  if (decision.result !== 'ExplicitlyDenied') return `${head} because no identity-based policy allows the ${action} action`;
  // The authorizer knows which policy's Deny decided it (iam-simulate's analysis).
  return `${head} with an explicit deny in ${decision.deniedBy === 'resource' ? 'a resource-based' : 'an identity-based'} policy`;
}

// ---------------------------------------------------------------------------------------------
// Errors, as each service answers them

type ErrorKind =
  | 'AccessDenied'
  | 'UnknownKey'
  | 'BadSignature'
  | 'Expired'
  | 'IncompleteSignature'
  | 'MissingToken'
  | 'UnknownOperation'
  | 'Serialization'
  | 'Validation'
  | 'TooLarge'
  | 'Internal';

class GateError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** SQS's query error code, where it is not the kind's own (MissingParameter, InvalidAddress, …). */
    readonly queryCode?: string,
  ) {
    super(message);
  }
}

interface WireError {
  readonly status: number;
  readonly type?: string;
  /** SQS's query-protocol code (`x-amzn-query-error: <code>;Sender` in JSON). */
  readonly code: string;
  readonly message?: string;
  /** AccessDenied's message is `Message` on the wire for both services; coral's others say `message`. */
  readonly messageKey: 'message' | 'Message';
  readonly fault: 'Sender' | 'Receiver';
}

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const INVALID_TOKEN = 'The security token included in the request is invalid.';

const DYNAMODB_ERRORS: Readonly<Record<ErrorKind, WireError>> = {
  AccessDenied: { status: 400, type: 'com.amazon.coral.service#AccessDeniedException', code: 'AccessDeniedException', messageKey: 'Message', fault: 'Sender' },
  UnknownKey: { status: 400, type: 'com.amazon.coral.service#UnrecognizedClientException', code: 'UnrecognizedClientException', message: INVALID_TOKEN, messageKey: 'message', fault: 'Sender' },
  BadSignature: { status: 400, type: 'com.amazon.coral.service#InvalidSignatureException', code: 'InvalidSignatureException', message: SIGNATURE_MISMATCH, messageKey: 'message', fault: 'Sender' },
  Expired: { status: 400, type: 'com.amazon.coral.service#InvalidSignatureException', code: 'InvalidSignatureException', messageKey: 'message', fault: 'Sender' },
  IncompleteSignature: { status: 400, type: 'com.amazon.coral.service#IncompleteSignatureException', code: 'IncompleteSignatureException', messageKey: 'message', fault: 'Sender' },
  MissingToken: {
    status: 400,
    type: 'com.amazon.coral.service#MissingAuthenticationTokenException',
    code: 'MissingAuthenticationTokenException',
    message: 'Request is missing Authentication Token',
    messageKey: 'message',
    fault: 'Sender',
  },
  UnknownOperation: { status: 400, type: 'com.amazon.coral.service#UnknownOperationException', code: 'UnknownOperationException', messageKey: 'message', fault: 'Sender' },
  Serialization: { status: 400, type: 'com.amazon.coral.service#SerializationException', code: 'SerializationException', messageKey: 'message', fault: 'Sender' },
  Validation: { status: 400, type: 'com.amazon.coral.validate#ValidationException', code: 'ValidationException', messageKey: 'message', fault: 'Sender' },
  // dynalite's answer, DynamoDB's: 413 with no body.
  TooLarge: { status: 413, code: 'RequestEntityTooLarge', messageKey: 'message', fault: 'Sender' },
  Internal: { status: 500, type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', code: 'InternalServerError', messageKey: 'message', fault: 'Receiver' },
};

const SQS_ERRORS: Readonly<Record<ErrorKind, WireError>> = {
  AccessDenied: { status: 403, type: 'com.amazon.coral.service#AccessDeniedException', code: 'AccessDenied', messageKey: 'Message', fault: 'Sender' },
  UnknownKey: { status: 403, type: 'com.amazon.coral.service#UnrecognizedClientException', code: 'InvalidClientTokenId', message: INVALID_TOKEN, messageKey: 'message', fault: 'Sender' },
  BadSignature: { status: 403, type: 'com.amazon.coral.service#InvalidSignatureException', code: 'SignatureDoesNotMatch', message: SIGNATURE_MISMATCH, messageKey: 'message', fault: 'Sender' },
  Expired: { status: 403, type: 'com.amazon.coral.service#InvalidSignatureException', code: 'SignatureDoesNotMatch', messageKey: 'message', fault: 'Sender' },
  IncompleteSignature: { status: 400, type: 'com.amazon.coral.service#IncompleteSignatureException', code: 'IncompleteSignature', messageKey: 'message', fault: 'Sender' },
  MissingToken: {
    status: 403,
    type: 'com.amazon.coral.service#MissingAuthenticationTokenException',
    code: 'MissingAuthenticationToken',
    message: 'The request must contain either a valid (registered) AWS access key ID or X.509 certificate.',
    messageKey: 'message',
    fault: 'Sender',
  },
  UnknownOperation: { status: 400, type: 'com.amazon.coral.service#UnknownOperationException', code: 'InvalidAction', messageKey: 'message', fault: 'Sender' },
  Serialization: { status: 400, type: 'com.amazon.coral.service#SerializationException', code: 'MalformedQueryString', messageKey: 'message', fault: 'Sender' },
  Validation: { status: 400, type: 'com.amazon.coral.validate#ValidationException', code: 'InvalidParameterValue', messageKey: 'message', fault: 'Sender' },
  TooLarge: { status: 413, type: 'com.amazon.coral.service#RequestEntityTooLargeException', code: 'RequestEntityTooLarge', message: 'Request entity too large', messageKey: 'message', fault: 'Sender' },
  Internal: { status: 500, type: 'com.amazon.coral.service#InternalFailure', code: 'InternalFailure', messageKey: 'message', fault: 'Receiver' },
};

/** SQS's own error shapes for the input errors it names in its query codes. */
const SQS_INPUT_TYPES: Readonly<Record<string, string>> = {
  InvalidAddress: 'com.amazonaws.sqs#InvalidAddress',
  MissingParameter: 'com.amazon.coral.validate#ValidationException',
  InvalidParameterValue: 'com.amazon.coral.validate#ValidationException',
};

/** A 52-character DynamoDB request id. */
const dynamoRequestId = () => randomBytes(39).toString('base64').toUpperCase().replace(/[+/]/g, '0');

function sendError(context: GateContext, response: ServerResponse, protocol: Protocol, error: Error, close = false): void {
  const service = context.options.service;
  let gateError = error instanceof GateError ? error : new GateError('Internal', error.message);
  if (error instanceof SqsInputError) gateError = new GateError('Validation', error.message, error.code);
  const base = (service === 'dynamodb' ? DYNAMODB_ERRORS : SQS_ERRORS)[gateError.kind];
  const code = gateError.queryCode ?? base.code;
  const type = service === 'sqs' && gateError.queryCode ? (SQS_INPUT_TYPES[gateError.queryCode] ?? base.type) : base.type;
  const message = gateError.message || base.message;
  const headers: OutgoingHttpHeaders = close ? { connection: 'close' } : {};
  let text: string;
  if (service === 'dynamodb') {
    text = base.type === undefined ? '' : JSON.stringify({ __type: type, ...(message ? { [base.messageKey]: message } : {}) });
    Object.assign(headers, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': dynamoRequestId(), 'x-amz-crc32': String(crc32(text)) });
  } else if (protocol === 'json') {
    text = JSON.stringify({ __type: type, ...(message ? { [base.messageKey]: message } : {}) });
    Object.assign(headers, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID(), 'x-amzn-query-error': `${code};${base.fault}` });
  } else {
    const requestId = randomUUID();
    text =
      `<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>${base.fault}</Type>` +
      `<Code>${code}</Code><Message>${escapeXml(message ?? '')}</Message><Detail/></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
    Object.assign(headers, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  }
  headers['content-length'] = Buffer.byteLength(text);
  response.writeHead(base.status, headers);
  response.end(text);
}

const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (character) => `&#${character.charCodeAt(0)};`);

// ---------------------------------------------------------------------------------------------
// Forwarding

function forwardedHeaders(headers: IncomingHttpHeaders, length: number): OutgoingHttpHeaders {
  const forwarded: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) forwarded[name] = value;
  forwarded['content-length'] = length;
  return forwarded;
}

/** Response headers as the upstream sent them, less those of its own connection. */
function answeredHeaders(rawHeaders: readonly string[], drop: ReadonlySet<string> = HOP_BY_HOP): string[] {
  const kept: string[] = [];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    if (!drop.has(rawHeaders[index].toLowerCase())) kept.push(rawHeaders[index], rawHeaders[index + 1]);
  }
  return kept;
}

/**
 * Sends the request upstream as it came (method, path, headers, body) and streams the answer
 * back; for answers with queue URLs (`rewrite` names the protocol), reads it whole and points the
 * URLs at the gate.
 */
function forward(
  context: GateContext,
  request: IncomingMessage,
  body: Buffer,
  response: ServerResponse,
  rewrite: Protocol | undefined,
  interruption?: () => Promise<void>,
): void {
  const { upstream, agent } = context;
  const call = httpRequest(
    { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: forwardedHeaders(request.headers, body.length), agent },
    (answer) => {
      if (interruption) {
        // The upstream did the work; its answer never reaches the caller.
        answer.resume();
        answer.once('end', () => void interruption().finally(() => response.destroy()));
        return;
      }
      response.once('close', () => {
        if (!answer.complete) answer.destroy();
      });
      if (!rewrite || answer.statusCode !== 200) {
        response.writeHead(answer.statusCode ?? 502, answeredHeaders(answer.rawHeaders));
        answer.pipe(response);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('error', () => response.destroy());
      answer.on('end', () => {
        const text = rewriteQueueUrls(Buffer.concat(chunks).toString('utf8'), rewrite, upstream.origin, context.origin);
        response.writeHead(answer.statusCode ?? 200, [
          ...answeredHeaders(answer.rawHeaders, new Set([...HOP_BY_HOP, 'content-length'])),
          'content-length',
          String(Buffer.byteLength(text)),
        ]);
        response.end(text);
      });
    },
  );
  call.on('error', (error) => {
    if (!response.headersSent) sendError(context, response, requestProtocol(context.options.service, request), new GateError('Internal', `The local ${context.options.service} server did not answer: ${error.message}`));
    else response.destroy();
  });
  call.end(body);
}

/** Queue URLs in an answer (QueueUrl, QueueUrls, queueUrls; or XML <QueueUrl>) pointed at the gate instead of the upstream. */
export function rewriteQueueUrls(text: string, protocol: Protocol, upstreamOrigin: string, gateOrigin: string): string {
  const repoint = (url: unknown) => (typeof url === 'string' && url.startsWith(`${upstreamOrigin}/`) ? gateOrigin + url.slice(upstreamOrigin.length) : url);
  if (protocol === 'query') {
    return text.replace(/<QueueUrl>([^<]*)<\/QueueUrl>/g, (_, url: string) => `<QueueUrl>${String(repoint(url))}</QueueUrl>`);
  }
  let answer: Record<string, unknown>;
  try {
    answer = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return text;
  }
  if (!answer || typeof answer !== 'object') return text;
  if ('QueueUrl' in answer) answer.QueueUrl = repoint(answer.QueueUrl);
  for (const key of ['QueueUrls', 'queueUrls']) if (Array.isArray(answer[key])) answer[key] = (answer[key] as unknown[]).map(repoint);
  return JSON.stringify(answer);
}
