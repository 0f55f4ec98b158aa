import { z } from 'zod';

/**
 * What the local MediaConvert endpoint executes, read from CreateJob's wire body (lowerCamelCase,
 * as the SDK and `aws mediaconvert create-job` send it). It supports the subset this pipeline's job
 * templates use: S3 file inputs (several are stitched in order, or one is clipped: see
 * planClippings); file-group outputs that are frame capture to JPEG or H.264 in MP4. Anything else
 * gets a BadRequest that names the setting: never a job that silently ignores what was asked of it.
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

/** A timecode as written, HH:MM:SS:FF (non-drop-frame), and where in the settings it was. */
export interface Timecode {
  readonly text: string;
  /** `/inputs/0/inputClippings/1/endTimecode`, as MediaConvert names fields in its messages. */
  readonly field: string;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
  /** FF: the frame within its second, below the input's timecode base (checked once the input is probed). */
  readonly frames: number;
}

/** One InputClipping: both ends inclusive; a blank start is the input's first frame, a blank end its last. */
export interface InputClip {
  readonly start?: Timecode;
  readonly end?: Timecode;
}

export interface JobPlan {
  /** In order: MediaConvert stitches them end to end into one timeline. */
  readonly inputs: ReadonlyArray<S3Location & { readonly uri: string }>;
  /**
   * The one input's clips, in order, when it has InputClippings (a job with clippings has one
   * input); the outputs are the clips end to end. Undefined when the whole input is transcoded.
   */
  readonly clippings?: readonly InputClip[];
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
        // Checked by planClippings, which says what the local endpoint does and does not do.
        inputClippings: z.array(z.strictObject({ startTimecode: z.string().optional(), endTimecode: z.string().optional() })).optional(),
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
  const clippings = planClippings(request.settings.inputs);
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
      ...(clippings ? { clippings } : {}),
      frameCaptures,
      videos,
      outputCounts: request.settings.outputGroups.map((group) => group.outputs.length),
      statusUpdateSeconds,
    },
  };
}

/**
 * The job's input clippings, checked as far as they can be before the input is read: MediaConvert's
 * own rules (a clip needs a start or an end; HH:MM:SS:FF with minutes and seconds below 60; the
 * start not after the end), then what the local endpoint does not implement, each a BadRequest
 * that says so rather than a job that ignores it:
 * - drop-frame timecodes (`HH:MM:SS;FF`);
 * - clippings on a job with several inputs (MediaConvert clips each input, then stitches);
 * - a timecode source other than ZEROBASED (EMBEDDED, MediaConvert's default when none is given,
 *   would need the input's own timecode track; SPECIFIEDSTART its timecodeStart);
 * - several clips that are not in order or overlap: they are cut from one decode, and a clip
 *   earlier in the input than the one before it would keep every frame in between in memory.
 * Whether FF is below the input's frame rate, and whether the clip lies within the input, can only
 * be known once the input is probed: the job then ends in ERROR (see input-clipping.ts).
 */
export function planClippings(inputs: CreateJobBody['settings']['inputs']): InputClip[] | undefined {
  const clipped = inputs.findIndex((input) => (input.inputClippings?.length ?? 0) > 0);
  if (clipped < 0) return undefined;
  if (inputs.length > 1) {
    throw new BadRequestError(
      `/inputs/${clipped}/inputClippings: input clipping on a job with several inputs (${inputs.length}) is not implemented locally; clip a job with one input`,
    );
  }
  const [input] = inputs;
  const clips = (input.inputClippings ?? []).map((clipping, index): InputClip => {
    const at = `/inputs/0/inputClippings/${index}`;
    if (clipping.startTimecode === undefined && clipping.endTimecode === undefined) {
      throw new BadRequestError(`${at}: Start timecode or End timecode may be left blank, but not both`);
    }
    const start = clipping.startTimecode === undefined ? undefined : parseTimecode(clipping.startTimecode, `${at}/startTimecode`);
    const end = clipping.endTimecode === undefined ? undefined : parseTimecode(clipping.endTimecode, `${at}/endTimecode`);
    if (start && end && compareTimecodes(start, end) > 0) {
      throw new BadRequestError(`${at}: the start timecode ${start.text} is after the end timecode ${end.text}`);
    }
    return { ...(start ? { start } : {}), ...(end ? { end } : {}) };
  });
  if (input.timecodeSource !== 'ZEROBASED') {
    throw new BadRequestError(
      `/inputs/0/timecodeSource: input clipping with timecode source ${input.timecodeSource ?? 'EMBEDDED (the default)'} is not implemented locally; set TimecodeSource to ZEROBASED`,
    );
  }
  clips.forEach((clip, index) => {
    if (index === 0) return;
    const before = clips[index - 1];
    if (!before.end || !clip.start || compareTimecodes(clip.start, before.end) <= 0) {
      throw new BadRequestError(
        `/inputs/0/inputClippings/${index}: clips that overlap or are out of order are not implemented locally; ` +
          'give each clip after the first a start timecode after the end timecode of the one before',
      );
    }
  });
  return clips;
}

const TIMECODE = /^(\d{2}):(\d{2}):(\d{2})([:;])(\d{2})$/;

/** `HH:MM:SS:FF` as MediaConvert writes timecodes; BadRequest naming the field when it is not one the local endpoint takes. */
export function parseTimecode(text: string, field: string): Timecode {
  const match = TIMECODE.exec(text);
  if (!match) throw new BadRequestError(`${field}: ${JSON.stringify(text)} is not a timecode; use HH:MM:SS:FF`);
  if (match[4] === ';') {
    throw new BadRequestError(`${field}: drop-frame timecodes (${text}) are not implemented locally; use non-drop-frame HH:MM:SS:FF`);
  }
  const [hours, minutes, seconds, frames] = [match[1], match[2], match[3], match[5]].map(Number);
  if (minutes >= 60) throw new BadRequestError(`${field}: ${text} has ${minutes} minutes; minutes are 00 to 59`);
  if (seconds >= 60) throw new BadRequestError(`${field}: ${text} has ${seconds} seconds; seconds are 00 to 59`);
  return { text, field, hours, minutes, seconds, frames };
}

/** Orders two timecodes whatever the frame rate, as long as each FF is below it. */
function compareTimecodes(a: Timecode, b: Timecode): number {
  return a.hours - b.hours || a.minutes - b.minutes || a.seconds - b.seconds || a.frames - b.frames;
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
