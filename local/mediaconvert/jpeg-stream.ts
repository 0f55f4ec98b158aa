import { Transform, type TransformCallback } from 'node:stream';

/**
 * Splits a stream of concatenated baseline JPEGs (ffmpeg's `-f image2pipe` of mjpeg) into one
 * Buffer per image. The header segments are walked by their lengths up to Start Of Scan; in the
 * entropy-coded data that follows, a 0xFF byte is always followed by 0x00 (stuffing) or a restart
 * marker, so the first FF D9 is the image's End Of Image.
 * https://www.w3.org/Graphics/JPEG/itu-t81.pdf (B.1.1.2, F.1.2.3)
 */
export class JpegSplitter extends Transform {
  private buffer: Buffer = Buffer.alloc(0);
  /** Where parsing of the current image stands: inside the headers, or scanning entropy data. */
  private position = 0;
  private scanning = false;

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    try {
      this.split();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    callback(this.buffer.length === 0 ? undefined : new Error(`The JPEG stream ended inside an image (${this.buffer.length} bytes left)`));
  }

  private split(): void {
    for (;;) {
      const data = this.buffer;
      if (this.position === 0) {
        if (data.length < 2) return;
        if (data[0] !== 0xff || data[1] !== 0xd8) throw new Error('The JPEG stream is not at a Start Of Image marker');
        this.position = 2;
      }
      if (!this.scanning) {
        // Header segments: FF <marker> <length: 2 bytes, including itself> <payload>.
        for (;;) {
          if (this.position + 4 > data.length) return;
          if (data[this.position] !== 0xff) throw new Error(`Expected a JPEG marker at byte ${this.position}`);
          const marker = data[this.position + 1];
          if (marker === 0xff) {
            this.position++; // Fill byte.
            continue;
          }
          const length = data.readUInt16BE(this.position + 2);
          if (this.position + 2 + length > data.length) return;
          this.position += 2 + length;
          if (marker === 0xda) {
            this.scanning = true;
            break;
          }
        }
      }
      const end = this.endOfImage(data);
      if (end < 0) return;
      this.push(data.subarray(0, end));
      this.buffer = data.subarray(end);
      this.position = 0;
      this.scanning = false;
    }
  }

  /** Offset just past the End Of Image marker, or -1 if it has not arrived yet. */
  private endOfImage(data: Buffer): number {
    let at = this.position;
    for (;;) {
      at = data.indexOf(0xff, at);
      if (at < 0 || at + 1 >= data.length) {
        // Resume from the last byte next time: an FF may be split from its marker byte.
        this.position = at < 0 ? data.length : at;
        return -1;
      }
      if (data[at + 1] === 0xd9) return at + 2;
      at += 2; // FF 00 stuffing or a restart marker: part of the scan.
    }
  }
}
