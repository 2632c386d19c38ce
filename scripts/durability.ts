/**
 * `npm run durability`: a permanent file (k = 10 of n = 16, the deployment's endowment) simulated for up to 200
 * years with provider churn, prices falling 0.5% a year and repair gas at 0.01 gwei, against the contracts' own
 * pricing and repair rules (offchain/durability). Prints the table, writes bench/durability.json and
 * bench/durability.svg. Seeded: the same run every time.
 *   npm run durability -- --trials 100 --seed 7   (options other than the defaults print and write nothing)
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_ENDOWMENT } from "../offchain/sdk/durability/endowment.js";
import { DEFAULT_SIMULATION, simulate, type SimulationResult } from "../offchain/durability/simulation.js";
import { ROOT } from "./bench/files.js";
import { DURABILITY_JSON, DURABILITY_SVG, durabilityMarkdown, durabilitySvg } from "./durabilityReport.js";

const YEARS = [50, 100, 200];
const CHURN = [0.01, 0.02, 0.05, 0.1];

function main(): void {
  const { values } = parseArgs({
    options: { trials: { type: "string" }, seed: { type: "string" } },
  });
  const trials = values.trials === undefined ? DEFAULT_SIMULATION.trials : Number(values.trials);
  const seed = values.seed === undefined ? DEFAULT_SIMULATION.seed : Number(values.seed);
  const custom = values.trials !== undefined || values.seed !== undefined;
  const results: SimulationResult[] = [];
  for (const years of YEARS) {
    for (const churnPerMonth of CHURN) {
      results.push(
        simulate({
          ...DEFAULT_SIMULATION,
          config: DEFAULT_ENDOWMENT,
          years,
          churnPerMonth,
          actualDeclineBps: DEFAULT_ENDOWMENT.declineBps,
          trials,
          seed,
        }),
      );
    }
  }
  const rows = results.map((r) => r.row);
  const first = results[0];
  console.log(durabilityMarkdown(rows));
  if (first) {
    const tokens = (x: bigint) => (Number(x) / 1e6).toFixed(4);
    console.log(
      `\nprincipal ${tokens(first.principal)} tokens for a ${(Number(DEFAULT_SIMULATION.pieceSpan * 64n * 10n) / 2 ** 30).toFixed(0)} GiB file; ` +
        `capped reward per repair ${tokens(first.rewardPerRepair)} tokens vs repair gas ${tokens(first.gasPerRepair)} tokens`,
    );
  }
  if (custom) return;
  writeFileSync(DURABILITY_JSON, `${JSON.stringify(rows, null, 2)}\n`);
  const long = results.filter((r) => r.row.years === 200);
  writeFileSync(
    DURABILITY_SVG,
    durabilitySvg(
      long.map((r) => ({ label: `${r.row.churnPerMonth * 100}% / month`, points: r.leftByYear })),
    ),
  );
  console.log(`wrote ${path.relative(ROOT, DURABILITY_JSON)} and ${path.relative(ROOT, DURABILITY_SVG)}`);
}

main();
