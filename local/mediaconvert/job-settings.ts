import { z } from 'zod';

/**
 * What the local MediaConvert endpoint executes, read from CreateJob's wire body (lowerCamelCase,
 * as the SDK and `aws mediaconvert create-job` send it). It supports the subset this pipeline's job
 * templates use: S3 file inputs (several are stitched in order); file-group outputs that are frame capture to JPEG or H.264 in
 * MP4. Anything else gets a BadRequest that names the setting: never a job that silently ignores
 * what was asked of it.
 */

export class BadRequestError extends Error {
  override readonly name = 'BadRequestException';
}

export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

/** Where a file-group output goes: `s3://bucket/prefix/base`, or the input's name when it ends in `/`. */
export interface OutputLocation {
  readonly bucket: string;
  /** Key prefix including the trailing slash, or '' at the bucket root. */
  readonly prefix: string;
  /** File name before the modifier and extension. */
  readonly baseName: string;
  readonly nameModifier: string;
}

/** Where an output sits in the job's settings: `outputGroups[groupIndex].outputs[outputIndex]`. */
interface OutputPosition {
  readonly groupIndex: number;
  readonly outputIndex: number;
}

export interface FrameCaptureOutput extends OutputLocation, OutputPosition {
  readonly framerateNumerator: number;
  readonly framerateDenominator: number;
  readonly maxCaptures: number;
  /** MediaConvert's JPEG quality, 1..100. */
  readonly quality: number;
}

/** An H.264 MP4 without audio: the settings take no AudioDescriptions, and MediaConvert adds no audio without one. */
export interface VideoOutput extends OutputLocation, OutputPosition {
  readonly width?: number;
  readonly height?: number;
  readonly maxBitrate?: number;
}

export interface JobPlan {
  /** In order: MediaConvert stitches them end to end into one timeline. */
  readonly inputs: ReadonlyArray<S3Location & { readonly uri: string }>;
  readonly frameCaptures: readonly FrameCaptureOutput[];
  readonly videos: readonly VideoOutput[];
  /** Outputs in each group, in group order: outputGroupDetails follow the same order. */
  readonly outputCounts: readonly number[];
  /** The job's StatusUpdateInterval in seconds (MediaConvert's default, SECONDS_60, when not given). */
  readonly statusUpdateSeconds: number;
}

/**
 * MediaConvert's StatusUpdateInterval values (its API refuses any other): how often a job sends a
 * STATUS_UPDATE event while it runs. SECONDS_60 when the request names none.
 */
export const STATUS_UPDATE_SECONDS = [10, 12, 15, 20, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600] as const;
export const DEFAULT_STATUS_UPDATE_INTERVAL = 'SECONDS_60';

export function statusUpdateSecondsOf(interval: string | undefined): number {
  const seconds = Number(/^SECONDS_(\d+)$/.exec(interval ?? DEFAULT_STATUS_UPDATE_INTERVAL)?.[1]);
  if (!(STATUS_UPDATE_SECONDS as readonly number[]).includes(seconds)) {
    throw new BadRequestError(
      `/statusUpdateInterval: ${JSON.stringify(interval)} is not a StatusUpdateInterval; use one of ${STATUS_UPDATE_SECONDS.map((each) => `SECONDS_${each}`).join(', ')}`,
    );
  }
  return seconds;
}

const MAX_INT = 2 ** 31 - 1;
const int = (min: number, max: number) => z.number().int().min(min).max(max);

const frameCaptureSettings = z.strictObject({
  framerateNumerator: int(1, MAX_INT),
  framerateDenominator: int(1, MAX_INT),
  maxCaptures: int(1, 10_000_000).optional(),
  quality: int(1, 100).optional(),
});

const h264Settings = z.strictObject({
  rateControlMode: z.enum(['QVBR', 'CBR', 'VBR']).optional(),
  qvbrSettings: z.strictObject({ qvbrQualityLevel: int(1, 10).optional() }).optional(),
  maxBitrate: int(1000, 1_152_000_000).optional(),
  bitrate: int(1000, 1_152_000_000).optional(),
  sceneChangeDetect: z.enum(['DISABLED', 'ENABLED', 'TRANSITION_DETECTION']).optional(),
});

