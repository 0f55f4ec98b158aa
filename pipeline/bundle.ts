import { type BuildOptions, type Metafile, buildSync, version as esbuildVersion } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { PROCESSOR_MODULE } from './definition';

const DEFAULT_PROCESSOR = 'functions/frame-worker/default-processor.ts';
/** The processor a fault-injecting wrapper imports (BundleOptions.innerProcessor). */
const INNER_PROCESSOR_MODULE = '@frames/inner-processor';

/** Repository root: bundles are resolved from here whatever the caller's working directory. */
export const PROJECT_ROOT = resolve(__dirname, '..');

/** Packages with native binaries: left out of the bundle and shipped beside it, built for the target. */
export const NATIVE_PACKAGES = ['sharp'] as const;

/** The platform native binaries are installed for: Lambda's (Amazon Linux, glibc) for deployment. */
export interface NativeTarget {
  readonly os: 'linux';
  readonly cpu: 'arm64' | 'x64';
  readonly libc: 'glibc';
}

export interface BundleOptions {
  /** The file the frame worker's `@frames/processor` import resolves to. */
  readonly processor?: string;
  /**
   * The file `@frames/inner-processor` resolves to: the configured processor, when `processor` is
   * local mode's fault-injecting wrapper around it (local/faults/faulty-processor.ts).
   */
  readonly innerProcessor?: string;
  /**
   * Where native packages the bundle imports must run. A Lambda target installs that platform's
   * binaries next to index.js (from the npm registry, cached under .build/native); 'host' ships
   * none and resolves the repository's own node_modules, for bundles run on this machine.
   */
  readonly nativeTarget?: NativeTarget | 'host';
}

export interface FunctionBundle {
  /** Directory holding `index.js` (and node_modules/ for natives): what is archived and deployed. */
  readonly directory: string;
  /** Size of index.js. */
  readonly bytes: number;
  /** Native packages shipped beside index.js. */
  readonly natives: readonly string[];
}

export const LAMBDA_ARM64: NativeTarget = { os: 'linux', cpu: 'arm64', libc: 'glibc' };

/**
 * Bundles one function with esbuild the way it is deployed. The options are FIELD-NOTES' measured
 * ones: CommonJS (an ESM bundle needs a createRequire banner to load the SDK), `module` before
 * `main` (ESM builds of the SDK tree-shake: 486 KB instead of 743 KB), minified, and a node20
 * target so the same bundle runs on Lambda's nodejs22.x and on a Node 20 laptop in local mode.
 * The SDK's default credential chain is swapped for the Lambda-shaped one in
 * functions/shared/lambda-credentials.ts (why: see that file).
 */
export function bundleFunction(entry: string, outputDirectory: string, options: BundleOptions = {}): FunctionBundle {
  return bundleFunctions([{ entry, outputDirectory }], options)[0];
}

/**
 * Bundles several functions in one esbuild run: each output is byte for byte what bundleFunction
 * gives alone (no code splitting), but the SDK is parsed once: 0.37 s for the four functions
 * instead of 1.24 s (measured), which is what every local-mode start pays.
 */
export function bundleFunctions(
  bundles: ReadonlyArray<{ readonly entry: string; readonly outputDirectory: string }>,
  options: BundleOptions = {},
): FunctionBundle[] {
  const directories = bundles.map(({ outputDirectory }) => resolve(PROJECT_ROOT, outputDirectory));
  const outdir = commonAncestor(directories);
  const target = options.nativeTarget ?? LAMBDA_ARM64;
  const build: BuildOptions & { metafile: true } = {
    absWorkingDir: PROJECT_ROOT,
    alias: {
      '@aws-sdk/credential-provider-node': './functions/shared/lambda-credentials.ts',
      [PROCESSOR_MODULE]: resolve(PROJECT_ROOT, options.processor ?? DEFAULT_PROCESSOR),
      [INNER_PROCESSOR_MODULE]: resolve(PROJECT_ROOT, options.innerProcessor ?? DEFAULT_PROCESSOR),
    },
    external: [...NATIVE_PACKAGES],
    // esbuild places each `out` under `outdir`: the directories' common ancestor.
    entryPoints: bundles.map(({ entry }, index) => ({ in: resolve(PROJECT_ROOT, entry), out: join(relative(outdir, directories[index]), 'index') })),
    outdir,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    mainFields: ['module', 'main'],
    legalComments: 'none',
    logLevel: 'error',
    metafile: true,
  };
  // Bundles run on this machine (local mode) are built again only when a source changed: every
  // local cloud start would otherwise pay esbuild's second of CPU.
  const metafile =
    target === 'host'
      ? reusableBuild(join(outdir, '.bundle-manifest.json'), build, () => {
          for (const directory of directories) {
            rmSync(directory, { recursive: true, force: true });
            mkdirSync(directory, { recursive: true });
          }
          return buildSync(build).metafile;
        })
      : freshBuild(directories, build);
  return directories.map((directory) => {
    const outfile = join(directory, 'index.js');
    const output = Object.entries(metafile.outputs).find(([path]) => resolve(PROJECT_ROOT, path) === outfile)?.[1];
    if (!output) throw new Error(`esbuild wrote no ${outfile}`);
    const imported = new Set(output.imports.filter((i) => i.external).map((i) => i.path));
    const natives = NATIVE_PACKAGES.filter((name) => imported.has(name));
    if (natives.length > 0 && target !== 'host') {
      cpSync(join(nativeModules(natives, target), 'node_modules'), join(directory, 'node_modules'), { recursive: true });
    }
    return { directory, bytes: statSync(outfile).size, natives: target === 'host' ? [] : natives };
  });
}

