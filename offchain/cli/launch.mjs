// What the `strata` launcher (strata.mjs) adds to Node's own flags. Plain JavaScript: it runs before tsx is loaded.
//
// Commands that stream piece bytes (the agent, the worker, store, retrieve, get, repair, site, import, lease) run
// with a larger young generation: every socket read is a fresh 64 KiB buffer, and with the default 16 MiB
// semi-space enough of them outlive two scavenges to be promoted, so an agent receiving a 512 MiB piece ran about
// 60 full mark-compacts (measured; 2 with the flag, and about a third less CPU for the agents of a store).

/** The young-generation flag of the bulk-data commands. */
export const YOUNG_GENERATION_FLAG = "--max-semi-space-size=32";

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