const output = z.strictObject({
  nameModifier: z.string().optional(),
  extension: z.string().optional(),
  containerSettings: z.strictObject({
    container: z.enum(['RAW', 'MP4']),
    mp4Settings: z.strictObject({}).optional(),
  }),
  videoDescription: z.strictObject({
    width: int(32, 8192).optional(),
    height: int(32, 4320).optional(),
    scalingBehavior: z.enum(['DEFAULT', 'STRETCH_TO_OUTPUT']).optional(),
    codecSettings: z.strictObject({
      codec: z.enum(['FRAME_CAPTURE', 'H_264']),
      frameCaptureSettings: frameCaptureSettings.optional(),
      h264Settings: h264Settings.optional(),
    }),
  }),
});

const outputGroup = z.strictObject({
  name: z.string().optional(),
  outputGroupSettings: z.strictObject({
    type: z.literal('FILE_GROUP_SETTINGS'),
    fileGroupSettings: z.strictObject({ destination: z.string() }),
  }),
  outputs: z.array(output).min(1),
});

const settings = z.strictObject({
  timecodeConfig: z.strictObject({ source: z.enum(['ZEROBASED', 'EMBEDDED', 'SPECIFIEDSTART']) }).optional(),
  inputs: z
    .array(
      z.strictObject({
        fileInput: z.string(),
        timecodeSource: z.enum(['ZEROBASED', 'EMBEDDED', 'SPECIFIEDSTART']).optional(),
        // ffmpeg applies rotation metadata by default, which is what AUTO asks for.
        videoSelector: z.strictObject({ rotate: z.enum(['AUTO', 'DEGREE_0']).optional() }).optional(),
      }),
    )
    .min(1, 'a job needs an input')
    // MediaConvert's own limit: "You can have up to 150 inputs in a job."
    .max(150, 'a job can have up to 150 inputs'),
  outputGroups: z.array(outputGroup).min(1),
});

export const createJobBody = z.object({
  role: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN'),
  settings,
  userMetadata: z.record(z.string(), z.string()).optional(),
  // Tags on the job: IAM reads them (aws:RequestTag on CreateJob, aws:ResourceTag on the job).
  tags: z.record(z.string(), z.string()).optional(),
  // Checked by statusUpdateSecondsOf, which names the values MediaConvert takes.
  statusUpdateInterval: z.string().optional(),
  clientRequestToken: z.string().optional(),
  queue: z.string().optional(),
});

export type CreateJobBody = z.infer<typeof createJobBody>;

