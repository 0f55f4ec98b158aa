/**
 * Quotes a word for a POSIX shell when it needs it, so a command printed for a person (by the CLI,
 * or in a job record's error message) can be pasted. Functions may import this file: it has no
 * dependencies.
 */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
