import type * as z from 'zod/mini';

/**
 * What is wrong with a parsed input, in words a person can act on: `end: expected a string`.
 * zod/mini carries no messages of its own, and its English locale costs ~15 KB of the ingress
 * bundle, which has a size budget; the few issue kinds our schemas raise are worded here.
 */
export function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(the input)';
      return `${where}: ${wording(issue)}`;
    })
    .join('; ');
}

function wording(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected a ${issue.expected}`;
    case 'invalid_value':
      return `expected ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}${issue.origin === 'string' ? ' characters' : ''}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}${issue.origin === 'string' ? ' characters' : ''}`;
    case 'invalid_union':
      return 'is none of the accepted forms';
    default:
      return issue.message || issue.code;
  }
}
