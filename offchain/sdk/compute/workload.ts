/**
 * Workload manifests (version 2): what a tenant asks a provider to run under a lease, in the spirit of
 * Akash's SDL. An order commits to its manifest with `workloadHash = keccak256(utf8(canonicalJson(manifest)))`;
 * the tenant hands the manifest itself to the winning provider off chain (`PUT /v1/workloads/<hash>`), which
 * runs it only if it hashes to the order's commitment. A later version of the same lease (`strata lease
 * update`) is another manifest, signed by the tenant; it must fit the order's resources.
 *
 * A manifest holds:
 * - `services`: named processes run side by side in one sandbox per lease (they share its loopback, so a
 *   backend reaches its database service at 127.0.0.1). Each runs a command (argv) or an inline Node script,
 *   with inline `files` written into its working directory, `env`, `resources` (cpu, memory), the ports it
 *   `expose`s through the provider's ingress, a `health` check, the `volumes` it mounts and a `restart` policy;
 * - `volumes`: persistent volumes of the lease (a size each), kept across workload and agent restarts and wiped
 *   when the lease ends;
 * - `pricing`: the lease's price terms (highest price per hour and the deposit, decimal token amounts).
 *
 * Canonical JSON: object keys sorted by UTF-16 code unit (JavaScript's default sort), no whitespace, strings
 * escaped as JSON.stringify does, integers only (no floats, no exponents), absent optional fields omitted.
 * The hashed document is self-contained: scripts and files are inlined, never paths on the tenant's machine;
 * `readWorkloadFile` inlines a service's `scriptFile` given next to the JSON for convenience.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { keccak256, toUtf8Bytes } from "ethers";
import { z } from "zod";
import { StrataError } from "../errors.js";
import { fieldProblems, type FieldProblem } from "../schemas/issues.js";
import { expected, safeInt } from "../schemas/primitives.js";

export const WORKLOAD_VERSION = 2;
/** Largest canonical manifest accepted (bytes): it travels over HTTP and is kept in the agent database. */
export const MAX_WORKLOAD_BYTES = 256 * 1024;
export const MAX_ENV_VARS = 64;
export const MAX_ARGS = 256;
export const MAX_SERVICES = 8;
export const MAX_VOLUMES = 4;
export const MAX_FILES = 32;
export const MAX_PORTS = 4;
/** Bounds of the resource limits. */
export const LIMIT_BOUNDS = {
  cpuMillicores: { min: 1, max: 1_024_000 },
  memoryMiB: { min: 16, max: 16 * 1024 * 1024 },
  diskMiB: { min: 16, max: 16 * 1024 * 1024 },
  maxSeconds: { min: 1, max: 10 * 365 * 86_400 },
} as const;

