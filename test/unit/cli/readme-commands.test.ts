import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { program } from '../../../cli/main';

/**
 * Every `npx frames …` line in the README's shell examples names a command that exists and only
 * flags that command takes: a person pastes them, so a renamed flag must fail here first.
 */
const README = readFileSync(join(__dirname, '../../../README.md'), 'utf8');

/** The `npx frames` lines of the README's sh blocks, with `[optional parts]` unwrapped and comments cut. */
function readmeCommands(): string[] {
  const blocks = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]);
  return blocks
    .flatMap((block) => block.split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line.startsWith('npx frames '))
    .map((line) => line.replace(/[[\]]/g, ''));
}

/** Words as a POSIX shell splits them (quotes kept together), enough for the README's examples. */
const words = (line: string) => [...line.matchAll(/'[^']*'|"[^"]*"|\S+/g)].map((match) => match[0]);

function commandFor(argv: readonly string[]): { command: Command; rest: readonly string[] } {
  let command: Command = program();
  let rest = argv;
  for (;;) {
    const sub = command.commands.find((candidate) => candidate.name() === rest[0]);
    if (!sub) return { command, rest };
    command = sub;
    rest = rest.slice(1);
  }
}

const commands = readmeCommands();

test('the README shows the frames commands', () => {
  // A guard on the parser above: if the README's examples moved, this test must not pass empty.
  expect(commands.length).toBeGreaterThan(15);
});

test.each(commands)('%s', (line) => {
  const { command, rest } = commandFor(words(line).slice(2));
  expect(command.name()).not.toBe('frames');
  const known = command.options.map((option) => option.long);
  for (const flag of rest.filter((word) => word.startsWith('--'))) expect(known).toContain(flag.split('=')[0]);
});
