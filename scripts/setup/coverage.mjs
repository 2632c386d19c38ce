// Runs `hardhat test --coverage`, then reads coverage/lcov.info and enforces minimum line and branch
// coverage for the production contracts (contracts/**, minus contracts/test/, contracts/mocks/, *.t.sol).
//
// Usage: node scripts/setup/coverage.mjs [options] [-- <extra args for `hardhat test`>]
//   --no-enforce        print the table but never fail on thresholds
//   --lcov <file>       skip running the tests and read this lcov file instead
//   --min-lines <pct>   line threshold (default 95)
//   --min-branches <pct> branch threshold (default 90)
//
// Note: Hardhat 3 writes lcov to <root>/coverage/lcov.info with SF paths relative to the project root.
// As of Hardhat 3.18, EDR reports no branch data (no BRDA/BRF/BRH records); branch coverage is then shown
// as "n/a" and the branch threshold cannot be checked.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");
const defaultLcov = path.join(root, "coverage", "lcov.info");

function usage(message) {
  if (message) console.error(`coverage: ${message}`);
  console.error(
    "usage: node scripts/setup/coverage.mjs [--no-enforce] [--lcov <file>] [--min-lines <pct>] " +
      "[--min-branches <pct>] [-- <hardhat test args>]",
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { enforce: true, lcov: undefined, minLines: 95, minBranches: 90, hardhatArgs: [] };
  const pct = (flag, value) => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < 0 || n > 100) usage(`${flag} needs a number 0-100`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      opts.hardhatArgs = argv.slice(i + 1);
      break;
    } else if (arg === "--no-enforce") opts.enforce = false;
    else if (arg === "--lcov") {
      opts.lcov = argv[++i];
      if (!opts.lcov) usage("--lcov needs a file");
    } else if (arg === "--min-lines") opts.minLines = pct(arg, argv[++i]);
    else if (arg === "--min-branches") opts.minBranches = pct(arg, argv[++i]);
    else if (arg === "-h" || arg === "--help") usage();
    else usage(`unknown argument ${arg}`);
  }
  return opts;
}

function runCoverage(extraArgs) {
  // Remove the previous report so a failed run can never be mistaken for a fresh one.
  rmSync(defaultLcov, { force: true });
  const args = ["hardhat", "test", "--coverage", ...extraArgs];
  console.log(`$ npx ${args.join(" ")}`);
  const res = spawnSync("npx", args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  if (res.error) {
    console.error(`coverage: could not start npx: ${res.error.message}`);
    process.exit(2);
  }
  return res.status ?? 1;
}

/** Parses lcov text into Map<file, { lines: Map<line, hits>, branches: Map<id, hits>, lf, lh, brf, brh }>. */
function parseLcov(text, baseDir = root) {
  const files = new Map();
  let cur;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("TN:")) continue;
    if (line.startsWith("SF:")) {
      let file = line.slice(3);
      if (path.isAbsolute(file)) file = path.relative(baseDir, file);
      file = file.split(path.sep).join("/").replace(/^\.\//, "");
      cur = files.get(file);
      if (!cur) {
        cur = { lines: new Map(), branches: new Map(), lf: 0, lh: 0, brf: 0, brh: 0 };
        files.set(file, cur);
      }
      continue;
    }
    if (line === "end_of_record") {
      cur = undefined;
      continue;
    }
    if (!cur) continue;
    const colon = line.indexOf(":");
    const key = line.slice(0, colon);
    const fields = line.slice(colon + 1).split(",");
    switch (key) {
      case "DA": {
        const ln = Number(fields[0]);
        const hits = Number(fields[1]) || 0;
        cur.lines.set(ln, Math.max(cur.lines.get(ln) ?? 0, hits));
        break;
      }
      case "BRDA": {
        // BRDA:<line>,<block>,<branch>,<taken|->
        const id = fields.slice(0, 3).join(",");
        const hits = fields[3] === "-" ? 0 : Number(fields[3]) || 0;
        cur.branches.set(id, Math.max(cur.branches.get(id) ?? 0, hits));
        break;
      }
      case "LF":
        cur.lf += Number(fields[0]) || 0;
        break;
      case "LH":
        cur.lh += Number(fields[0]) || 0;
        break;
      case "BRF":
        cur.brf += Number(fields[0]) || 0;
        break;
      case "BRH":
        cur.brh += Number(fields[0]) || 0;
        break;
      default:
        break;
    }
  }
  return files;
}

