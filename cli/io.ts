/** Where a command writes: what it answers on stdout (text or `--json`), progress and messages on stderr. */
export interface Io {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}
