/**
 * Server-side HTML with escaping by default: `html` is a tagged template whose interpolations are escaped
 * unless they are already `SafeHtml` (the result of another `html`, of `raw`, or an array of those). Nothing
 * from the chain or the index can inject markup: addresses, endpoints and error details all pass through
 * `escapeHtml`.
 */

/** Markup that is safe to emit as is (made only by `html`, `raw` or `join`). */
export class SafeHtml {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

/** What a template may interpolate: text (escaped), numbers, bigints, markup, lists of them; null/false print nothing. */
export type HtmlValue =
  string | number | bigint | boolean | null | undefined | SafeHtml | readonly HtmlValue[];

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text as HTML text or attribute value (both quote characters escaped). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false || value === true) return "";
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join("");
  return escapeHtml(String(value));
}

/** The template with every interpolation escaped (SafeHtml kept as is). */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? "");
  return new SafeHtml(out);
}

/** Trusted markup (constants written in this folder only; never data). */
export function raw(text: string): SafeHtml {
  return new SafeHtml(text);
}

/** Items joined by a separator (both rendered with escaping rules). */
export function join(items: readonly HtmlValue[], separator: HtmlValue = ""): SafeHtml {
  return new SafeHtml(items.map(render).join(render(separator)));
}
