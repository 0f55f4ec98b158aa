/**
 * A 64-bit perceptual hash (pHash, as in Zauner 2010 and Python's imagehash): the signs of the
 * 8x8 lowest-frequency DCT coefficients of a 32x32 greyscale thumbnail, relative to their median.
 * Near-duplicate frames differ in a few bits; a scene cut flips about half of them.
 */

export const HASH_INPUT_SIZE = 32;
const LOW_FREQUENCIES = 8;

/** Cosine table: COS[u][x] = cos((2x + 1) u π / 2N). */
const COS = Array.from({ length: LOW_FREQUENCIES }, (_, u) =>
  Array.from({ length: HASH_INPUT_SIZE }, (_, x) => Math.cos(((2 * x + 1) * u * Math.PI) / (2 * HASH_INPUT_SIZE))),
);

/** Hash of a 32x32 single-channel image (row-major bytes), as 16 hex digits. */
export function perceptualHash(pixels: Uint8Array): string {
  if (pixels.length !== HASH_INPUT_SIZE * HASH_INPUT_SIZE) {
    throw new RangeError(`A perceptual hash needs ${HASH_INPUT_SIZE}x${HASH_INPUT_SIZE} grey pixels, got ${pixels.length}`);
  }
  // Only the 8x8 low-frequency corner of the 2-D DCT-II is needed: compute just that.
  const coefficients: number[] = [];
  for (let v = 0; v < LOW_FREQUENCIES; v += 1) {
    for (let u = 0; u < LOW_FREQUENCIES; u += 1) {
      let sum = 0;
      for (let y = 0; y < HASH_INPUT_SIZE; y += 1) {
        const row = y * HASH_INPUT_SIZE;
        let rowSum = 0;
        for (let x = 0; x < HASH_INPUT_SIZE; x += 1) rowSum += pixels[row + x]! * COS[u]![x]!;
        sum += rowSum * COS[v]![y]!;
      }
      coefficients.push(sum);
    }
  }
  const sorted = [...coefficients].sort((a, b) => a - b);
  const median = (sorted[31]! + sorted[32]!) / 2;
  let hash = 0n;
  for (const coefficient of coefficients) hash = (hash << 1n) | (coefficient > median ? 1n : 0n);
  return hash.toString(16).padStart(16, '0');
}

/** Bits that differ between two hashes: about 0-10 for the same scene, about 32 for unrelated images. */
export function hammingDistance(a: string, b: string): number {
  let difference = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let bits = 0;
  while (difference > 0n) {
    bits += Number(difference & 1n);
    difference >>= 1n;
  }
  return bits;
}
