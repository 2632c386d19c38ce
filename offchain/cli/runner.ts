import type { Command } from "commander";
import type { CliContext } from "./context.js";

/**
 * Runs one command's action: the program creates the context from the global options, reports a thrown
 * error and sets the exit code. Commands receive it when they register, so they never import the program.
 */
export type Runner = (command: Command, action: (ctx: CliContext) => Promise<void>) => Promise<void>;
