#!/usr/bin/env node
// Launcher of the `strata` CLI: runs main.ts through tsx. The provider agent needs Node >= 22 (node:sqlite);
// under an older Node this re-runs itself with the Node 22 that `npm install` puts in node_modules/.bin.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const major = Number(process.versions.node.split(".")[0]);
const node22 = join(here, "..", "..", "node_modules", ".bin", "node");

if (major < 22 && existsSync(node22)) {
  const child = spawn(node22, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
} else {
  // node:sqlite (used by the agent) warns that it is experimental on every start; keep other warnings.
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    if (warning.name === "ExperimentalWarning" && /SQLite/i.test(warning.message)) return;
    process.stderr.write(`${warning.name}: ${warning.message}\n`);
  });
  const { register } = await import("tsx/esm/api");
  register();
  await import("./main.ts");
}
