import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import sharp from 'sharp';
import { FrameUploadSink } from '../../../local/mediaconvert/frame-uploader';
import { JpegSplitter } from '../../../local/mediaconvert/jpeg-stream';

/**
 * The MediaConvert endpoint's frame path: ffmpeg's piped JPEGs split back into images, and stored
 * in order with bounded concurrency.
 */

/** Noisy images, so the entropy-coded data holds plenty of stuffed FF 00 bytes. */
async function noisyJpegs(count: number): Promise<Buffer[]> {
  return Promise.all(
    Array.from({ length: count }, (_, index) => {
      const pixels = Buffer.alloc(64 * 48 * 3);
      for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919 + index * 104729) % 256 ^ (i >> 3);
      return sharp(pixels, { raw: { width: 64, height: 48, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
    }),
  );
}

async function split(chunks: Buffer[]): Promise<Buffer[]> {
  const images: Buffer[] = [];
  await pipeline(Readable.from(chunks), new JpegSplitter(), async (source: AsyncIterable<Buffer>) => {
    for await (const image of source) images.push(image);
  });
  return images;
}

test('concatenated JPEGs split back into the same images, whatever the chunk boundaries', async () => {
  const jpegs = await noisyJpegs(5);
  expect(jpegs.some((jpeg) => jpeg.includes(Buffer.from([0xff, 0x00])))).toBe(true);
  const stream = Buffer.concat(jpegs);
  for (const chunkSize of [1, 2, 3, 7, 1000, stream.length]) {
    const chunks: Buffer[] = [];
    for (let at = 0; at < stream.length; at += chunkSize) chunks.push(stream.subarray(at, at + chunkSize));
    const images = await split(chunks);
    expect(images.map((image) => image.toString('base64'))).toEqual(jpegs.map((jpeg) => jpeg.toString('base64')));
  }
});

test('a stream cut inside an image, or not starting with one, is an error rather than a short count', async () => {
  const [jpeg] = await noisyJpegs(1);
  await expect(split([jpeg, jpeg.subarray(0, jpeg.length - 10)])).rejects.toThrow(/ended inside an image/);
  await expect(split([Buffer.from('not a jpeg')])).rejects.toThrow(/Start Of Image/);
});

test('the sink stores frames in order with at most `concurrency` uploads in flight, and reports the first failure', async () => {
  let inFlight = 0;
  let most = 0;
  const stored: number[] = [];
  const sink = new FrameUploadSink({
    concurrency: 3,
    upload: async (index) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5 + (index % 3) * 5));
      stored.push(index);
      inFlight--;
    },
  });
  await pipeline(Readable.from(Array.from({ length: 20 }, (_, i) => Buffer.from([i])), { objectMode: true }), sink);
  expect(sink.count).toBe(20);
  expect([...stored].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  expect(most).toBe(3);

  const failing = new FrameUploadSink({
    concurrency: 2,
    upload: async (index) => {
      if (index === 4) throw new Error('PutObject refused');
    },
  });
  await expect(pipeline(Readable.from(Array.from({ length: 50 }, () => Buffer.from([1])), { objectMode: true }), failing)).rejects.toThrow('PutObject refused');
  expect(failing.count).toBeLessThan(50);
});
