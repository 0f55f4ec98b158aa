import { buildSync } from 'esbuild';
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Repository root: bundles are resolved from here whatever the caller's working directory. */
export const PROJECT_ROOT = resolve(__dirname, '..');

export interface FunctionBundle {
  /** Directory holding `index.js`: what is archived and deployed, and what local mode runs. */
  readonly directory: string;
  readonly bytes: number;
}

/**
 * Bundles one function with esbuild the way it is deployed. The options are FIELD-NOTES' measured
 * ones: CommonJS (an ESM bundle needs a createRequire banner to load the SDK), `module` before
 * `main` (ESM builds of the SDK tree-shake: 486 KB instead of 743 KB), minified, and a node20
 * target so the same bundle runs on Lambda's nodejs22.x and on a Node 20 laptop in local mode.
 * The SDK's default credential chain is swapped for the Lambda-shaped one in
 * functions/shared/lambda-credentials.ts (why: see that file).
 */
export function bundleFunction(entry: string, outputDirectory: string): FunctionBundle {
  const directory = resolve(PROJECT_ROOT, outputDirectory);
  mkdirSync(directory, { recursive: true });
  const outfile = join(directory, 'index.js');
  buildSync({
    absWorkingDir: PROJECT_ROOT,
    alias: { '@aws-sdk/credential-provider-node': './functions/shared/lambda-credentials.ts' },
    entryPoints: [resolve(PROJECT_ROOT, entry)],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    mainFields: ['module', 'main'],
    legalComments: 'none',
    logLevel: 'error',
  });
  return { directory, bytes: statSync(outfile).size };
}
