/**
 * zod issues as Strata errors: one line per problem, starting with the exact field path, and one typed
 * StrataError (stable code) carrying them all in `details`.
 */
import type { z } from "zod";
import { StrataError, type StrataErrorCode } from "../errors.js";

/** A path as people write it: `sampling.intervalMs`, `pieces[2].provider`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** One problem: the field's path as people write it ("" for the whole value) and what is wrong. */
export interface FieldProblem {
  path: string;
  problem: string;
}

/**
 * Every problem with its field path. An unknown-fields issue becomes one problem per field; a bad record key
 * is reported at the key; a value that fits none of a union's alternatives is explained by the one
 * alternative of its JSON type, when there is exactly one (`deployment.market: ...`, not "deployment: invalid
 * input").
 */
export function fieldProblems(error: z.ZodError, prefix: readonly PropertyKey[] = []): FieldProblem[] {
  return problemsOf(error.issues, prefix);
}

/** One line per problem: `path: what is wrong`. */
export function issueLines(error: z.ZodError, prefix: readonly PropertyKey[] = []): string[] {
  return fieldProblems(error, prefix).map(({ path, problem }) =>
    path === "" ? problem : `${path}: ${problem}`,
  );
}

function problemsOf(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[]): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys)
        out.push({ path: formatPath([...path, key]), problem: "is not a known field" });
      continue;
    }
    if (issue.code === "invalid_key" || issue.code === "invalid_element") {
      out.push(...problemsOf(issue.issues, path));
      continue;
    }
    if (issue.code === "invalid_union") {
      const sameType = issue.errors.filter((option) => !option.every(isRootTypeMismatch));
      const [only] = sameType;
      if (sameType.length === 1 && only !== undefined) {
        out.push(...problemsOf(only, path));
        continue;
      }
    }
    out.push({ path: formatPath(path), problem: issue.message });
  }
  return out;
}

function isRootTypeMismatch(issue: z.core.$ZodIssue): boolean {
  return issue.path.length === 0 && (issue.code === "invalid_type" || issue.code === "invalid_value");
}

/** A StrataError for a failed parse: the first problem in the message, every problem in `details`. */
export function schemaError(
  code: StrataErrorCode,
  what: string,
  error: z.ZodError,
  options: { hint?: string; prefix?: readonly PropertyKey[] } = {},
): StrataError {
  const lines = issueLines(error, options.prefix);
  const [first] = lines;
  const more = lines.length > 1 ? ` (and ${lines.length - 1} more)` : "";
  const hint = options.hint === undefined ? "" : `\n${options.hint}`;
  return new StrataError(code, `invalid ${what}: ${first ?? "unknown problem"}${more}`, {
    details: lines.join("\n") + hint,
    cause: error,
  });
}

/** Parse `input` with `schema`, or throw `schemaError(code, what, ...)`. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  code: StrataErrorCode,
  what: string,
  options: { hint?: string; prefix?: readonly PropertyKey[] } = {},
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw schemaError(code, what, result.error, options);
}
