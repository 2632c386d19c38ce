import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { GasBudget } from "../../scripts/bench/budgets.js";
import type { DataBench, WorkerBench } from "../../scripts/bench/files.js";
import { ROOT } from "../../scripts/bench/files.js";
import { INITCODE_LIMIT, RUNTIME_LIMIT } from "../../scripts/bench/snapshot.js";
import {
  dataRegion,
  economicsRegion,
  gasRegion,
  markdownTable,
  regionBody,
  renderReadme,
  replaceRegion,
  sizesRegion,
  staleRegions,
  workerRegion,
  wrap,
} from "../../scripts/docs/readmeRegions.js";
import { expectedReadme } from "../../scripts/docs/readme.js";

const data: DataBench = {
  fileMiB: 256,
  commitMBps: 680.2,
  commitSingleThreadMBps: 364.3,
  opensslSha256MBps: 1002.2,
  commitVsOpensslPercent: 67.9,
  encryptMBps: 936.3,
  erasureMBps: 1555.5,
  storeSeconds: 13.1,
  retrieveSeconds: 4.95,
  storeClientPeakRssMB: 1074,
  retrieveClientPeakRssMB: 730,
  agentPeakRssMB: 645,
  threads: 2,
  measuredAt: "2026-11-21T01:06:31.026Z",
};

const worker: WorkerBench = {
  dataSets: 10_000,
  providers: 50,
  steadyStateCpuPercent: 11.6,
  steadyStateReportsSent: 50,
  runs: [
    { dataSets: 2500, events: 2744, seconds: 2.14, eventsPerSecond: 1280, peakRssMB: 153 },
    { dataSets: 10_000, events: 10_394, seconds: 5.83, eventsPerSecond: 1782, peakRssMB: 191 },
  ],
  measuredAt: "2026-11-21T03:55:21.744Z",
};

const budgets: GasBudget[] = [
  { operation: "publish one deal", budget: 150_000, basis: "PRODUCT: create a data set" },
  { operation: "answer a challenge", budget: 120_000, basis: "ours: like a proof" },
  {
    operation: "first report",
    budget: 80_000,
    basis: "PRODUCT",
    acceptedOverrun: "creates three storage words",
  },
  { operation: "compute: lease heartbeat", budget: 40_000, basis: "PRODUCT" },
];

const README = [
  "# Title",
  "",
  "<!-- generated:gas -->",
  "old gas",
  "<!-- /generated:gas -->",
  "prose between",
  "<!-- generated:economics -->",
  "<!-- /generated:economics -->",
  "<!-- generated:sizes -->",
  "<!-- /generated:sizes -->",
  "<!-- generated:data -->",
  "<!-- /generated:data -->",
  "<!-- generated:worker -->",
  "<!-- /generated:worker -->",
  "<!-- generated:incentives -->",
  "<!-- /generated:incentives -->",
  "tail",
].join("\n");

/** The cells of the Markdown table row whose first cell is `first`. */
function row(text: string, first: string): string[] | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`| ${first} |`));
  return line
    ?.split("|")
    .slice(1, -1)
    .map((c) => c.trim());
}