/** Reads and checks a CreateJob body; throws BadRequestError naming the first setting at fault. */
export function planJob(body: unknown): { request: CreateJobBody; plan: JobPlan } {
  const parsed = createJobBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
    const what =
      issue.code === 'unrecognized_keys'
        ? `${issue.keys.join(', ')} ${issue.keys.length > 1 ? 'are' : 'is'} not supported by the local MediaConvert endpoint`
        : issue.message;
    throw new BadRequestError(`/${where.replace(/^\./, '')}: ${what}`);
  }
  const request = parsed.data;
  const statusUpdateSeconds = statusUpdateSecondsOf(request.statusUpdateInterval);
  const inputs = request.settings.inputs.map((input, index) => {
    const location = parseS3Uri(input.fileInput, `settings.inputs[${index}].fileInput`);
    if (location.key === '' || location.key.endsWith('/')) {
      throw new BadRequestError(`settings.inputs[${index}].fileInput must name an object, not a folder`);
    }
    return location;
  });
  // Outputs named after the input take the first input's name, as MediaConvert's do.
  const inputBaseName = inputs[0].key.slice(inputs[0].key.lastIndexOf('/') + 1).replace(/\.[^.]*$/, '');

  const frameCaptures: FrameCaptureOutput[] = [];
  const videos: VideoOutput[] = [];
  request.settings.outputGroups.forEach((group, groupIndex) => {
    const destination = group.outputGroupSettings.fileGroupSettings.destination;
    const where = `settings.outputGroups[${groupIndex}]`;
    const base = parseDestination(destination, inputBaseName, `${where}.outputGroupSettings.fileGroupSettings.destination`);
    group.outputs.forEach((out, outputIndex) => {
      const at = `${where}.outputs[${outputIndex}]`;
      const { codec } = out.videoDescription.codecSettings;
      const location = { ...base, nameModifier: out.nameModifier ?? '' };
      if (codec === 'FRAME_CAPTURE') {
        const capture = out.videoDescription.codecSettings.frameCaptureSettings;
        if (out.containerSettings.container !== 'RAW') throw new BadRequestError(`${at}: frame capture needs container RAW`);
        if (!capture) throw new BadRequestError(`${at}.videoDescription.codecSettings.frameCaptureSettings is required for FRAME_CAPTURE`);
        frameCaptures.push({
          ...location,
          groupIndex,
          outputIndex,
          framerateNumerator: capture.framerateNumerator,
          framerateDenominator: capture.framerateDenominator,
          maxCaptures: capture.maxCaptures ?? 10_000_000,
          quality: capture.quality ?? 80,
        });
      } else {
        if (out.containerSettings.container !== 'MP4') throw new BadRequestError(`${at}: H_264 is supported in container MP4 only`);
        const h264 = out.videoDescription.codecSettings.h264Settings;
        videos.push({
          ...location,
          groupIndex,
          outputIndex,
          width: out.videoDescription.width,
          height: out.videoDescription.height,
          maxBitrate: h264?.maxBitrate ?? h264?.bitrate,
        });
      }
    });
  });
  if (videos.length === 0) {
    // MediaConvert's own rule (FIELD-NOTES): frame capture rides along a regular video output.
    throw new BadRequestError('A job with only frame capture outputs is not allowed: add a video output (for example an MP4 proxy)');
  }
  if (frameCaptures.length > 1 || videos.length > 1) {
    throw new BadRequestError('The local MediaConvert endpoint runs at most one frame capture and one video output per job');
  }
  return {
    request,
    plan: {
      inputs,
      frameCaptures,
      videos,
      outputCounts: request.settings.outputGroups.map((group) => group.outputs.length),
      statusUpdateSeconds,
    },
  };
}

function parseS3Uri(uri: string, field: string): S3Location & { uri: string } {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!match) throw new BadRequestError(`${field} must be an s3:// URI (got ${JSON.stringify(uri)})`);
  return { bucket: match[1], key: match[2], uri };
}

function parseDestination(destination: string, inputBaseName: string, field: string): Omit<OutputLocation, 'nameModifier'> {
  const { bucket, key } = parseS3Uri(destination, field);
  const slash = key.lastIndexOf('/');
  const prefix = key.slice(0, slash + 1);
  const baseName = key.slice(slash + 1) || inputBaseName;
  return { bucket, prefix, baseName };
}

/**
 * MediaConvert's frame capture quality (1..100, higher is better) as ffmpeg's JPEG quantiser scale
 * (`-q:v` 2..31, lower is better), linearly: 100 → 2, 80 → 8, 1 → 31.
 */
export function jpegQscaleFor(quality: number): number {
  return Math.round(2 + ((100 - quality) * 29) / 99);
}

/** `<prefix><base><modifier>.NNNNNNN.jpg`, 0-based, seven digits: MediaConvert's frame capture names. */
export function frameCaptureKey(output: OutputLocation, index: number): string {
  return `${output.prefix}${output.baseName}${output.nameModifier}.${String(index).padStart(7, '0')}.jpg`;
}

export function videoOutputKey(output: OutputLocation): string {
  return `${output.prefix}${output.baseName}${output.nameModifier}.mp4`;
}
