#!/usr/bin/env node
// Launcher of the `strata` CLI: runs main.ts through tsx. The provider agent needs Node >= 22 (node:sqlite);
// under an older Node this re-runs itself with the Node 22 that `npm install` puts in node_modules/.bin.
//
// Bulk-data commands get a larger young generation and glibc malloc settings (launch.mjs says why). Both only take
// effect at start-up, so the launcher replaces itself (process.execve: same pid, so signals and exit codes reach the
// command exactly as before) unless Node was started with them.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { currentBundle } from "./bundle.mjs";
import { launchEnvironment, launchFlags } from "./launch.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const major = Number(process.versions.node.split(".")[0]);
const node22 = join(here, "..", "..", "node_modules", ".bin", "node");
const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);

const youngFlag = launchFlags(args, process.execArgv, process.env.NODE_OPTIONS);
const bulkEnv = launchEnvironment(args, process.env);

if (major < 22 && existsSync(node22)) {
  const child = spawn(node22, [...youngFlag, self, ...args], {
    stdio: "inherit",
    env: bulkEnv ?? process.env,
  });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal) {
      // Die of the same signal: without the forwarding handlers above, which would otherwise catch it.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
} else if ((youngFlag.length > 0 || bulkEnv !== null) && typeof process.execve === "function") {
  process.execve(
    process.execPath,
    [process.execPath, ...process.execArgv, ...youngFlag, self, ...args],
    bulkEnv ?? process.env,
  );
} else {
  // node:sqlite (used by the agent) warns that it is experimental on every start; keep other warnings.
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    if (warning.name === "ExperimentalWarning" && /SQLite/i.test(warning.message)) return;
    process.stderr.write(`${warning.name}: ${warning.message}\n`);
  });
  // The built CLI when it is current (bundle.mjs), else its sources through tsx.
  const bundle = currentBundle();
  if (bundle !== null) {
    await import(pathToFileURL(bundle).href);
  } else {
    const { register } = await import("tsx/esm/api");
    register();
    await import("./main.ts");
  }
}
