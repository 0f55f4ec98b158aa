import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import {
  type CaptureSettings,
  CAPTURE_LIMITS,
  InvalidCaptureSettingError,
  parseFrameRate,
} from './capture-settings';
import { streamOf } from './clip-request';

/**
 * The stack's one configuration object. Defaults below; a deployment overrides any of them in
 * `frames.config.json` at the repository root (or the file named by FRAMES_CONFIG). Checked at
 * synth time, so a bad value stops `cdktf synth` with the field's name instead of a broken deploy.
 */
export interface StackConfig {
  /** AWS region. Unset: the AWS provider's own resolution (AWS_REGION, profile) decides. */
  readonly region?: string;
  /** Prefixes every resource name; also the marker on this stack's MediaConvert jobs. */
  readonly namePrefix: string;
  /** Capture settings for uploads that carry no overrides. */
  readonly capture: CaptureSettings;
  /** Frames are intermediate and numerous: the frames bucket expires them after this many days. */
  readonly framesRetentionDays: number;
  /** Object key suffixes (case-insensitive) that start a job when they land in the ingress bucket. */
  readonly videoSuffixes: readonly string[];
  /**
   * The Kinesis video streams (names in the stack's account and region, or ARNs) the pipeline may
   * clip. The ingress function's KVS permissions are scoped to exactly these; empty grants none.
   */
  readonly kvsStreams: readonly string[];
  /** CloudWatch Logs retention for every function's log group. */
  readonly logRetentionDays: number;
  /** Tags applied to every resource. */
  readonly tags: Readonly<Record<string, string>>;
  readonly processing: ProcessingSettings;
  readonly extraction: ExtractionSettings;
  readonly operations: OperationsSettings;
}

/**
 * How one video's frame capture is split across MediaConvert jobs (pipeline/segment-plan.ts): a
 * long constant-frame-rate MP4/MOV is cut into segments, one job each, that run in parallel, and
 * each segment's frames are fanned out as its job completes.
 */
export interface ExtractionSettings {
  /**
   * Most jobs for one video. MediaConvert runs up to 20 jobs of an on-demand queue at once by
   * default (a quota AWS can raise); 10 leaves room for a second video. 1 never splits.
   */
  readonly maxSegments: number;
  /**
   * A segment captures at least this much video: a job's start-up (about 10-20 s in the queue
   * and the transcoder's warm-up) has to be worth it.
   */
  readonly minSegmentSeconds: number;
}

/** How the pipeline looks after itself and whom it tells (README, "Operations"). */
export interface OperationsSettings {
  /** How often the sweeper looks for stalled runs (an EventBridge schedule). */
  readonly sweepEveryMinutes: number;
  /**
   * A run in a running state whose record has not changed for this long is looked at by the
   * sweeper: repaired when it can be, FAILED with RUN_STALLED when it cannot. Longer than the
   * longest a healthy run goes without a write (a MediaConvert job reports progress every 10 s;
   * a worker counts a batch within its timeout).
   */
  readonly stuckAfterMinutes: number;
  /** Runs the sweeper repairs in one invocation at most; the rest wait for the next. */
  readonly sweepLimit: number;
  /** Email addresses subscribed to the notifications topic (alarms, and the outcome events below). */
  readonly notificationEmails: readonly string[];
  /** Which outcome events the topic also receives: none, failed runs only, or every run. */
  readonly notifyOutcomes: 'none' | 'failed' | 'all';
}

/** How frames are fanned out to workers and processed. */
export interface ProcessingSettings {
  /**
   * The processor module (repository-relative or absolute path) the frame worker is built with.
   * It must export `processFrame` (functions/frame-worker/frame-processor.ts has the contract).
   */
  readonly processor: string;
  /**
   * Frames in one queue message, one results object and one progress write. 100 keeps a
   * 65,000-frame video to 650 messages (65 SendMessageBatch calls) while a batch still runs in
   * seconds; at least 25 so that 1,000,000 frames stay within the job record's 400 KB.
   */
  readonly framesPerMessage: number;
  /** Queue messages per worker invocation (the event source mapping's batch size). */
  readonly messagesPerInvocation: number;
  /** Most worker invocations at once (the event source mapping's maximum concurrency). */
  readonly maxConcurrency: number;
  /** Deliveries of a batch before it goes to the dead-letter queue and its frames count as failed. */
  readonly maxReceiveCount: number;
  /** The worker's timeout; it includes the fan-in, which the last batch of a run performs. */
  readonly workerTimeoutSeconds: number;
  readonly workerMemoryMb: number;
}

