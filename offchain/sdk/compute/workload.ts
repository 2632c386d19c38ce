/**
 * Workload descriptions: what a tenant asks a provider to run under a lease. An order commits to its workload
 * with `workloadHash = keccak256(utf8(canonicalJson(description)))`; the tenant hands the description itself
 * to the winning provider off chain (`PUT /v1/workloads/<hash>` on its agent), which runs it only if it
 * hashes to the order's commitment.
 *
 * Canonical JSON: object keys sorted by UTF-16 code unit (JavaScript's default sort), no whitespace, strings
 * escaped as JSON.stringify does, integers only (no floats, no exponents), absent optional fields omitted.
 * The hashed document is self-contained: a node script is inlined (`script`), never a path on the tenant's
 * machine; `readWorkloadFile` inlines a `scriptFile` given next to the JSON for convenience.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { keccak256, toUtf8Bytes } from "ethers";
import { z } from "zod";
import { StrataError } from "../errors.js";
import { fieldProblems, type FieldProblem } from "../schemas/issues.js";
import { expected, safeInt } from "../schemas/primitives.js";

export const WORKLOAD_VERSION = 1;
/** Largest canonical description accepted (bytes): it travels over HTTP and is kept in the agent database. */
export const MAX_WORKLOAD_BYTES = 256 * 1024;
export const MAX_ENV_VARS = 64;
export const MAX_ARGS = 256;
/** Bounds of the resource limits (a workload is one process tree on one machine). */
export const LIMIT_BOUNDS = {
  cpuMillicores: { min: 1, max: 1_024_000 },
  memoryMiB: { min: 16, max: 16 * 1024 * 1024 },
  maxSeconds: { min: 1, max: 10 * 365 * 86_400 },
} as const;

export interface WorkloadLimits {
  /** CPU share in thousandths of a core (1000 = one core). */
  cpuMillicores: number;
  /** Memory in MiB (resident set of the whole process tree). */
  memoryMiB: number;
  /** Wall-clock limit in seconds; absent: until the lease ends. */
  maxSeconds?: number;
}

interface WorkloadBase {
  version: typeof WORKLOAD_VERSION;
  /** Extra environment variables (names `[A-Za-z_][A-Za-z0-9_]*`). */
  env?: Record<string, string>;
  limits: WorkloadLimits;
}

/** A program run with this argv (argv[0] looked up in the provider's PATH). */
export interface CommandWorkload extends WorkloadBase {
  kind: "command";
  command: string[];
}

/** A Node.js script (CommonJS or ES module syntax), given inline. */
export interface NodeWorkload extends WorkloadBase {
  kind: "node";
  script: string;
}

export type WorkloadDescription = CommandWorkload | NodeWorkload;
export type WorkloadKind = WorkloadDescription["kind"];
export const WORKLOAD_KINDS: readonly WorkloadKind[] = ["command", "node"];

/** One problem of an invalid description: the field's JSON path and what is wrong with it. */
export type WorkloadProblem = FieldProblem;

export type WorkloadValidation =
  { ok: true; workload: WorkloadDescription } | { ok: false; problems: WorkloadProblem[] };

/** A WORKLOAD_INVALID error listing every problem (also as `problems`, for programs). */
export class WorkloadInvalidError extends StrataError {
  constructor(
    readonly problems: readonly WorkloadProblem[],
    source = "the workload description",
  ) {
    const [first] = problems;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    super("WORKLOAD_INVALID", `${source} is invalid: ${first ? describe(first) : "unknown problem"}${more}`, {
      details: problems.map(describe).join("\n"),
    });
    this.name = "WorkloadInvalidError";
  }
}

