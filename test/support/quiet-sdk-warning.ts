// The SDK clients tests use warn once a process that the SDK's 2027 releases need Node 22. The
// `frames` command hides it too (cli/frames.js); the README says it once.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (String(warning).startsWith('NodeVersionSupportWarning')) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
