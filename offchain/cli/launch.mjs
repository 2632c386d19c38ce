// What the `strata` launcher (strata.mjs) adds to Node's own flags. Plain JavaScript: it runs before tsx is loaded.
//
// Commands that stream piece bytes (the agent, the worker, store, retrieve, get, repair, site, import, lease) run
// with a larger young generation: every socket read is a fresh 64 KiB buffer, and with the default 16 MiB
// semi-space enough of them outlive two scavenges to be promoted, so an agent receiving a 512 MiB piece ran about
// 60 full mark-compacts (measured; 2 with the flag, and about a third less CPU for the agents of a store).
//
// They also run with glibc's malloc told to keep its memory (MALLOC_ENV). Each decrypted chunk, socket read and
// file read is a fresh buffer of 64 KiB to a few MiB, freed in bulk by the garbage collector. By default glibc maps
// blocks above 128 KiB on their own and hands freed memory at the top of the heap back to the kernel, so the next
// buffers fault their pages in again: a 1 GiB retrieve took 217,000 to 316,000 page faults and 5.0 to 5.6 s of
// system time. With blocks up to 4 MiB taken from the heap and up to 128 MiB kept free in it, the same retrieve took
// about 77,000 faults, 2.9 to 3.9 s of system time and 3 to 4 CPU-s less in all, at a peak RSS within 15 MB of
// before (measured with bench:data's agents, 3 runs each way).

/** The young-generation flag of the bulk-data commands. */
export const YOUNG_GENERATION_FLAG = "--max-semi-space-size=32";

/**
 * glibc malloc settings of the bulk-data commands: blocks up to 4 MiB come from the heap, and up to 128 MiB free at
 * its top is kept. Given as glibc's MALLOC_*_ variables rather than in GLIBC_TUNABLES, which glibc 2.36 cuts up in
 * place (a child would inherit only its first setting).
 */
export const MALLOC_ENV = Object.freeze({
  MALLOC_MMAP_THRESHOLD_: "4194304",
  MALLOC_TRIM_THRESHOLD_: "134217728",
});

/** Commands that move piece bytes. */
export const BULK_COMMANDS = new Set([
  "agent",
  "worker",
  "store",
  "retrieve",
  "get",
  "repair",
  "site",
  "import",
  "lease",
]);

/**
 * The flags to start `strata <args>` with that Node was not started with: the young-generation flag for a bulk
 * command (any argument naming one: a false match only costs a larger young generation), unless the process or
 * NODE_OPTIONS already sets a semi-space size.
 */
export function launchFlags(args, execArgv, nodeOptions) {
  const set =
    execArgv.some((flag) => flag.startsWith("--max-semi-space-size")) ||
    (nodeOptions ?? "").includes("--max-semi-space-size");
  return !set && args.some((arg) => BULK_COMMANDS.has(arg)) ? [YOUNG_GENERATION_FLAG] : [];
}

/**
 * The environment to start a bulk-data process with: `env` plus MALLOC_ENV, or null when it needs no change (the
 * settings are there, or the user chose malloc settings of their own, which win). glibc reads them once, at
 * start-up; other C libraries ignore them.
 */
export function bulkEnvironment(env) {
  const own =
    Object.keys(MALLOC_ENV).some((name) => env[name] !== undefined) ||
    (env.GLIBC_TUNABLES ?? "").includes("glibc.malloc.");
  return own ? null : { ...env, ...MALLOC_ENV };
}

/** The environment to start `strata <args>` with: bulkEnvironment for a bulk command, else null (no change). */
export function launchEnvironment(args, env) {
  return args.some((arg) => BULK_COMMANDS.has(arg)) ? bulkEnvironment(env) : null;
}
