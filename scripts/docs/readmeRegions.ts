/**
 * README tables generated from bench/*.json, as pure functions. A region is the text between
 * `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; `npm run docs:tables` (./readmeTables.ts)
 * rewrites every region and `npm run docs:check` fails when one is stale.
 */
import { RESIDUAL_DEVIATIONS, type IncentiveRow } from "../../offchain/incentives/index.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import type { GasBudget } from "../bench/budgets.js";
import { linkSummary } from "../bench/contractSizes.js";
import {
  formatBytes,
  goalPercent,
  meetsGoal,
  REFERENCE_PER_TIB_MONTH,
  s3PerTiBMonth,
  S3_PER_TB_MONTH,
  type EconomicsRow,
} from "../bench/economicsModel.js";
import type { DataBench, WorkerBench } from "../bench/files.js";
import type { GasRow } from "../bench/report.js";
import { INITCODE_LIMIT, RUNTIME_LIMIT, type SizeSnapshot } from "../bench/snapshot.js";

export const REGIONS = ["gas", "economics", "sizes", "data", "worker", "incentives"] as const;
export type RegionName = (typeof REGIONS)[number];

const open = (name: string) => `<!-- generated:${name} -->`;
const close = (name: string) => `<!-- /generated:${name} -->`;

/** `text` with the body of region `name` replaced by `body`; the region must occur exactly once. */
export function replaceRegion(text: string, name: string, body: string): string {
  const start = text.indexOf(open(name));
  const end = text.indexOf(close(name));
  if (start < 0 || end < 0 || end < start || text.includes(open(name), start + 1)) {
    throw new StrataError(
      "DOCS_STALE",
      `README.md needs exactly one ${open(name)} ... ${close(name)} region, in that order`,
    );
  }
  const head = text.slice(0, start + open(name).length);
  return `${head}\n\n${body.trim()}\n\n${text.slice(end)}`;
}

/** The body of region `name` in `text`, or undefined when it is absent. */
export function regionBody(text: string, name: string): string | undefined {
  const start = text.indexOf(open(name));
  const end = text.indexOf(close(name));
  if (start < 0 || end < start) return undefined;
  return text.slice(start + open(name).length, end).trim();
}

type Align = "left" | "right";

