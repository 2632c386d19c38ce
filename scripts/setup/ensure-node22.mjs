// Hardhat 3 runs on Node >= 22.13. npm picks optional native packages by the Node version that runs
// npm itself, so an install under Node 20 silently drops EDR's native binding. When that happens we
// re-run the install once with the Node 22 binary that the `node` devDependency put in .bin.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");
const node22 = path.join(root, "node_modules", ".bin", "node");

function edrLoads(nodeBinary) {
  try {
    execFileSync(nodeBinary, ["-e", "require('@nomicfoundation/edr')"], { cwd: root, stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

if (process.env.STRATA_SKIP_NODE22_FIX === "1") process.exit(0);
if (!existsSync(node22)) {
  console.warn("[setup] node_modules/.bin/node (Node 22) is missing; Hardhat needs Node >= 22.13");
  process.exit(0);
}
try {
  require.resolve("@nomicfoundation/edr");
} catch {
  process.exit(0);
}
if (edrLoads(node22)) process.exit(0);

console.log("[setup] EDR native binding missing (npm ran under an older Node); reinstalling with Node 22");
// npm exports the path of its own CLI to lifecycle scripts.
const npmCli = process.env.npm_execpath;
if (!npmCli || !existsSync(npmCli)) {
  console.error("[setup] cannot locate npm's CLI; run: npx -y -p node@22 -- npm install");
  process.exit(1);
}
const npmArgs = [npmCli];
execFileSync(node22, [...npmArgs, "install", "--ignore-scripts", "--no-audit", "--no-fund"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, STRATA_SKIP_NODE22_FIX: "1" },
});
if (!edrLoads(node22)) {
  console.error("[setup] EDR still does not load under Node 22; run: npx -y -p node@22 -- npm install");
  process.exit(1);
}
console.log("[setup] EDR native binding installed");
