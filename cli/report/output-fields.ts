import type { JsonValue } from '../../pipeline/results-format';

/**
 * A processor's output is whatever JSON it returns (README, "Your own processor"), so the report
 * finds what to chart in the results themselves rather than from a list of known fields: every
 * number, by its dotted path, down to NESTING_LIMIT levels; and every array's length (a detector's
 * `objects: [...]` charts as how many it found per frame). Strings and booleans are not charted.
 */
export const NESTING_LIMIT = 3;

/** The name a processor that returns a bare number gets its series under. */
export const BARE_OUTPUT = 'output';

export function visitNumericFields(output: JsonValue | undefined, visit: (path: string, value: number) => void): void {
  if (typeof output === 'number') {
    if (Number.isFinite(output)) visit(BARE_OUTPUT, output);
    return;
  }
  if (Array.isArray(output)) {
    visit(`${BARE_OUTPUT}.length`, output.length);
    return;
  }
  if (typeof output === 'object' && output !== null) walk(output, '', 1, visit);
}

function walk(object: { [key: string]: JsonValue }, prefix: string, depth: number, visit: (path: string, value: number) => void): void {
  for (const [key, value] of Object.entries(object)) {
    const path = `${prefix}${key}`;
    if (typeof value === 'number') {
      if (Number.isFinite(value)) visit(path, value);
    } else if (Array.isArray(value)) {
      visit(`${path}.length`, value.length);
    } else if (typeof value === 'object' && value !== null && depth < NESTING_LIMIT) {
      walk(value, `${path}.`, depth + 1, visit);
    }
  }
}