/** Service names that would shadow the agent's own lease routes (`/v1/leases/<id>/<name>`). */
const RESERVED_NAMES: readonly string[] = ["logs", "events", "manifest", "volumes"];
const NAME = /^[a-z][a-z0-9-]{0,30}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A relative path inside the service's directory: no `..`, no absolute path, no empty segment. */
const REL_PATH = /^(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;
/** An absolute mount path inside the sandbox, under /data or /srv (never over the system). */
const MOUNT_PATH = /^\/(?:data|srv)(?:\/[A-Za-z0-9._-]+)*$/;
const TOKEN_AMOUNT = /^(?:0|[1-9][0-9]{0,30})(?:\.[0-9]{1,18})?$/;

const NO_NUL = "must not contain NUL characters";
const noNul = (value: string) => !value.includes("\0");
const str = (what = "must be a string") => z.string(expected(what)).refine(noNul, NO_NUL);
const bounded = (name: keyof typeof LIMIT_BOUNDS) => safeInt(LIMIT_BOUNDS[name].min, LIMIT_BOUNDS[name].max);

const argv = z
  .array(z.unknown(), expected("must be a non-empty array of strings (argv)"))
  .min(1, "must be a non-empty array of strings (argv)")
  .max(MAX_ARGS, `must have at most ${MAX_ARGS} arguments`)
  .pipe(z.tuple([str().refine((program) => program.trim() !== "", "must name a program")], str()));

const env = z
  .record(
    z.string().regex(ENV_NAME, "is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)"),
    str(),
    expected("must be an object of string values"),
  )
  .refine((vars) => Object.keys(vars).length <= MAX_ENV_VARS, `must have at most ${MAX_ENV_VARS} variables`);

const run = z.discriminatedUnion(
  "kind",
  [
    z.strictObject({ kind: z.literal("command"), command: argv }),
    z.strictObject({
      kind: z.literal("node"),
      script: z
        .string(expected("must be the script's source code (a non-empty string)"))
        .refine((s) => s.trim() !== "", "must be the script's source code (a non-empty string)"),
    }),
  ],
  expected('must be {kind: "command", command: [...]} or {kind: "node", script: "..."}'),
);

const resources = z.strictObject(
  { cpuMillicores: bounded("cpuMillicores"), memoryMiB: bounded("memoryMiB") },
  expected("must be an object {cpuMillicores, memoryMiB}"),
);

const port = safeInt(1024, 65_535);

const health = z.strictObject(
  {
    port,
    path: str().regex(/^\/[\x21-\x7e]*$/, "must be an absolute URL path"),
    intervalSeconds: safeInt(1, 3600),
    timeoutSeconds: safeInt(1, 60),
    /** Consecutive failures after which the service is marked unhealthy (and the lease fails visibly). */
    failures: safeInt(1, 100),
  },
  expected("must be an object {port, path, intervalSeconds, timeoutSeconds, failures}"),
);

const service = z.strictObject(
  {
    run,
    files: z
      .record(z.string().regex(REL_PATH, "is not a relative file path"), str(), expected("must be an object"))
      .refine((f) => Object.keys(f).length <= MAX_FILES, `must have at most ${MAX_FILES} files`)
      .optional(),
    env: env.optional(),
    resources,
    expose: z.array(port, expected("must be an array of ports")).min(1).max(MAX_PORTS).optional(),
    health: health.optional(),
    volumes: z
      .record(
        z.string().regex(NAME, "is not a volume name"),
        z.string(expected("must be a mount path")).regex(MOUNT_PATH, "must be a path under /data or /srv"),
        expected("must be an object {volume: mountPath}"),
      )
      .optional(),
    restart: z.enum(["always", "on-failure", "never"], expected('must be "always", "on-failure" or "never"')),
    maxSeconds: bounded("maxSeconds").optional(),
  },
  expected("must be an object"),
);

const volume = z.strictObject({ sizeMiB: bounded("diskMiB") }, expected("must be an object {sizeMiB}"));

const pricing = z.strictObject(
  {
    maxPricePerHour: z
      .string(expected("must be a decimal token amount"))
      .regex(TOKEN_AMOUNT, "must be a decimal token amount"),
    deposit: z
      .string(expected("must be a decimal token amount"))
      .regex(TOKEN_AMOUNT, "must be a decimal token amount"),
  },
  expected("must be an object {maxPricePerHour, deposit}"),
);

/** The schema of a workload manifest; cross-field rules (volumes declared, ports unique) are refinements. */
export const workloadSchema = z
  .strictObject(
    {
      version: z.literal(WORKLOAD_VERSION, `must be ${WORKLOAD_VERSION}`),
      services: z
        .record(
          z.string().regex(NAME, "is not a service name ([a-z][a-z0-9-]*)"),
          service,
          expected("must be an object"),
        )
        .refine((s) => Object.keys(s).length >= 1, "must name at least one service")
        .refine(
          (s) => !Object.keys(s).some((name) => RESERVED_NAMES.includes(name)),
          `must not use the reserved service names ${["logs", "events", "manifest", "volumes"].join(", ")}`,
        )
        .refine((s) => Object.keys(s).length <= MAX_SERVICES, `must have at most ${MAX_SERVICES} services`),
      volumes: z
        .record(z.string().regex(NAME, "is not a volume name"), volume, expected("must be an object"))
        .refine((v) => Object.keys(v).length <= MAX_VOLUMES, `must have at most ${MAX_VOLUMES} volumes`)
        .optional(),
      pricing: pricing.optional(),
    },
    expected("must be a JSON object"),
  )
  .superRefine((manifest, ctx) => {
    const ports = new Map<number, string>();
    for (const [name, svc] of Object.entries(manifest.services)) {
      for (const volumeName of Object.keys(svc.volumes ?? {})) {
        if (manifest.volumes?.[volumeName] === undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["services", name, "volumes", volumeName],
            message: "is not declared under volumes",
          });
        }
      }
      for (const p of svc.expose ?? []) {
        const other = ports.get(p);
        if (other !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["services", name, "expose"],
            message: `port ${p} is also exposed by ${other}`,
          });
        }
        ports.set(p, name);
      }
      if (svc.health !== undefined && !(svc.expose ?? []).includes(svc.health.port)) {
        ctx.addIssue({
          code: "custom",
          path: ["services", name, "health", "port"],
          message: "must be an exposed port",
        });
      }
    }
  });

