/**
 * `npm run docs:tables`: rewrite README.md's generated regions (gas beside budgets, contract sizes, data path,
 * worker) from bench/*.json and scripts/bench/budgets.ts, formatted with the repository's Prettier settings.
 * `npm run docs:check` (`--check`, part of `npm test`): fail, changing nothing, when README.md is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { StrataError } from "../../offchain/sdk/errors.js";
import { staleRegions } from "./readmeRegions.js";
import { expectedReadme, README } from "./readme.js";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { check: { type: "boolean", default: false } } });
  const current = readFileSync(README, "utf8");
  const expected = await expectedReadme(current);
  if (!values.check) {
    if (expected !== current) writeFileSync(README, expected);
    console.log(expected === current ? "README.md tables are current" : "README.md tables rewritten");
    return;
  }
  if (expected === current) {
    console.log("README.md tables are current");
    return;
  }
  const regions = staleRegions(current, expected);
  const where = regions.length > 0 ? `region(s) ${regions.join(", ")}` : "formatting around the regions";
  const error = new StrataError("DOCS_STALE", `README.md is stale: ${where} differ from bench/*.json`);
  console.error(`error ${error.code}: ${error.message}\nrun \`npm run docs:tables\` and commit README.md`);
  process.exitCode = 1;
}

try {
  await main();
} catch (error: unknown) {
  if (!(error instanceof StrataError)) throw error;
  console.error(
    `error ${error.code}: ${error.message}${error.details === undefined ? "" : `\n${error.details}`}`,
  );
  process.exitCode = 1;
}
