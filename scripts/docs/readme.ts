/**
 * README.md as `npm run docs:tables` would write it: the generated regions rendered from bench/*.json and
 * scripts/bench/budgets.ts, then formatted with the repository's Prettier settings.
 */
import path from "node:path";
import * as prettier from "prettier";
import { GAS_BUDGETS } from "../bench/budgets.js";
import {
  DATA_JSON,
  dataBenchSchema,
  ECONOMICS_JSON,
  economicsSchema,
  INCENTIVES_JSON,
  incentivesSchema,
  readGasRows,
  readJson,
  readSizes,
  ROOT,
  WORKER_JSON,
  workerBenchSchema,
} from "../bench/files.js";
import { DRAWS_JSON, drawsMarkdown, drawsSchema } from "../bench/drawsReport.js";
import { DURABILITY_JSON, durabilityMarkdown, durabilityRowsSchema } from "../durabilityReport.js";
import { renderReadme, replaceRegion } from "./readmeRegions.js";

export const README = path.join(ROOT, "README.md");

/** `current` with its regions rewritten from the committed benchmark files, formatted as `npm run format` would. */
export async function expectedReadme(current: string): Promise<string> {
  const base = renderReadme(current, {
    gas: readGasRows(),
    budgets: GAS_BUDGETS,
    sizes: readSizes(),
    data: readJson(DATA_JSON, dataBenchSchema),
    worker: readJson(WORKER_JSON, workerBenchSchema),
    economics: readJson(ECONOMICS_JSON, economicsSchema),
    incentives: readJson(INCENTIVES_JSON, incentivesSchema),
  });
  const rendered = replaceRegion(
    replaceRegion(
      base,
      "durability",
      `<!-- written by \`npm run docs:tables\` from bench/durability.json; edit the generator, not this table -->\n\n${durabilityMarkdown(readJson(DURABILITY_JSON, durabilityRowsSchema))}`,
    ),
    "draws",
    drawsMarkdown(readJson(DRAWS_JSON, drawsSchema)),
  );
  const options = (await prettier.resolveConfig(README)) ?? {};
  return prettier.format(rendered, { ...options, filepath: README });
}
