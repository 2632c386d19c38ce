/**
 * `npm run bench:sizes`: runtime and init-code size of every deployable contract and linked library, with the
 * margins under EIP-170 and EIP-3860. Prints the table and writes bench/sizes.json (`hardhat run` compiles
 * first, so the figures are the current sources').
 */
import hre from "hardhat";
import path from "node:path";
import { measureSizes, sizeTable } from "./contractSizes.js";
import { ROOT, SIZES_JSON } from "./files.js";
import { writeJson } from "./report.js";
import { limitFailures } from "./snapshot.js";

const sizes = await measureSizes(hre.artifacts);
console.log(`${sizeTable(sizes)}\n`);
writeJson(SIZES_JSON, sizes);
console.log(`written to ${path.relative(ROOT, SIZES_JSON)}`);
for (const line of limitFailures(sizes)) console.log(`OVER THE LIMIT: ${line}`);