/** A deployable build: fresh directories, as a stale file would change the deployed archive's hash. */
function freshBuild(directories: readonly string[], build: BuildOptions & { metafile: true }): Metafile {
  for (const directory of directories) {
    rmSync(directory, { recursive: true, force: true });
    mkdirSync(directory, { recursive: true });
  }
  return buildSync(build).metafile;
}

interface BuildManifest {
  /** The build's options and esbuild's version: another build, or another esbuild, builds again. */
  readonly key: string;
  readonly metafile: Metafile;
  /** Each input the last build read (paths relative to the project), with its size and mtime then. */
  readonly inputs: Readonly<Record<string, string>>;
}

/**
 * Runs `build` unless the manifest says its outputs are up to date: same options, same esbuild,
 * every output present, and every input it read (from esbuild's own metafile: sources, the SDK,
 * job templates) unchanged in size and modification time, as make decides. Returns the metafile.
 */
export function reusableBuild(
  manifestPath: string,
  options: BuildOptions,
  build: () => Metafile,
  /** The files the build leaves (absolute); by default the metafile's outputs. */
  outputs?: readonly string[],
): Metafile {
  const key = JSON.stringify({ esbuild: esbuildVersion, options });
  const stamp = (path: string) => {
    // Some inputs are esbuild's own (`<runtime>`, disabled modules), not files.
    if (!existsSync(resolve(PROJECT_ROOT, path))) return 'not a file';
    const stats = statSync(resolve(PROJECT_ROOT, path));
    return `${stats.size}:${stats.mtimeMs}`;
  };
  try {
    const saved = JSON.parse(readFileSync(manifestPath, 'utf8')) as BuildManifest;
    const current =
      saved.key === key &&
      (outputs ?? Object.keys(saved.metafile.outputs)).every((path) => existsSync(resolve(PROJECT_ROOT, path))) &&
      Object.entries(saved.inputs).every(([path, then]) => stamp(path) === then);
    if (current) return saved.metafile;
  } catch {
    // No manifest, or an input gone: build.
  }
  const metafile = build();
  // tsconfig.json's paths steer resolution without being an input esbuild lists.
  const inputs = Object.fromEntries([...Object.keys(metafile.inputs), 'tsconfig.json'].map((path) => [path, stamp(path)]));
  writeFileSync(manifestPath, JSON.stringify({ key, metafile, inputs } satisfies BuildManifest));
  return metafile;
}

function commonAncestor(directories: readonly string[]): string {
  const split = directories.map((directory) => directory.split(sep));
  const shared: string[] = [];
  for (let index = 0; split.every((parts) => index < parts.length - 1 && parts[index] === split[0][index]); index++) shared.push(split[0][index]);
  return shared.join(sep) || sep;
}

/**
 * Installs the packages, at the versions the repository pins, for another platform: npm's
 * --os/--cpu/--libc pick that platform's optional binary packages (sharp's @img/sharp-linux-arm64
 * and its libvips). They cannot be ordinary dependencies: npm refuses a package whose platform is
 * not the machine's. Cached per target and version, so it reaches the registry once.
 */
function nativeModules(packages: readonly string[], target: NativeTarget): string {
  const specs = packages.map((name) => `${name}@${installedVersion(name)}`);
  const directory = join(PROJECT_ROOT, '.build', 'native', `${target.os}-${target.cpu}-${target.libc}`, specs.join('+').replace(/[^A-Za-z0-9.@+-]/g, '_'));
  const complete = join(directory, '.complete');
  if (existsSync(complete)) return directory;
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, 'package.json'), '{ "private": true }\n');
  execFileSync(
    process.platform === 'win32' ? 'npm.cmd' : 'npm',
    [
      'install', '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error',
      `--os=${target.os}`, `--cpu=${target.cpu}`, `--libc=${target.libc}`,
      ...specs,
    ],
    { cwd: directory, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  writeFileSync(complete, `${specs.join(' ')}\n`);
  return directory;
}

function installedVersion(name: string): string {
  const manifest = join(PROJECT_ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}