export const DEFAULT_STACK_CONFIG: StackConfig = {
  namePrefix: 'frames',
  capture: { fps: { numerator: 1, denominator: 1 }, quality: 80, maxCaptures: 1_000_000 },
  framesRetentionDays: 7,
  videoSuffixes: ['.mp4', '.mov', '.m4v', '.mkv', '.mts', '.ts', '.mxf', '.avi', '.webm'],
  kvsStreams: [],
  logRetentionDays: 30,
  tags: {},
  processing: {
    processor: 'functions/frame-worker/default-processor.ts',
    framesPerMessage: 100,
    messagesPerInvocation: 1,
    maxConcurrency: 50,
    maxReceiveCount: 3,
    workerTimeoutSeconds: 180,
    workerMemoryMb: 1536,
  },
  extraction: { maxSegments: 10, minSegmentSeconds: 30 },
  operations: {
    sweepEveryMinutes: 5,
    stuckAfterMinutes: 30,
    sweepLimit: 50,
    notificationEmails: [],
    notifyOutcomes: 'failed',
  },
};

const REPOSITORY_ROOT = resolve(__dirname, '..');

/** Where a configured processor path points: relative paths are relative to the repository. */
export function resolveProcessorPath(path: string): string {
  return isAbsolute(path) ? path : resolve(REPOSITORY_ROOT, path);
}

/** The values CloudWatch Logs accepts for a log group's retention. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

const frameRateSchema = z
  .object({ numerator: z.number().int(), denominator: z.number().int() })
  .strict()
  .superRefine((fps, context) => {
    try {
      parseFrameRate(`${fps.numerator}/${fps.denominator}`);
    } catch (error) {
      if (!(error instanceof InvalidCaptureSettingError)) throw error;
      context.addIssue({ code: 'custom', message: error.message });
    }
  });

/**
 * Bucket names S3 refuses (its naming rules): these prefixes, and names ending in -s3alias,
 * --ol-s3, .mrap, --x-s3 or --table-s3. Every bucket name starts with namePrefix, so the prefixes
 * are checked on it; the suffix rules cannot bite, because Terraform's bucket_prefix ends every
 * name in a generated run of digits.
 */
export const RESERVED_BUCKET_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'] as const;