function describe(p: WorkloadProblem): string {
  return p.path === "" ? p.problem : `${p.path}: ${p.problem}`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// The schema of the format. Values are never trimmed or rewritten: what validates is exactly what is hashed.

const NO_NUL = "must not contain NUL characters";
const noNul = (value: string) => !value.includes("\0");

const argv = z
  .array(z.unknown(), expected("must be a non-empty array of strings (argv)"))
  .min(1, "must be a non-empty array of strings (argv)")
  .max(MAX_ARGS, `must have at most ${MAX_ARGS} arguments`)
  .pipe(
    z.tuple(
      [
        z
          .string(expected("must be a string"))
          .refine(noNul, NO_NUL)
          .refine((program) => program.trim() !== "", "must name a program"),
      ],
      z.string(expected("must be a string")).refine(noNul, NO_NUL),
    ),
  );

const env = z
  .record(
    z.string().regex(ENV_NAME, "is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)"),
    z.string(expected("must be a string")).refine(noNul, NO_NUL),
    expected("must be an object of string values"),
  )
  .refine((vars) => Object.keys(vars).length <= MAX_ENV_VARS, `must have at most ${MAX_ENV_VARS} variables`);

const bounded = (name: keyof typeof LIMIT_BOUNDS) => {
  const { min, max } = LIMIT_BOUNDS[name];
  return safeInt(min, max);
};

const limits = z.strictObject(
  {
    cpuMillicores: bounded("cpuMillicores"),
    memoryMiB: bounded("memoryMiB"),
    maxSeconds: bounded("maxSeconds").optional(),
  },
  expected("must be an object {cpuMillicores, memoryMiB, maxSeconds?}"),
);

const version = z.literal(WORKLOAD_VERSION, `must be ${WORKLOAD_VERSION}`);
const KIND = `must be one of ${WORKLOAD_KINDS.map((k) => `"${k}"`).join(", ")}`;

/** The schema of a workload description, one object per kind (fields of the other kind are refused). */
export const workloadSchemas = {
  command: z.strictObject({
    version,
    kind: z.literal("command"),
    command: argv,
    env: env.optional(),
    limits,
  }),
  node: z.strictObject({
    version,
    kind: z.literal("node"),
    script: z
      .string(expected("must be the script's source code (a non-empty string)"))
      .refine((script) => script.trim() !== "", "must be the script's source code (a non-empty string)"),
    env: env.optional(),
    limits,
  }),
} as const;

/** A description whose kind is unknown: checked for every field either kind has, to report all problems. */
const anyKind = z.strictObject({
  version,
  kind: z.enum(WORKLOAD_KINDS as ["command", "node"], expected(KIND)),
  command: z.unknown().optional(),
  script: z.unknown().optional(),
  env: env.optional(),
  limits,
});

/** Check `input` (parsed JSON) against the format; collects every problem. */
export function validateWorkload(input: unknown): WorkloadValidation {
  if (!isRecord(input)) return { ok: false, problems: [{ path: "", problem: "must be a JSON object" }] };
  const kind = WORKLOAD_KINDS.find((k) => k === input.kind);
  if (kind === undefined) {
    const unknownKind = anyKind.safeParse(input);
    return { ok: false, problems: unknownKind.success ? [] : fieldProblems(unknownKind.error) };
  }
  const result = workloadSchemas[kind].safeParse(input);
  if (!result.success) return { ok: false, problems: fieldProblems(result.error) };
  const workload: WorkloadDescription = result.data;
  const size = toUtf8Bytes(canonicalJson(workload)).length;
  if (size > MAX_WORKLOAD_BYTES) {
    return {
      ok: false,
      problems: [{ path: "", problem: `is ${size} bytes; at most ${MAX_WORKLOAD_BYTES} allowed` }],
    };
  }
  return { ok: true, workload };
}

/** The description in `input`, or WORKLOAD_INVALID listing every problem. */
export function parseWorkload(input: unknown, source?: string): WorkloadDescription {
  const result = validateWorkload(input);
  if (!result.ok) throw new WorkloadInvalidError(result.problems, source);
  return result.workload;
}

/** JSON text of a workload (or any JSON value of strings, integers, booleans, null, arrays and objects) in canonical form. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new StrataError("WORKLOAD_INVALID", `canonical JSON holds integers only (got ${value})`);
    }
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")}}`;
  }
  throw new StrataError("WORKLOAD_INVALID", `canonical JSON cannot hold a ${typeof value}`);
}

/** The order's commitment to a workload: keccak256 of its canonical JSON (UTF-8). */
export function workloadHash(workload: WorkloadDescription): string {
  return keccak256(toUtf8Bytes(canonicalJson(workload)));
}

/** Parse JSON text as a workload description; WORKLOAD_INVALID on bad JSON or a bad description. */
export function parseWorkloadJson(text: string, source?: string): WorkloadDescription {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new StrataError("WORKLOAD_INVALID", `${source ?? "the workload description"} is not valid JSON`, {
      cause,
    });
  }
  return parseWorkload(json, source);
}

/**
 * Read a workload description file. A node workload may name its script with `scriptFile` (relative to the
 * JSON file) instead of `script`: the file's text is inlined, so the hash commits to the exact code.
 * FILE_NOT_FOUND when a file cannot be read; WORKLOAD_INVALID otherwise.
 */
export async function readWorkloadFile(path: string): Promise<WorkloadDescription> {
  const text = await readText(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new StrataError("WORKLOAD_INVALID", `${path} is not valid JSON`, { cause });
  }
  if (isRecord(json) && json.kind === "node" && typeof json.scriptFile === "string") {
    if (json.script !== undefined) {
      throw new WorkloadInvalidError(
        [{ path: "scriptFile", problem: "give either script or scriptFile, not both" }],
        path,
      );
    }
    const { scriptFile, ...rest } = json;
    json = { ...rest, script: await readText(resolve(dirname(path), scriptFile)) };
  }
  return parseWorkload(json, path);
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (cause) {
    throw new StrataError("FILE_NOT_FOUND", `cannot read ${path}`, { cause });
  }
}
