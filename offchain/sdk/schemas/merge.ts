/** Layering a configuration file over defaults and flags over the file, before the schema checks the result. */

export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep merge of plain objects; arrays, scalars and null replace. Fields in `atomic` always replace. */
export function merge(base: object, patch: object, atomic: readonly string[] = []): Json {
  const out: Json = { ...(base as Json) };
  for (const [key, value] of Object.entries(patch as Json)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] =
      !atomic.includes(key) && isRecord(value) && isRecord(current) ? merge(current, value, atomic) : value;
  }
  return out;
}
