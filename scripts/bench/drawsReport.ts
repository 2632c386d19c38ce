/**
 * bench/draws.json (written by `npm run bench:draws`, ./draws.ts): its schema and the README table rendered from it.
 */
import path from "node:path";
import { z } from "zod";
import { ROOT } from "./files.js";

export const DRAWS_JSON = path.join(ROOT, "bench", "draws.json");

const count = z.number().int().nonnegative();

/** One layout's figures over many seeds. */
export const drawFiguresSchema = z.strictObject({
  layout: z.string(),
  dataSets: count,
  seeds: count,
  challenges: count,
  maxWords: count,
  wordsMax: count,
  wordsMean: z.number().nonnegative(),
  rejectedMax: count,
  rejectedMean: z.number().nonnegative(),
  shortPeriods: count,
  drawGasMax: count,
  drawGasMean: count,
  drawGasMin: count,
  searchedSeeds: count,
  searchedWordsMax: count,
  searchedDrawGas: count,
  previousRuleRejectedMax: count,
  previousRuleRejectedMean: z.number().nonnegative(),
});

export type DrawFigures = z.infer<typeof drawFiguresSchema>;

export const drawsSchema = z.array(drawFiguresSchema);

/** The README table: words and rejected draws per period, short periods and the draw's gas, per layout. */
export function drawsMarkdown(rows: readonly DrawFigures[]): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const first = rows[0];
  const header =
    "| layout | words drawn, max (mean) | rejected draws, max (mean) | periods short of challenges | draw gas, max (mean) | most words in the searched seeds: words, draw gas | previous rule: rejected, max (mean) |";
  const lines = rows.map(
    (r) =>
      `| ${r.layout} | ${r.wordsMax} (${r.wordsMean}) | ${r.rejectedMax} (${r.rejectedMean}) | ${n(r.shortPeriods)} | ${n(r.drawGasMax)} (${n(r.drawGasMean)}) | ${r.searchedWordsMax}, ${n(r.searchedDrawGas)} | ${r.previousRuleRejectedMax} (${r.previousRuleRejectedMean}) |`,
  );
  const intro =
    first === undefined
      ? ""
      : `${n(first.seeds)} seeds per layout on chain and ${n(first.searchedSeeds)} more searched with the SDK mirror, ${first.challenges} challenges; at most ${first.maxWords} words (${first.maxWords - first.challenges} rejected draws) for any seed.\n\n`;
  return `<!-- written by \`npm run docs:tables\` from bench/draws.json; edit the generator, not this table -->\n\n${intro}${header}\n|---|--:|--:|--:|--:|--:|--:|\n${lines.join("\n")}`;
}
