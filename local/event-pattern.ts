/**
 * EventBridge event pattern matching, for local mode's event router, which must apply the very
 * patterns the stack deploys (pipeline/definition.ts). No npm package implements EventBridge's
 * matcher (checked: the registry has none), so this covers the documented operators the pipeline
 * uses or is likely to: exact values, `prefix`, `suffix` (each optionally `equals-ignore-case`),
 * `equals-ignore-case`, `anything-but`, `exists` and `numeric`. Any other operator throws, so a
 * pattern the router cannot evaluate is an error, never a silent non-match.
 *
 * Semantics (EventBridge user guide, "Event patterns"): every field in the pattern must match; a
 * field's array of values matches if any does; against an array in the event, a value matches if
 * it matches any element.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Condition = Json;

export class UnsupportedPatternError extends Error {
  override readonly name = 'UnsupportedPatternError';
}

export function matchesPattern(event: unknown, pattern: object): boolean {
  return matchObject(event as Json, pattern as Record<string, Json>);
}

function matchObject(value: Json | undefined, pattern: Record<string, Json>): boolean {
  return Object.entries(pattern).every(([field, condition]) => {
    const fieldValue = isObject(value) ? value[field] : undefined;
    if (Array.isArray(condition)) return matchField(fieldValue, condition);
    if (isObject(condition)) return matchObject(fieldValue, condition);
    throw new UnsupportedPatternError(`Pattern field "${field}" must be an array of values or an object`);
  });
}

function matchField(value: Json | undefined, conditions: Condition[]): boolean {
  const candidates = Array.isArray(value) ? value : [value];
  return conditions.some((condition) => {
    // `exists` speaks of the field, not of each element.
    if (isObject(condition) && 'exists' in condition) return (value !== undefined) === condition.exists;
    return candidates.some((candidate) => matchValue(candidate, condition));
  });
}

function matchValue(value: Json | undefined, condition: Condition): boolean {
  if (!isObject(condition)) return value !== undefined && value === condition;
  const [operator, operand] = Object.entries(condition)[0] ?? [];
  switch (operator) {
    case 'prefix':
      return typeof value === 'string' && matchAffix(value, operand, (text, affix) => text.startsWith(affix));
    case 'suffix':
      return typeof value === 'string' && matchAffix(value, operand, (text, affix) => text.endsWith(affix));
    case 'equals-ignore-case':
      return typeof value === 'string' && typeof operand === 'string' && value.toLowerCase() === operand.toLowerCase();
    case 'anything-but': {
      if (value === undefined) return false;
      if (isObject(operand)) return !matchValue(value, operand);
      const excluded = Array.isArray(operand) ? operand : [operand];
      return !excluded.includes(value);
    }
    case 'numeric':
      return typeof value === 'number' && Array.isArray(operand) && matchNumeric(value, operand);
    default:
      throw new UnsupportedPatternError(`The local event router does not implement the "${operator}" operator`);
  }
}

function matchAffix(text: string, operand: Json | undefined, test: (text: string, affix: string) => boolean): boolean {
  if (typeof operand === 'string') return test(text, operand);
  if (isObject(operand) && typeof operand['equals-ignore-case'] === 'string') {
    return test(text.toLowerCase(), operand['equals-ignore-case'].toLowerCase());
  }
  throw new UnsupportedPatternError(`Unsupported prefix/suffix operand ${JSON.stringify(operand)}`);
}

const COMPARATORS: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function matchNumeric(value: number, terms: Json[]): boolean {
  for (let i = 0; i < terms.length; i += 2) {
    const compare = COMPARATORS[String(terms[i])];
    if (!compare || typeof terms[i + 1] !== 'number') {
      throw new UnsupportedPatternError(`Malformed numeric condition ${JSON.stringify(terms)}`);
    }
    if (!compare(value, terms[i + 1] as number)) return false;
  }
  return true;
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