/** A Markdown table (unpadded; Prettier pads it when the README is formatted). */
export function markdownTable(
  header: readonly string[],
  rows: readonly string[][],
  align: readonly Align[],
): string {
  const cell = (c: string) => c.replaceAll("|", "\\|");
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
  const rule = `| ${align.map((a) => (a === "right" ? "---:" : "---")).join(" | ")} |`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

const fmt = (n: number) => n.toLocaleString("en-US");

/** README prose width (as the hand-written paragraphs). */
const WIDTH = 110;

/** `text` wrapped at WIDTH on spaces; lines after the first start with `indent`. */
export function wrap(text: string, indent = ""): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    const prefix = lines.length === 0 ? "" : indent;
    if (line !== "" && prefix.length + line.length + 1 + word.length > WIDTH) {
      lines.push(prefix + line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push((lines.length === 0 ? "" : indent) + line);
  return lines.join("\n");
}

const NOTICE =
  "<!-- written by `npm run docs:tables` from bench/*.json; edit the generator, not this table -->";

/** Gas beside budgets: storage rows, then compute rows, then the accepted overruns with their reasons. */
export function gasRegion(rows: readonly GasRow[], budgets: readonly GasBudget[]): string {
  const byOperation = new Map(budgets.map((b) => [b.operation, b]));
  const accepted: string[] = [];
  const render = (r: GasRow, label: string): string[] => {
    const b = byOperation.get(r.operation);
    const ours = b?.basis.startsWith("ours") === true ? " (ours)" : "";
    if (r.budget === null) return [label, fmt(r.gas), "-", ""];
    const headroom = r.budget - r.gas;
    if (headroom >= 0) return [label, fmt(r.gas), fmt(r.budget) + ours, fmt(headroom)];
    let verdict = `over by ${fmt(-headroom)}`;
    if (b?.acceptedOverrun !== undefined) {
      accepted.push(`${label}: ${b.acceptedOverrun}.`);
      verdict += ` (accepted ${accepted.length})`;
    }
    return [label, fmt(r.gas), fmt(r.budget) + ours, verdict];
  };
  const header = ["operation", "gas", "budget", "headroom"];
  const align: Align[] = ["left", "right", "right", "right"];
  const prefix = "compute: ";
  const storage = rows.filter((r) => !r.operation.startsWith(prefix)).map((r) => render(r, r.operation));
  const compute = rows
    .filter((r) => r.operation.startsWith(prefix))
    .map((r) => render(r, r.operation.slice(prefix.length)));
  const parts = [NOTICE, markdownTable(header, storage, align)];
  if (compute.length > 0) {
    parts.push("Compute leases (same run, same token and registry):", markdownTable(header, compute, align));
  }
  if (accepted.length > 0) {
    parts.push(
      "Accepted overruns (`scripts/bench/budgets.ts`):\n\n" +
        accepted.map((a, i) => wrap(`${i + 1}. ${a}`, "   ")).join("\n"),
    );
  }
  return parts.join("\n\n");
}

/** On-chain overhead per TiB-month (bench/economics.json) beside the reference price, S3 and the goals. */
export function economicsRegion(rows: readonly EconomicsRow[]): string {
  const s3 = s3PerTiBMonth();
  const body = rows.map((r) => {
    const goal = goalPercent(r.providerTiB, r.gwei);
    const ok = meetsGoal(r);
    return [
      formatBytes(r.fileSize),
      `${fmt(r.providerTiB)} TiB`,
      String(r.gwei),
      r.overheadPerTiBMonth.toFixed(4),
      `${r.percentOfReference.toFixed(2)}%`,
      `${((r.overheadPerTiBMonth / s3) * 100).toFixed(2)}%`,
      goal === null ? "-" : `<= ${goal}%`,
      ok === null ? "" : ok ? "met" : "**missed**",
    ];
  });
  const withGoal = rows.filter((r) => meetsGoal(r) !== null);
  const missed = withGoal.filter((r) => meetsGoal(r) === false);
  const summary =
    missed.length === 0
      ? `Every row with a goal meets it (${withGoal.length} rows).`
      : `${missed.length} of the ${withGoal.length} rows with a goal miss it: ` +
        missed
          .map((r) => `${formatBytes(r.fileSize)} files on ${fmt(r.providerTiB)} TiB at ${r.gwei} gwei`)
          .join("; ") +
        ".";
  return [
    NOTICE,
    markdownTable(
      [
        "file size",
        "provider",
        "gwei",
        "tokens per TiB-month",
        `of ${REFERENCE_PER_TIB_MONTH}`,
        "of S3",
        "goal",
        "verdict",
      ],
      body,
      ["left", "right", "right", "right", "right", "right", "right", "left"],
    ),
    wrap(
      `Reference: ${REFERENCE_PER_TIB_MONTH} tokens per TiB-month; S3 Standard ${S3_PER_TB_MONTH} per TB-month ` +
        `(${s3.toFixed(2)} per TiB-month). ${summary}`,
    ),
    "![On-chain overhead per TiB-month](bench/economics.svg)",
  ].join("\n\n");
}

/** Contract sizes, tightest runtime margin first. */
export function sizesRegion(sizes: SizeSnapshot): string {
  const rows = [...sizes.contracts]
    .sort((x, y) => x.runtimeMargin - y.runtimeMargin)
    .map((c) => [
      c.contract,
      c.kind,
      fmt(c.runtimeBytes),
      fmt(c.runtimeMargin),
      fmt(c.initcodeBytes),
      fmt(c.initcodeMargin),
      linkSummary(c),
    ]);
  return [
    NOTICE,
    markdownTable(
      [
        "contract",
        "kind",
        "runtime bytes",
        `margin under ${fmt(RUNTIME_LIMIT)}`,
        "init code bytes",
        `margin under ${fmt(INITCODE_LIMIT)}`,
        "linked libraries",
      ],
      rows,
      ["left", "left", "right", "right", "right", "right", "left"],
    ),
  ].join("\n\n");
}

/** "Each time is the median of N runs ..." when the runs were repeated, else undefined. */
function repeatsNote(runs: readonly { repeats?: number | undefined }[]): string | undefined {
  const counts = [...new Set(runs.map((r) => r.repeats ?? 1))];
  const [only] = counts;
  if (counts.length !== 1 || only === undefined || only < 2) return undefined;
  return (
    `Each time is the median of ${only} runs (every sample, the CPU seconds of the prepare and the restore, and ` +
    "those of the client and of the agents, are in `bench/data.json`)."
  );
}

/** Data path figures (bench/data.json). */
export function dataRegion(d: DataBench): string {
  const mbps = (n: number) => fmt(Math.round(n));
  const rows = [
    [
      `piece commitments, ${d.threads} cores / 1 core`,
      `${mbps(d.commitMBps)} / ${mbps(d.commitSingleThreadMBps)} MB/s`,
    ],
    [
      "`openssl speed -evp sha256` (same run)",
      `${mbps(d.opensslSha256MBps)} MB/s — commitments at ${Math.round(d.commitVsOpensslPercent)}% of it`,
    ],
    [
      "AES-256-GCM in 256 KiB chunks / Reed-Solomon (k=2, m=1)",
      `${mbps(d.encryptMBps)} / ${mbps(d.erasureMBps)} MB/s`,
    ],
    [
      "`strata store` with 3 local agents (k=2, m=1, until every data set holds its piece on chain)",
      `${d.storeSeconds} s`,
    ],
    ["`strata retrieve` (verified byte for byte)", `${d.retrieveSeconds} s`],
    [
      "peak RSS: store client / retrieve client / agent",
      `${fmt(d.storeClientPeakRssMB)} / ${fmt(d.retrieveClientPeakRssMB)} / ${fmt(d.agentPeakRssMB)} MB`,
    ],
    ...(typeof d.smallFiles === "number" &&
    typeof d.smallFilesStoreSeconds === "number" &&
    typeof d.smallFilesGasPerFile === "number"
      ? [
          [
            `\`strata store <folder>\` of ${fmt(d.smallFiles)} small files` +
              (typeof d.smallFilesMiB === "number"
                ? ` (10 KiB–1 MiB, ${fmt(Math.round(d.smallFilesMiB))} MiB in all)`
                : "") +
              " (packed, until on chain)",
            `${d.smallFilesStoreSeconds} s, ${fmt(d.smallFilesGasPerFile)} gas per file`,
          ],
        ]
      : []),
  ];
  const runs = (d.runs ?? []).map((r) => {
    const s = (n: number | null) => (n === null ? "n/a" : `${n} s`);
    const m = (n: number | null) => (n === null ? "n/a" : fmt(n));
    const pct = (n: number | null | undefined) => (n == null ? "n/a" : `${n}%`);
    return [
      `${fmt(r.fileMiB)} MiB`,
      `${r.prepareSeconds} s`,
      s(r.storeSeconds),
      pct(r.storeVsPreparePercent),
      `${r.restoreSeconds} s`,
      s(r.retrieveSeconds),
      pct(r.retrieveVsRestorePercent),
      `${m(r.storeClientPeakRssMB)} / ${m(r.retrieveClientPeakRssMB)} / ${m(r.agentPeakRssMB)} MB`,
    ];
  });
  const permanent = (d.runs ?? []).flatMap((r) =>
    r.permanentCodeSeconds === undefined || r.permanentCodeSeconds === null
      ? []
      : [
          [
            `${fmt(r.fileMiB)} MiB`,
            `${r.permanentCodeSeconds} s`,
            r.permanentReadSeconds == null ? "n/a" : `${r.permanentReadSeconds} s`,
            r.permanentReadDecodeSeconds == null ? "n/a" : `${r.permanentReadDecodeSeconds} s`,
            r.permanentPeakRssMB == null ? "n/a" : `${fmt(r.permanentPeakRssMB)} MB`,
          ],
        ],
  );
  return [
    NOTICE,
    `Data path (\`npm run bench:data\`, ${d.fileMiB} MiB file, \`bench/data.json\`, measured ${day(d.measuredAt)}):`,
    markdownTable(["measure", "value"], rows, ["left", "right"]),
    ...(runs.length === 0
      ? []
      : [
          wrap(
            "Per file size — the streaming pipeline alone (prepare: read, encrypt, code, commit, write the pieces; " +
              "restore: read the data pieces, decrypt, write the file) beside `strata store` / `strata retrieve` " +
              "through 3 local agents, and their speed as a share of the pipeline's (goals: store ≥ 50 %, " +
              "retrieve ≥ 70 %); peak RSS of the store client / retrieve client / agent. " +
              (repeatsNote(d.runs ?? []) ?? "One run of each."),
          ),
          markdownTable(
            [
              "file",
              "prepare",
              "store",
              "store / prepare",
              "restore",
              "retrieve",
              "retrieve / restore",
              "peak RSS",
            ],
            runs,
            ["right", "right", "right", "right", "right", "right", "right", "right"],
          ),
        ]),
    ...(permanent.length === 0
      ? []
      : [
          wrap(
            "The same files as permanent files (k = 2 of n = 3, `strata store --permanent` / `strata get " +
              "--permanent` without the chain and agents, in a process of their own): coded into piece files a " +
              "segment at a time; read back from holders serving those files (pieces fetched to disk and checked, " +
              "then decoded into the output), with every piece and with data piece 0 unavailable; peak RSS:",
          ),
          markdownTable(["file", "code", "read back", "read back, decoding", "peak RSS"], permanent, [
            "right",
            "right",
            "right",
            "right",
            "right",
          ]),
        ]),
  ].join("\n\n");
}

/** Worker catch-up runs and steady state (bench/worker.json). */
export function workerRegion(w: WorkerBench): string {
  const rows = w.runs.map((r) => [
    fmt(r.dataSets),
    fmt(r.events),
    `${r.seconds.toFixed(1)} s`,
    fmt(r.eventsPerSecond),
    r.peakRssMB === null ? "n/a" : `${fmt(r.peakRssMB)} MB`,
  ]);
  const steady = [
    `Steady state with every data set active and all ${fmt(w.providers)} providers missing a period:`,
    w.steadyStateCpuPercent === null ? "CPU n/a," : `${w.steadyStateCpuPercent}% of one core,`,
    w.steadyStatePeakRssMB === undefined || w.steadyStatePeakRssMB === null
      ? ""
      : `peak ${fmt(w.steadyStatePeakRssMB)} MB,`,
    `${w.steadyStateReportsSent ?? "n/a"} missed-proof reports sent (measured ${day(w.measuredAt)}).`,
  ];
  return [
    NOTICE,
    markdownTable(["data sets", "events", "catch-up", "events/s", "peak RSS"], rows, [
      "right",
      "right",
      "right",
      "right",
      "right",
    ]),
    wrap(steady.filter((s) => s !== "").join(" ")),
  ].join("\n\n");
}

/**
 * The incentive model's margins (bench/incentives.json): one row per deviation, one column per parameter set;
 * negative margins (the deviation pays) in bold, residual deviations (the chain cannot see them) marked.
 */
export function incentivesRegion(rows: readonly IncentiveRow[]): string {
  const sets = [...new Set(rows.map((r) => r.parameterSet))];
  const deviations = [...new Set(rows.map((r) => r.deviation))];
  const residual = new Set<string>(RESIDUAL_DEVIATIONS);
  const body = deviations.map((deviation) => [
    deviation === "honest"
      ? "honest profit per month"
      : residual.has(deviation)
        ? `${deviation} (residual)`
        : deviation,
    ...sets.map((set) => {
      const row = rows.find((r) => r.parameterSet === set && r.deviation === deviation);
      if (row === undefined) return "-";
      const text = row.margin.toFixed(2);
      return row.margin < 0 ? `**${text}**` : text;
    }),
  ]);
  const paying = rows.filter((r) => r.deviation !== "honest" && !residual.has(r.deviation) && r.margin < 0);
  const losing = rows.filter((r) => r.deviation === "honest" && r.margin < 0);
  const verdict =
    paying.length === 0 && losing.length === 0
      ? "No deviation the chain can see pays in any shipped parameter set, and honest storage is profitable in all."
      : `${paying.length + losing.length} problem(s): ` +
        [...paying, ...losing].map((r) => `${r.deviation} in ${r.parameterSet}`).join("; ") +
        ".";
  return [
    NOTICE,
    markdownTable(["deviation", ...sets.map((s) => `${s} margin`)], body, [
      "left",
      ...sets.map((): Align => "right"),
    ]),
    wrap(
      "Margin = expected loss − expected gain in tokens over one month, for a 10 TiB provider (or one lease) on " +
        "the agent's default terms at 0.01 gwei; negative (bold) means the deviation pays. Residual rows are " +
        `deviations no on-chain rule can see, quantified in docs/ECONOMICS.md. ${verdict}`,
    ),
    "![Margins of deviations and honest profit](bench/incentives.svg)",
  ].join("\n\n");
}

function day(iso: string): string {
  return iso.slice(0, 10);
}

export interface ReadmeInputs {
  gas: readonly GasRow[];
  budgets: readonly GasBudget[];
  sizes: SizeSnapshot;
  data: DataBench;
  worker: WorkerBench;
  economics: readonly EconomicsRow[];
  incentives: readonly IncentiveRow[];
}

/** `readme` with every generated region rewritten (before formatting). */
export function renderReadme(readme: string, inputs: ReadmeInputs): string {
  const bodies: Record<RegionName, string> = {
    gas: gasRegion(inputs.gas, inputs.budgets),
    economics: economicsRegion(inputs.economics),
    sizes: sizesRegion(inputs.sizes),
    data: dataRegion(inputs.data),
    worker: workerRegion(inputs.worker),
    incentives: incentivesRegion(inputs.incentives),
  };
  let out = readme;
  for (const name of REGIONS) out = replaceRegion(out, name, bodies[name]);
  return out;
}

/** Names of the regions whose body differs between `current` and `expected` (both formatted). */
export function staleRegions(current: string, expected: string): string[] {
  return REGIONS.filter((name) => regionBody(current, name) !== regionBody(expected, name));
}
