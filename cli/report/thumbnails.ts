import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import type { SheetFrame } from './contact-sheet';

/** Thumbnails are this wide (height in proportion): enough to recognise a shot, about 3-8 KB each. */
export const THUMBNAIL_WIDTH = 160;
/** JPEG quality of a thumbnail: artefacts at 70 are invisible at this size, and it halves 90's bytes. */
const THUMBNAIL_QUALITY = 70;
/** GETs in flight: enough to hide S3's latency, few enough for the local server on 2 shared cores. */
const CONCURRENCY = 6;

export interface Thumbnail extends SheetFrame {
  readonly dataUri: string;
  readonly bytes: number;
}

/**
 * Why a frame has no thumbnail. `expired`: the frames bucket no longer has it (its lifecycle deletes
 * frames after framesRetentionDays); `denied`: the identity running the CLI may not read it;
 * `no-bucket`: the stack target does not name the frames bucket; `unreadable`: not a JPEG sharp can
 * decode; `error`: anything else.
 */
export type MissingReason = 'expired' | 'denied' | 'no-bucket' | 'unreadable' | 'error';

export interface MissingThumbnail extends SheetFrame {
  readonly reason: MissingReason;
  readonly detail: string;
}

/** Reads each frame from the frames bucket and downscales it to a JPEG data URI. */
export async function makeThumbnails(
  s3: S3Client,
  bucket: string | undefined,
  frames: readonly SheetFrame[],
): Promise<{ made: Thumbnail[]; missing: MissingThumbnail[] }> {
  if (bucket === undefined) {
    return { made: [], missing: frames.map((frame) => ({ ...frame, reason: 'no-bucket' as const, detail: 'the frames bucket is not known' })) };
  }
  const made: Thumbnail[] = [];
  const missing: MissingThumbnail[] = [];
  let next = 0;
  const worker = async () => {
    while (next < frames.length) {
      const frame = frames[next++]!;
      const outcome = await thumbnailOf(s3, bucket, frame);
      if ('dataUri' in outcome) made.push(outcome);
      else missing.push(outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, frames.length) }, worker));
  const byIndex = (a: SheetFrame, b: SheetFrame) => a.index - b.index;
  return { made: made.sort(byIndex), missing: missing.sort(byIndex) };
}

async function thumbnailOf(s3: S3Client, bucket: string, frame: SheetFrame): Promise<Thumbnail | MissingThumbnail> {
  let jpeg: Buffer;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: frame.key }));
    jpeg = Buffer.from(await object.Body!.transformToByteArray());
  } catch (error) {
    return { ...frame, ...classify(error) };
  }
  try {
    const small = await sharp(jpeg, { failOn: 'error' })
      .resize({ width: THUMBNAIL_WIDTH, withoutEnlargement: true })
      .jpeg({ quality: THUMBNAIL_QUALITY, mozjpeg: true })
      .toBuffer();
    const dataUri = `data:image/jpeg;base64,${small.toString('base64')}`;
    return { ...frame, dataUri, bytes: dataUri.length };
  } catch (error) {
    return { ...frame, reason: 'unreadable', detail: (error as Error).message };
  }
}

function classify(error: unknown): { reason: MissingReason; detail: string } {
  const { name, message, $metadata } = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = $metadata?.httpStatusCode;
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) return { reason: 'expired', detail: name ?? 'NoSuchKey' };
  if (name === 'AccessDenied' || status === 403) return { reason: 'denied', detail: message ?? 'AccessDenied' };
  return { reason: 'error', detail: `${name ?? 'Error'}: ${message ?? String(error)}` };
}

/**
 * One sentence a person can act on for the missing thumbnails, or undefined when none is missing.
 * Only what is true of this run is said: an expiry is explained with the run's age.
 */
export function explainMissing(
  missing: readonly MissingThumbnail[],
  context: {
    readonly wanted: number;
    readonly bucket?: string;
    readonly framesPrefix?: string;
    readonly retentionDays: number;
    /** When the frames were written (the run's ExtractedAt). */
    readonly extractedAt?: string;
    readonly now?: Date;
  },
): string | undefined {
  if (missing.length === 0) return undefined;
  const counts = new Map<MissingReason, number>();
  for (const frame of missing) counts.set(frame.reason, (counts.get(frame.reason) ?? 0) + 1);
  const [reason] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
  const share = missing.length === context.wanted ? `All ${context.wanted} thumbnails are missing` : `${missing.length} of ${context.wanted} thumbnails are missing`;
  const where = context.bucket ? `s3://${context.bucket}/${context.framesPrefix ?? ''}` : 'the frames bucket';
  switch (reason) {
    case 'expired': {
      const days = context.extractedAt ? Math.floor(((context.now ?? new Date()).getTime() - Date.parse(context.extractedAt)) / 86_400_000) : undefined;
      const age = days === undefined ? '' : `; this run's frames were written ${days === 0 ? 'today' : `${days} day${days === 1 ? '' : 's'} ago`}`;
      return (
        `${share}: the frames are no longer in ${where}. The frames bucket deletes frames ${context.retentionDays} days after they are written ` +
        `(framesRetentionDays)${age}. The charts, cuts and failed frames come from results.jsonl and are complete; make the report within ` +
        `${context.retentionDays} days of a run to keep its thumbnails (frames run --report does it at once).`
      );
    }
    case 'denied':
      return `${share}: reading ${where} was refused (${missing.find((frame) => frame.reason === 'denied')!.detail}). The identity running frames needs s3:GetObject on the frames bucket's */frames/* keys.`;
    case 'no-bucket':
      return `${share}: the stack target does not name the frames bucket. Use an outputs file with frames_bucket (cdktf deploy --outputs-file), or set FRAMES_FRAMES_BUCKET.`;
    case 'unreadable':
      return `${share}: the frames in ${where} could not be decoded as JPEG (${missing.find((frame) => frame.reason === 'unreadable')!.detail}).`;
    default:
      return `${share}: reading them from ${where} failed (${missing.find((frame) => frame.reason === 'error')!.detail}).`;
  }
}