const stackConfigSchema = z
  .object({
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1')
      .optional(),
    // Bucket prefixes may be 37 characters and the longest suffix we add is "-ingress-" (9);
    // Lambda names may be 64 and IAM role names 64. 20 characters leaves room everywhere.
    namePrefix: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{0,18}[a-z0-9]$/,
        'must be 2-20 characters: lower-case letters, digits and hyphens, starting with a letter',
      )
      .refine((prefix) => !RESERVED_BUCKET_PREFIXES.some((reserved) => prefix.startsWith(reserved)), {
        message: `must not start with ${RESERVED_BUCKET_PREFIXES.join(', ')}: S3 reserves bucket names that do (CreateBucket would fail at apply)`,
      }),
    capture: z
      .object({
        fps: frameRateSchema,
        quality: z.number().int().min(CAPTURE_LIMITS.minQuality).max(CAPTURE_LIMITS.maxQuality),
        maxCaptures: z.number().int().min(1).max(CAPTURE_LIMITS.maxCaptures),
      })
      .strict(),
    framesRetentionDays: z.number().int().min(1).max(3650),
    videoSuffixes: z
      .array(z.string().regex(/^\.[A-Za-z0-9]{1,10}$/, 'must look like ".mp4"'))
      .min(1),
    kvsStreams: z.array(
      z.string().refine((stream) => streamOf(stream) !== undefined, {
        message: 'must be a stream name (letters, digits, "_", "." and "-") or a Kinesis video stream ARN',
      }),
    ),
    logRetentionDays: z
      .number()
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        message: `must be one of CloudWatch's values: ${LOG_RETENTION_DAYS.join(', ')}`,
      }),
    tags: z.record(z.string(), z.string()),
    processing: z
      .object({
        processor: z
          .string()
          .refine((path) => existsSync(resolveProcessorPath(path)), {
            message: 'no such file (relative paths are relative to the repository root)',
          }),
        framesPerMessage: z.number().int().min(25).max(1000),
        messagesPerInvocation: z.number().int().min(1).max(10),
        // The event source mapping's maximum concurrency accepts 2..1000.
        maxConcurrency: z.number().int().min(2).max(1000),
        maxReceiveCount: z.number().int().min(1).max(20),
        // Six times this is the queue's visibility timeout, which SQS caps at 12 hours.
        workerTimeoutSeconds: z.number().int().min(30).max(900),
        workerMemoryMb: z.number().int().min(512).max(10240),
      })
      .strict(),
    extraction: z
      .object({
        maxSegments: z.number().int().min(1).max(100),
        minSegmentSeconds: z.number().min(0.1).max(86_400),
      })
      .strict(),
    operations: z
      .object({
        sweepEveryMinutes: z.number().int().min(1).max(1440),
        // At least the ingress function's timeout: a run it is still clipping is not stalled.
        stuckAfterMinutes: z.number().int().min(16).max(10080),
        sweepLimit: z.number().int().min(1).max(500),
        notificationEmails: z.array(z.string().email('must be an email address')),
        notifyOutcomes: z.enum(['none', 'failed', 'all']),
      })
      .strict(),
  })
  .strict();

export class InvalidStackConfigError extends Error {
  override readonly name = 'InvalidStackConfigError';
}

/** Overrides as a person writes them in frames.config.json: any field; capture and processing fields one by one. */
export type StackConfigOverrides = Partial<Omit<StackConfig, 'capture' | 'processing' | 'extraction' | 'operations'>> & {
  readonly capture?: Partial<CaptureSettings>;
  readonly processing?: Partial<ProcessingSettings>;
  readonly extraction?: Partial<ExtractionSettings>;
  readonly operations?: Partial<OperationsSettings>;
};

/** Merges overrides onto the defaults and checks the result; throws naming every bad field. */
export function resolveStackConfig(overrides: StackConfigOverrides = {}): StackConfig {
  const merged = {
    ...DEFAULT_STACK_CONFIG,
    ...overrides,
    capture: { ...DEFAULT_STACK_CONFIG.capture, ...overrides.capture },
    processing: { ...DEFAULT_STACK_CONFIG.processing, ...overrides.processing },
    extraction: { ...DEFAULT_STACK_CONFIG.extraction, ...overrides.extraction },
    operations: { ...DEFAULT_STACK_CONFIG.operations, ...overrides.operations },
  };
  const result = stackConfigSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new InvalidStackConfigError(`Invalid stack configuration:\n${problems.join('\n')}`);
  }
  return result.data;
}

/** Reads the optional JSON overrides file; a missing file means "all defaults". */
export function loadStackConfig(path: string): StackConfig {
  if (!existsSync(path)) return resolveStackConfig();
  let overrides: unknown;
  try {
    overrides = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InvalidStackConfigError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new InvalidStackConfigError(`${path} must hold a JSON object of overrides`);
  }
  return resolveStackConfig(overrides as StackConfigOverrides);
}

/**
 * The deployment's configuration: `frames.config.json` at the repository root, or the file
 * FRAMES_CONFIG names (relative to the repository). `cdktf synth`, local mode and the CLI all read
 * it through here, so they run the same pipeline.
 */
export function loadProjectStackConfig(): StackConfig {
  return loadStackConfig(resolve(REPOSITORY_ROOT, process.env.FRAMES_CONFIG ?? 'frames.config.json'));
}
