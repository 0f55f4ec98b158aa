/**
 * Bundles every function as it is deployed and prints its size: `npm run bundle`.
 * The stack bundles at synth time itself; this is for looking at (and local mode's) bundles.
 */
import { FUNCTIONS } from '../pipeline/definition';
import { bundleFunction } from '../pipeline/bundle';

for (const [name, { entry }] of Object.entries(FUNCTIONS)) {
  const bundle = bundleFunction(entry, `.build/functions/${name}`);
  console.log(`${name}: ${(bundle.bytes / 1024).toFixed(1)} KiB (${bundle.bytes} bytes) in ${bundle.directory}`);
}
