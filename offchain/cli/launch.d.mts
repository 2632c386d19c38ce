/** Types of launch.mjs (plain JavaScript: the launcher runs before tsx is loaded). */

/** The young-generation flag of the bulk-data commands. */
export declare const YOUNG_GENERATION_FLAG: string;
/** Commands that move piece bytes. */
export declare const BULK_COMMANDS: ReadonlySet<string>;
/** The flags to start `strata <args>` with that Node was not started with. */
export declare function launchFlags(
  args: readonly string[],
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string[];
/** glibc malloc settings of the bulk-data commands (environment variables). */
export declare const MALLOC_ENV: Readonly<
  Record<"MALLOC_MMAP_THRESHOLD_" | "MALLOC_TRIM_THRESHOLD_", string>
>;
/** `env` with MALLOC_ENV added, or null when it needs no change. */
export declare function bulkEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv | null;
/** bulkEnvironment for a bulk command's arguments, else null. */
export declare function launchEnvironment(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): NodeJS.ProcessEnv | null;
