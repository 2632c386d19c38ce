// Entry point of the `strata` CLI (started by strata.mjs through tsx).
import { runCli } from "./program.js";

process.exitCode = await runCli(process.argv.slice(2));
