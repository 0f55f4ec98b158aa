// Integration tests run whole videos through the local pipeline: minutes, not seconds, at worst.
jest.setTimeout(180_000);

// The SDK clients tests use warn once a process that their 2027 releases need Node 22, as the
// `frames` command does not (cli/frames.js); the README says so once.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (String(warning).startsWith('NodeVersionSupportWarning')) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
