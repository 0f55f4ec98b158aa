import sharp from 'sharp';
import { ANALYSIS_WIDTH, analyseFrame, laplacianVariance } from '../../functions/frame-worker/default-processor';
import { hammingDistance, perceptualHash } from '../../functions/frame-worker/perceptual-hash';

/** A JPEG of a checkerboard with `cell`-pixel squares, optionally blurred. */
async function checkerboard(width: number, height: number, cell: number, blur?: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) pixels[y * width + x] = (Math.floor(x / cell) + Math.floor(y / cell)) % 2 ? 230 : 20;
  }
  const image = sharp(pixels, { raw: { width, height, channels: 1 } });
  return (blur ? image.blur(blur) : image).jpeg({ quality: 90 }).toBuffer();
}

/** A small synthetic scene: a gradient sky, a ground and a few shapes, rendered from SVG. */
function scene(shapes: string): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#2a4d8f"/><stop offset="1" stop-color="#c9d9f0"/></linearGradient></defs>
    <rect width="640" height="220" fill="url(#sky)"/><rect y="220" width="640" height="140" fill="#4a5a32"/>${shapes}</svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
}
const ROAD = '<polygon points="250,360 390,360 330,220 310,220" fill="#333"/><circle cx="520" cy="80" r="40" fill="#ffe066"/>';
const TUNNEL = '<rect x="0" y="0" width="640" height="360" fill="#111"/><ellipse cx="320" cy="200" rx="90" ry="70" fill="#eee"/>';

const flat = (width: number, height: number, grey: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: grey, g: grey, b: grey } } }).jpeg().toBuffer();

describe('the default processor', () => {
  it('reports the frame’s own dimensions and its mean luminance', async () => {
    const analysis = await analyseFrame(await flat(1279, 719, 128));

    expect(analysis).toMatchObject({ width: 1279, height: 719 });
    expect(analysis.meanLuminance).toBeGreaterThan(120);
    expect(analysis.meanLuminance).toBeLessThan(136);
  });

  it('scores a sharp frame far above the same frame blurred, and a flat frame near zero', async () => {
    const sharpFrame = await analyseFrame(await checkerboard(640, 360, 8));
    const blurred = await analyseFrame(await checkerboard(640, 360, 8, 6));
    const plain = await analyseFrame(await flat(640, 360, 90));

    expect(sharpFrame.sharpness).toBeGreaterThan(10 * blurred.sharpness);
    expect(plain.sharpness).toBeLessThan(5);
  });

  it('gives near-identical frames near-identical hashes and a different scene a distant one', async () => {
    const road = await analyseFrame(await scene(ROAD));
    // The next frame of the same shot: a little brighter, compressed again at another quality.
    const nextFrame = await analyseFrame(await sharp(await scene(ROAD)).linear(1.05, 4).jpeg({ quality: 60 }).toBuffer());
    const tunnel = await analyseFrame(await scene(TUNNEL));

    expect(road.phash).toMatch(/^[0-9a-f]{16}$/);
    expect(hammingDistance(road.phash, nextFrame.phash)).toBeLessThanOrEqual(6);
    expect(hammingDistance(road.phash, tunnel.phash)).toBeGreaterThan(16);
  });

  it('never enlarges a small frame for analysis', async () => {
    const analysis = await analyseFrame(await flat(100, 60, 50));
    expect(analysis).toMatchObject({ width: 100, height: 60 });
    expect(ANALYSIS_WIDTH).toBe(320);
  });

  it('rejects a truncated JPEG instead of analysing a half-grey frame', async () => {
    const jpeg = await checkerboard(320, 180, 8);
    await expect(analyseFrame(jpeg.subarray(0, jpeg.length / 2))).rejects.toThrow();
  });
});

describe('laplacianVariance', () => {
  it('is zero on a flat image and positive on an edge', () => {
    expect(laplacianVariance(new Uint8Array(25).fill(7), 5, 5)).toBe(0);
    const edge = new Uint8Array(25).map((_, at) => (at % 5 < 2 ? 0 : 255));
    expect(laplacianVariance(edge, 5, 5)).toBeGreaterThan(0);
  });
});

describe('perceptualHash', () => {
  it('needs a 32x32 grey thumbnail', () => {
    expect(() => perceptualHash(new Uint8Array(10))).toThrow(/32x32/);
  });

  it('counts differing bits', () => {
    expect(hammingDistance('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hammingDistance('00000000000000f0', '0000000000000010')).toBe(3);
  });
});
