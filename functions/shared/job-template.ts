import { PipelineError } from './errors';
import { ERROR_CODE } from '../../pipeline/job-record';
/**
 * Fills a job template's placeholders on the parsed JSON, never in its text: a value is inserted
 * as a value, so an S3 key holding quotes or backslashes cannot change the document's structure.
 *
 * A placeholder is a string that is exactly `{{name}}`; it is replaced by the value of `name`,
 * whatever its type (numbers stay numbers). A string that merely contains `{{` is an error, as are
 * a placeholder without a value and a value no placeholder uses: templates and code cannot drift.
 */
export type TemplateValue = string | number | boolean;

const PLACEHOLDER = /^\{\{([A-Za-z][A-Za-z0-9]*)\}\}$/;

export class TemplateError extends PipelineError {
  override readonly name = 'TemplateError';

  constructor(message: string) {
    super(ERROR_CODE.templateInvalid, message);
  }
}

export function renderTemplate(template: unknown, values: Readonly<Record<string, TemplateValue>>): unknown {
  const used = new Set<string>();

  const render = (node: unknown, path: string): unknown => {
    if (typeof node === 'string') {
      const placeholder = PLACEHOLDER.exec(node);
      if (placeholder) {
        const name = placeholder[1];
        if (!Object.hasOwn(values, name)) {
          throw new TemplateError(`Template placeholder {{${name}}} at ${path} has no value`);
        }
        used.add(name);
        return values[name];
      }
      if (node.includes('{{')) {
        throw new TemplateError(
          `Template string at ${path} embeds a placeholder; a placeholder must be the whole value`,
        );
      }
      return node;
    }
    if (Array.isArray(node)) return node.map((item, index) => render(item, `${path}[${index}]`));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(
        Object.entries(node).map(([key, value]) => [key, render(value, `${path}.${key}`)]),
      );
    }
    return node;
  };

  const rendered = render(template, '$');
  const unused = Object.keys(values).filter((name) => !used.has(name));
  if (unused.length > 0) {
    throw new TemplateError(`Template has no placeholder for: ${unused.join(', ')}`);
  }
  return rendered;
}
