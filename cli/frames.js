#!/usr/bin/env node
// The `frames` command. The CLI is TypeScript run through tsx's require hook (esbuild), so there is
// no build step between `npm ci` and `npx frames`.

// The AWS SDK warns on every start under Node 20 that its 2027 releases need Node 22. The README
// says so once; repeating it above every progress bar helps nobody. Other warnings still show.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  if (String(warning).startsWith('NodeVersionSupportWarning')) return;
  emitWarning(warning, ...rest);
};

// `frames list --json | head`: a reader that stops early is not an error; stop quietly, as Unix tools do.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

// esbuild's synchronous API (tsx's require hook, and the local cloud's bundling) otherwise keeps a
// worker thread and an esbuild service process for the CLI's whole life: about 250 MiB resident
// through a run that needs them for its first second (measured: a local run's peak went from
// 694 to 435 MiB). Each call then runs esbuild once instead; tsx caches its transforms on disk.
process.env.ESBUILD_WORKER_THREADS ??= '0';
require('tsx/cjs/api').register();
// Started explicitly, never by sniffing argv[1]: npx, `npm link` and global installs run this file
// through a symlink named `frames`, and `node cli/frames.js` runs it directly. Both must work.
require('./main.ts').main(process.argv);
