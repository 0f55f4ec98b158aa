import { createHash } from 'node:crypto';
import { RejectedInputError } from '../shared/errors';
import { ERROR_CODE } from '../../pipeline/job-record';

/**
 * Keys in S3 notifications (and, per AWS Powertools, EventBridge events) are URL-encoded with `+`
 * for a space. Returns undefined when the text is not valid encoding, which real S3 never sends.
 */
export function decodeEventKey(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * The video id is the decoded object key itself: an uploader knows it before uploading, and two
 * different keys never share it (ARCHITECTURE.md, "Video id").
 */
export function videoIdForKey(key: string): string {
  return key;
}

// C0 and C1 control characters, DEL, and the Unicode line and paragraph separators.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/** Rejects keys no job should be made of, with a message that says how to rename the file. */
export function assertUsableVideoKey(key: string): void {
  if (CONTROL_CHARACTERS.test(key)) {
    throw new RejectedInputError(
      ERROR_CODE.invalidKey,
      `The key ${JSON.stringify(key)} contains a control character; rename the file using printable characters only and upload it again.`,
    );
  }
  const fileName = key.slice(key.lastIndexOf('/') + 1);
  const extension = fileName.lastIndexOf('.');
  const baseName = extension > 0 ? fileName.slice(0, extension) : '';
  if (baseName.trim() === '') {
    throw new RejectedInputError(
      ERROR_CODE.invalidKey,
      `The key ${JSON.stringify(key)} has no file name before its extension; rename it (for example to clip.mp4) and upload it again.`,
    );
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Where a video's frames live in the frames bucket. Keys may hold any character, but MediaConvert
 * reads `$` in a destination as a format identifier and the frame keys travel to users' own
 * consumers, so the prefix is a readable ASCII slug of the key plus a hash of the whole key that
 * keeps different keys apart. The job record stores it, so nobody has to recompute it.
 */
export function storagePrefixForVideo(videoId: string): string {
  const slug = videoId
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._-]+|[._-]+$/g, '')
    .slice(0, 80);
  return `${slug || 'video'}-${sha256(videoId).slice(0, 12)}`;
}

/**
 * S3 sequencers order events of one key. They vary in length, so AWS says to right-pad the shorter
 * with zeros before comparing as strings. Padded to a fixed width they compare correctly in
 * DynamoDB condition expressions too.
 */
export const SEQUENCER_WIDTH = 64;

export function normalizeSequencer(sequencer: string): string {
  return sequencer.toUpperCase().padEnd(SEQUENCER_WIDTH, '0');
}

/**
 * A run is one upload of a key: the same upload gives the same run id however often its event is
 * delivered, and every new upload of the key gives a new one. Hex, so it is a safe S3 path segment
 * and a valid MediaConvert client request token.
 */
export function runIdForUpload(bucket: string, key: string, sequencer: string): string {
  return sha256(`${bucket}\n${key}\n${normalizeSequencer(sequencer)}`).slice(0, 20);
}
