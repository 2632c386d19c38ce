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
