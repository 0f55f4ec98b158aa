import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from './object-store';

/**
 * Decodes an `aws-chunked` body (what the SDK and the AWS CLI send when they stream a payload with
 * a trailing checksum or a per-chunk signature) to the object's bytes:
 *
 *   <hex size>[;chunk-signature=…]\r\n<bytes>\r\n … 0[;chunk-signature=…]\r\n[<trailer>\r\n]*\r\n
 *
 * s3rver stored this framing as the object (FIELD-NOTES); decoding it is what S3 does. Chunk
 * signatures and trailing checksums are not verified: the request's own signature is.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 */
export function decodeAwsChunked(): Transform {
  let pending: Buffer = Buffer.alloc(0);
  /** Bytes of the current chunk still to pass on; -1 while reading a chunk header. */
  let remaining = -1;
  /** The CRLF after a chunk's data is still to skip. */
  let skipCrlf = false;
  let finished = false;

  const malformed = () => new S3Error('IncompleteBody', 400, 'The aws-chunked request body is malformed or cut short');

  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      try {
        for (;;) {
          if (finished) {
            pending = Buffer.alloc(0); // Trailers: not needed.
            break;
          }
          if (skipCrlf) {
            if (pending.length < 2) break;
            if (pending[0] !== 0x0d || pending[1] !== 0x0a) throw malformed();
            pending = pending.subarray(2);
            skipCrlf = false;
          }
          if (remaining < 0) {
            const end = pending.indexOf('\r\n');
            if (end < 0) {
              if (pending.length > 4096) throw malformed();
              break;
            }
            const size = Number.parseInt(pending.subarray(0, end).toString('latin1').split(';')[0], 16);
            if (!Number.isFinite(size) || size < 0) throw malformed();
            pending = pending.subarray(end + 2);
            if (size === 0) {
              finished = true;
              continue;
            }
            remaining = size;
          }
          if (pending.length === 0) break;
          const take = Math.min(remaining, pending.length);
          this.push(pending.subarray(0, take));
          pending = pending.subarray(take);
          remaining -= take;
          if (remaining === 0) {
            remaining = -1;
            skipCrlf = true;
          }
        }
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      callback(finished ? undefined : malformed());
    },
  });
}