/** Per-file totals, preferring the detailed DA/BRDA records over the LF/LH/BRF/BRH summaries. */
function summarize(rec) {
  const count = (map) => [map.size, [...map.values()].filter((h) => h > 0).length];
  const [linesFound, linesHit] = rec.lines.size > 0 ? count(rec.lines) : [rec.lf, rec.lh];
  const [branchesFound, branchesHit] = rec.branches.size > 0 ? count(rec.branches) : [rec.brf, rec.brh];
  return { linesFound, linesHit, branchesFound, branchesHit };
}

function isProductionContract(file) {
  return (
    file.startsWith("contracts/") &&
    !file.startsWith("contracts/test/") &&
    !file.startsWith("contracts/mocks/") &&
    !file.endsWith(".t.sol")
  );
}

const percent = (hit, found) => (found === 0 ? undefined : (100 * hit) / found);
const fmtPct = (p) => (p === undefined ? "n/a" : `${p.toFixed(2)}%`);

function printTable(rows, total) {
  const header = ["File", "Lines", "Line %", "Branches", "Branch %"];
  const body = rows.map((r) => [
    r.file,
    `${r.linesHit}/${r.linesFound}`,
    fmtPct(percent(r.linesHit, r.linesFound)),
    r.branchesFound === 0 ? "-" : `${r.branchesHit}/${r.branchesFound}`,
    fmtPct(percent(r.branchesHit, r.branchesFound)),
  ]);
  const footer = [
    "Total",
    `${total.linesHit}/${total.linesFound}`,
    fmtPct(percent(total.linesHit, total.linesFound)),
    total.branchesFound === 0 ? "-" : `${total.branchesHit}/${total.branchesFound}`,
    fmtPct(percent(total.branchesHit, total.branchesFound)),
  ];
  const all = [header, ...body, footer];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c].length)));
  const fmt = (row) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  console.log(["", fmt(header), rule, ...body.map(fmt), rule, fmt(footer), ""].join("\n"));
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  let testStatus = 0;
  let lcovPath = defaultLcov;
  if (opts.lcov) {
    lcovPath = path.resolve(opts.lcov);
  } else {
    testStatus = runCoverage(opts.hardhatArgs);
    if (testStatus !== 0) console.error(`coverage: \`hardhat test --coverage\` exited with ${testStatus}`);
  }
  if (!existsSync(lcovPath)) {
    console.error(`coverage: ${lcovPath} not found${opts.lcov ? "" : " (did the tests run?)"}`);
    process.exit(testStatus || 2);
  }

  const files = parseLcov(readFileSync(lcovPath, "utf8"));
  const rows = [...files.entries()]
    .filter(([file]) => isProductionContract(file))
    .map(([file, rec]) => ({ file, ...summarize(rec) }))
    .sort((a, b) => a.file.localeCompare(b.file));
  const total = rows.reduce(
    (t, r) => ({
      linesFound: t.linesFound + r.linesFound,
      linesHit: t.linesHit + r.linesHit,
      branchesFound: t.branchesFound + r.branchesFound,
      branchesHit: t.branchesHit + r.branchesHit,
    }),
    { linesFound: 0, linesHit: 0, branchesFound: 0, branchesHit: 0 },
  );

  printTable(rows, total);

  const failures = [];
  const linePct = percent(total.linesHit, total.linesFound);
  const branchPct = percent(total.branchesHit, total.branchesFound);
  if (rows.length === 0 || linePct === undefined) {
    failures.push("no line coverage data for contracts/ in the lcov report");
  } else if (linePct < opts.minLines) {
    failures.push(`line coverage ${fmtPct(linePct)} < ${opts.minLines}%`);
  }
  if (branchPct === undefined) {
    if (rows.length > 0) {
      console.warn(
        `coverage: the lcov report has no branch data (Hardhat 3 / EDR does not report branches yet); ` +
          `branch threshold ${opts.minBranches}% not checked`,
      );
    }
  } else if (branchPct < opts.minBranches) {
    failures.push(`branch coverage ${fmtPct(branchPct)} < ${opts.minBranches}%`);
  }

  if (failures.length === 0) {
    console.log(
      `coverage: OK (lines ${fmtPct(linePct)} >= ${opts.minLines}%` +
        (branchPct === undefined ? ")" : `, branches ${fmtPct(branchPct)} >= ${opts.minBranches}%)`),
    );
  } else {
    for (const f of failures)
      console.error(`coverage: ${opts.enforce ? "FAIL" : "below threshold (not enforced)"}: ${f}`);
  }
  if (testStatus !== 0) process.exit(testStatus);
  if (opts.enforce && failures.length > 0) process.exit(1);
}

main();