describe("README tables (scripts/docs/readmeRegions.ts)", () => {
  describe("regions", () => {
    it("replaceRegion rewrites only the body between the markers", () => {
      const out = replaceRegion(README, "gas", "new gas");
      expect(regionBody(out, "gas")).to.equal("new gas");
      expect(out).to.contain(
        "# Title\n\n<!-- generated:gas -->\n\nnew gas\n\n<!-- /generated:gas -->\nprose between",
      );
      expect(out.endsWith("tail")).to.equal(true);
    });

    it("rejects a missing, reversed or repeated region with DOCS_STALE", () => {
      for (const text of [
        "no markers",
        "<!-- /generated:gas --> <!-- generated:gas -->",
        "<!-- generated:gas --><!-- /generated:gas --><!-- generated:gas --><!-- /generated:gas -->",
      ]) {
        expect(() => replaceRegion(text, "gas", "x"))
          .to.throw()
          .with.property("code", "DOCS_STALE");
      }
    });

    it("staleRegions names the regions whose body differs", () => {
      const fresh = renderReadme(README, {
        gas: [],
        budgets: [],
        sizes: sizesOf(),
        data,
        worker,
        economics: [],
        incentives: [],
      });
      expect(staleRegions(fresh, fresh)).to.deep.equal([]);
      const edited = fresh.replace("1,074 / 730 / 645 MB", "1,000 / 730 / 645 MB");
      expect(staleRegions(edited, fresh)).to.deep.equal(["data"]);
    });
  });

  it("economicsRegion marks missed goals, leaves rows without a goal unmarked and names every miss", () => {
    const row = (fileSize: number, providerTiB: number, gwei: number, percentOfReference: number) => ({
      fileSize,
      providerTiB,
      gwei,
      overheadPerTiBMonth: (percentOfReference / 100) * 2.5,
      percentOfReference,
    });
    const body = economicsRegion([
      row(2 ** 30, 1, 0.01, 40),
      row(2 ** 30, 10, 0.01, 6),
      row(2 ** 35, 100, 0.1, 9),
    ]);
    const lines = body.split("\n");
    const line = (start: string) => lines.find((l) => l.startsWith(start)) ?? "";
    expect(line("| 1 GiB | 1 TiB")).to.match(/\| - \| {2}\|$/);
    expect(line("| 1 GiB | 10 TiB")).to.contain("| <= 5% | **missed** |");
    expect(line("| 32 GiB | 100 TiB")).to.contain("| <= 10% | met |");
    expect(body.replaceAll("\n", " ")).to.contain(
      "1 of the 2 rows with a goal miss it: 1 GiB files on 10 TiB at 0.01 gwei.",
    );
    expect(body).to.contain("](bench/economics.svg)");
  });

  it("markdownTable aligns numbers right and escapes pipes", () => {
    expect(markdownTable(["a", "b"], [["x|y", "1"]], ["left", "right"])).to.equal(
      "| a | b |\n| --- | ---: |\n| x\\|y | 1 |",
    );
  });

  it("wrap keeps prose within 110 columns and indents continuation lines", () => {
    const text = wrap(`1. ${"word ".repeat(60)}`, "   ");
    const lines = text.split("\n");
    expect(lines.length).to.be.greaterThan(2);
    for (const line of lines) expect(line.length).to.be.at.most(110);
    for (const line of lines.slice(1)) expect(line.startsWith("   word")).to.equal(true);
  });

  it("gas: headroom within budget, '(ours)' budgets, numbered accepted overruns, compute rows in their own table", () => {
    const body = gasRegion(
      [
        { operation: "publish one deal", gas: 137_788, budget: 150_000 },
        { operation: "answer a challenge", gas: 75_765, budget: 120_000 },
        { operation: "first report", gas: 145_075, budget: 80_000 },
        { operation: "terminate", gas: 86_272, budget: null },
        { operation: "compute: lease heartbeat", gas: 28_877, budget: 40_000 },
      ],
      budgets,
    );
    expect(row(body, "publish one deal")).to.deep.equal(["publish one deal", "137,788", "150,000", "12,212"]);
    expect(row(body, "answer a challenge")).to.deep.equal([
      "answer a challenge",
      "75,765",
      "120,000 (ours)",
      "44,235",
    ]);
    expect(row(body, "first report")).to.deep.equal([
      "first report",
      "145,075",
      "80,000",
      "over by 65,075 (accepted 1)",
    ]);
    expect(row(body, "terminate")).to.deep.equal(["terminate", "86,272", "-", ""]);
    expect(row(body, "lease heartbeat")).to.deep.equal(["lease heartbeat", "28,877", "40,000", "11,123"]);
    expect(body.indexOf("Compute leases")).to.be.greaterThan(body.indexOf("| terminate |"));
    expect(body).to.contain("1. first report: creates three storage words.");
  });

  it("an over-budget row without an accepted reason shows the miss and no footnote", () => {
    const body = gasRegion([{ operation: "publish one deal", gas: 150_001, budget: 150_000 }], budgets);
    expect(row(body, "publish one deal")?.[3]).to.equal("over by 1");
    expect(body).not.to.contain("Accepted overruns");
  });

  it("sizes: tightest runtime margin first, margins under both limits, the library split", () => {
    const body = sizesRegion(sizesOf());
    expect(body).to.contain(`margin under ${RUNTIME_LIMIT.toLocaleString("en-US")}`);
    expect(body).to.contain(`margin under ${INITCODE_LIMIT.toLocaleString("en-US")}`);
    expect(row(body, "StorageMarket")).to.deep.equal([
      "StorageMarket",
      "contract",
      "24,197",
      "379",
      "27,394",
      "21,758",
      "links ProvingLib",
    ]);
    expect(row(body, "ProvingLib")?.[6]).to.equal("linked into StorageMarket");
    expect(body.indexOf("| StorageMarket |")).to.be.lessThan(body.indexOf("| ProvingLib |"));
  });

  it("data: the figures of bench/data.json, rounded as the README shows them", () => {
    const body = dataRegion(data);
    expect(body).to.contain("256 MiB file");
    expect(row(body, "piece commitments, 2 cores / 1 core")?.[1]).to.equal("680 / 364 MB/s");
    expect(row(body, "`openssl speed -evp sha256` (same run)")?.[1]).to.equal(
      "1,002 MB/s — commitments at 68% of it",
    );
    expect(row(body, "AES-256-GCM in 256 KiB chunks / Reed-Solomon (k=2, m=1)")?.[1]).to.equal(
      "936 / 1,556 MB/s",
    );
    expect(row(body, "peak RSS: store client / retrieve client / agent")?.[1]).to.equal(
      "1,074 / 730 / 645 MB",
    );
  });

  it("data: the small-files row once measured, none before", () => {
    expect(dataRegion(data)).to.not.contain("small files");
    const body = dataRegion({
      ...data,
      smallFiles: 10_000,
      smallFilesStoreSeconds: 70.14,
      smallFilesGasPerFile: 146,
    });
    expect(row(body, "`strata store <folder>` of 10,000 small files (packed, until on chain)")?.[1]).to.equal(
      "70.14 s, 146 gas per file",
    );
  });

  /** One file size's figures, as bench:data writes them. */
  const dataRun = {
    fileMiB: 1024,
    prepareSeconds: 9.5,
    restoreSeconds: 7.25,
    storeSeconds: 15.1,
    retrieveSeconds: 9.9,
    storeClientPeakRssMB: 301,
    retrieveClientPeakRssMB: 212,
    agentPeakRssMB: 1203,
  };

  it("data: one row per file size, n/a where store and retrieve were not measured", () => {
    const run = dataRun;
    const body = dataRegion({
      ...data,
      runs: [
        { ...run, storeVsPreparePercent: 63, retrieveVsRestorePercent: 73 },
        { ...run, fileMiB: 4096, storeSeconds: null, retrieveSeconds: null, agentPeakRssMB: null },
      ],
    });
    expect(row(body, "1,024 MiB")).to.deep.equal([
      "1,024 MiB",
      "9.5 s",
      "15.1 s",
      "63%",
      "7.25 s",
      "9.9 s",
      "73%",
      "301 / 212 / 1,203 MB",
    ]);
    expect(row(body, "4,096 MiB")).to.deep.equal([
      "4,096 MiB",
      "9.5 s",
      "n/a",
      "n/a",
      "7.25 s",
      "n/a",
      "n/a",
      "301 / 212 / n/a MB",
    ]);
    expect(body).to.contain("One run of each.");
    const repeated = dataRegion({
      ...data,
      runs: [
        { ...run, repeats: 3 },
        { ...run, fileMiB: 4096, repeats: 3 },
      ],
    });
    expect(repeated).to.contain("median of 3 runs");
    expect(repeated).to.not.contain("One run of each.");
    expect(dataRegion(data)).to.not.contain("Per file size");
  });

  it("data: the permanent-file table only when a run measured it, n/a where decoding was not", () => {
    const run = dataRun;
    expect(dataRegion({ ...data, runs: [run] })).to.not.contain("permanent files");
    const body = dataRegion({
      ...data,
      runs: [
        {
          ...run,
          permanentCodeSeconds: 6.1,
          permanentReadSeconds: 8.25,
          permanentReadDecodeSeconds: 9,
          permanentPeakRssMB: 290,
        },
        {
          ...run,
          fileMiB: 4096,
          permanentCodeSeconds: 30,
          permanentReadSeconds: 41.5,
          permanentReadDecodeSeconds: null,
          permanentPeakRssMB: 1290,
        },
      ],
    });
    expect(body).to.contain("permanent files");
    const rows = body.split("\n").filter((line) => line.includes("MiB |") && line.includes("6.1 s"));
    expect(rows).to.have.length(1);
    expect(row(body.slice(body.indexOf("permanent files")), "4,096 MiB")).to.deep.equal([
      "4,096 MiB",
      "30 s",
      "41.5 s",
      "n/a",
      "1,290 MB",
    ]);
  });

  it("worker: one row per catch-up run and the steady state, n/a where a figure was not measured", () => {
    const body = workerRegion(worker);
    expect(row(body, "10,000")).to.deep.equal(["10,000", "10,394", "5.8 s", "1,782", "191 MB"]);
    expect(body).to.contain(
      "all 50 providers missing a period: 11.6% of one core, 50\nmissed-proof reports sent",
    );
    const partial = workerRegion({ ...worker, steadyStateCpuPercent: null, steadyStatePeakRssMB: 184 });
    expect(partial).to.contain("CPU n/a, peak 184 MB,");
  });

  it("the committed README.md is current (what `npm run docs:check` checks)", async () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    expect(await expectedReadme(readme)).to.equal(readme);
  });
});

function sizesOf() {
  return {
    limits: { runtimeBytes: RUNTIME_LIMIT, initcodeBytes: INITCODE_LIMIT },
    contracts: [
      {
        contract: "ProvingLib",
        source: "contracts/storage/libraries/ProvingLib.sol",
        kind: "library" as const,
        runtimeBytes: 5380,
        runtimeMargin: RUNTIME_LIMIT - 5380,
        initcodeBytes: 5432,
        initcodeMargin: INITCODE_LIMIT - 5432,
        linkedLibraries: [],
        linkedInto: ["StorageMarket"],
      },
      {
        contract: "StorageMarket",
        source: "contracts/storage/StorageMarket.sol",
        kind: "contract" as const,
        runtimeBytes: 24_197,
        runtimeMargin: RUNTIME_LIMIT - 24_197,
        initcodeBytes: 27_394,
        initcodeMargin: INITCODE_LIMIT - 27_394,
        linkedLibraries: ["ProvingLib"],
        linkedInto: [],
      },
    ],
  };
}
