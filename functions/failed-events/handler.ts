/** Being written: replaced within this session. */
export async function handler(): Promise<void> {
  throw new Error('not yet written');
}
