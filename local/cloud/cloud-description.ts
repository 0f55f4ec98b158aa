import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PipelineResources } from '../../pipeline/topology';
import type { FaultName } from '../faults/fault-plan';

/** The local cloud as other processes find it: written to `<data>/cloud.json` while it runs. */

export interface LocalEndpoints {
  readonly s3: string;
  readonly dynamodb: string;
  readonly sqs: string;
  readonly mediaconvert: string;
  /** Kinesis Video Streams over the streams registered with `frames local add-stream`. */
  readonly kinesisvideo: string;
  /** EventBridge PutEvents on the default bus, into the local event router. */
  readonly events: string;
}

export interface LocalCloudDescription {
  readonly pid: number;
  /** Started by `frames local up` for anyone to use; else a single command's, stopped with it. */
  readonly shared: boolean;
  readonly region: string;
  /** The CLI user's key: what `frames local up` prints, holding the CLI policy and nothing more. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly endpoints: LocalEndpoints;
  readonly resources: PipelineResources & { readonly frameDeadLetterQueueUrl: string };
  readonly logDirectory: string;
  /** Faults being injected (local/faults/fault-plan.ts); empty unless FRAMES_FAULTS says so. */
  readonly faults: readonly FaultName[];
  /** Whether requests are evaluated against the stack's grants (FRAMES_IAM=off turns it off). */
  readonly iam: boolean;
}

export const CLOUD_FILE = 'cloud.json';

/** Another local cloud already runs on this data directory (LevelDB allows one process). */
export class DataDirectoryInUseError extends Error {
  override readonly name = 'DataDirectoryInUseError';
  constructor(
    readonly dataDirectory: string,
    readonly running: LocalCloudDescription,
  ) {
    super(`A local cloud (pid ${running.pid}) is already using ${dataDirectory}`);
  }
}

/** The running cloud on a data directory, if its process is alive. */
export function runningCloud(dataDirectory: string): LocalCloudDescription | undefined {
  let description: LocalCloudDescription;
  try {
    description = JSON.parse(readFileSync(join(dataDirectory, CLOUD_FILE), 'utf8')) as LocalCloudDescription;
  } catch {
    return undefined;
  }
  try {
    process.kill(description.pid, 0);
    return description;
  } catch {
    return undefined;
  }
}