export type WorkloadDescription = z.infer<typeof workloadSchema>;
export type WorkloadManifest = WorkloadDescription;
export type WorkloadService = WorkloadDescription["services"][string];
export type WorkloadRun = WorkloadService["run"];
export type WorkloadKind = WorkloadRun["kind"];
export type HealthCheck = NonNullable<WorkloadService["health"]>;
export const WORKLOAD_KINDS: readonly WorkloadKind[] = ["command", "node"];

/** What a manifest needs from the order: the sum of its services' resources and of its volumes' sizes. */
export interface WorkloadLimits {
  cpuMillicores: number;
  memoryMiB: number;
  diskMiB: number;
}

export function totalResources(manifest: WorkloadDescription): WorkloadLimits {
  let cpuMillicores = 0;
  let memoryMiB = 0;
  for (const svc of Object.values(manifest.services)) {
    cpuMillicores += svc.resources.cpuMillicores;
    memoryMiB += svc.resources.memoryMiB;
  }
  const diskMiB = Object.values(manifest.volumes ?? {}).reduce((sum, v) => sum + v.sizeMiB, 0);
  return { cpuMillicores, memoryMiB, diskMiB };
}

/** One problem of an invalid manifest: the field's JSON path and what is wrong with it. */
export type WorkloadProblem = FieldProblem;

export type WorkloadValidation =
  { ok: true; workload: WorkloadDescription } | { ok: false; problems: WorkloadProblem[] };

/** A WORKLOAD_INVALID error listing every problem (also as `problems`, for programs). */
export class WorkloadInvalidError extends StrataError {
  constructor(
    readonly problems: readonly WorkloadProblem[],
    source = "the workload manifest",
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Check `input` (parsed JSON) against the format; collects every problem. Values are never rewritten. */
export function validateWorkload(input: unknown): WorkloadValidation {
  if (!isRecord(input)) return { ok: false, problems: [{ path: "", problem: "must be a JSON object" }] };
  const result = workloadSchema.safeParse(input);
  if (!result.success) return { ok: false, problems: fieldProblems(result.error) };
  const size = toUtf8Bytes(canonicalJson(result.data)).length;
  if (size > MAX_WORKLOAD_BYTES) {
    return {
      ok: false,
      problems: [{ path: "", problem: `is ${size} bytes; at most ${MAX_WORKLOAD_BYTES} allowed` }],
    };
  }
  return { ok: true, workload: result.data };
}

/** The manifest in `input`, or WORKLOAD_INVALID listing every problem. */
export function parseWorkload(input: unknown, source?: string): WorkloadDescription {
  const result = validateWorkload(input);
  if (!result.ok) throw new WorkloadInvalidError(result.problems, source);
  return result.workload;
}

/** JSON text of a manifest (or any JSON value of strings, integers, booleans, null, arrays and objects) in canonical form. */
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

/** The order's commitment to a manifest: keccak256 of its canonical JSON (UTF-8). */
export function workloadHash(workload: WorkloadDescription): string {
  return keccak256(toUtf8Bytes(canonicalJson(workload)));
}

/** Parse JSON text as a manifest; WORKLOAD_INVALID on bad JSON or a bad manifest. */
export function parseWorkloadJson(text: string, source?: string): WorkloadDescription {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new StrataError("WORKLOAD_INVALID", `${source ?? "the workload manifest"} is not valid JSON`, {
      cause,
    });
  }
  return parseWorkload(json, source);
}

/**
 * Read a manifest file. A node service may name its script with `run.scriptFile` (relative to the JSON file)
 * instead of `run.script`: the file's text is inlined, so the hash commits to the exact code.
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
  if (isRecord(json) && isRecord(json.services)) {
    for (const [name, svc] of Object.entries(json.services)) {
      if (!isRecord(svc) || !isRecord(svc.run) || typeof svc.run.scriptFile !== "string") continue;
      if (svc.run.script !== undefined) {
        throw new WorkloadInvalidError(
          [
            {
              path: `services.${name}.run.scriptFile`,
              problem: "give either script or scriptFile, not both",
            },
          ],
          path,
        );
      }
      const { scriptFile, ...rest } = svc.run;
      svc.run = { ...rest, script: await readText(resolve(dirname(path), scriptFile)) };
    }
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
