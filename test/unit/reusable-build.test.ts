import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuildOptions, buildSync } from 'esbuild';
import { PROJECT_ROOT, reusableBuild } from '../../pipeline/bundle';

/**
 * Local mode builds its bundles on every start; reusableBuild skips esbuild when nothing it read
 * changed (about 2 s of CPU a start). What must hold: a changed input, option or missing output
 * always builds again.
 */
const directory = mkdtempSync(join(tmpdir(), 'reusable-build-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const entry = join(directory, 'entry.ts');
const helper = join(directory, 'helper.ts');
const outfile = join(directory, 'out', 'index.js');
const manifest = join(directory, 'manifest.json');
const options = (minify: boolean): BuildOptions & { metafile: true } => ({
  absWorkingDir: PROJECT_ROOT,
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  minify,
  metafile: true,
  logLevel: 'error',
});

test('builds once, then again only when an input, the options or the output changed', () => {
  writeFileSync(entry, "import { greeting } from './helper';\nconsole.log(greeting);\n");
  writeFileSync(helper, "export const greeting = 'hello';\n");
  let builds = 0;
  const build = (minify = false) =>
    reusableBuild(manifest, options(minify), () => {
      builds += 1;
      return buildSync(options(minify)).metafile;
    });

  build();
  build();
  expect(builds).toBe(1);

  // An input esbuild read (not the entry) changed: its size and mtime say so.
  writeFileSync(helper, "export const greeting = 'hello again';\n");
  build();
  expect(builds).toBe(2);
  // Same size, later mtime.
  utimesSync(helper, new Date(), new Date(Date.now() + 5_000));
  build();
  expect(builds).toBe(3);

  build(true);
  expect(builds).toBe(4);

  rmSync(outfile);
  build(true);
  expect(builds).toBe(5);
  build(true);
  expect(builds).toBe(5);
});
