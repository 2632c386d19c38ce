/**
 * The main job end to end: `npm run demo` (scripts/demo.ts) on an embedded node, with its JSON summary read
 * back from the chain. The demo checks every step itself and exits 1 with the reason when one misbehaves; this
 * test also checks the summary it prints.
 */
import { expect } from "chai";
import path from "node:path";
import { ROOT, run } from "../../scripts/lib/localChain.js";

interface DemoSummary {
  ok: boolean;
  dataSets: { id: string; state: string; compensation: string; pricePerTiBMonth: string; bytes: string }[];
  repair: { repairer: string; reward: string; providerPaid: string; dataSetId: string };
  permanent: {
    paid: string;
    principal: string;
    pieces: number;
    holders: string[];
    solvency: { principalLeft: string; status: string; livePieces: number; yearsCovered: number };
  };
  proofs: number;
  missedPeriodsReported: number;
  retrievalChallenges: { opened: number; failed: number };
  gas: { operation: string; count: number; averageGas: number }[];
  compute: { leases: { reason: string; closedBy: string }[] };
  parties: { role: string; address: string }[];
}

describe("e2e: npm run demo", function () {
  this.timeout(900_000);

  it("runs the whole storage, repair and compute story and prints a summary read back from the chain", async function () {
    const tsx = path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
    const result = await run([tsx, "scripts/demo.ts", "--embedded", "--json"], { timeoutMs: 840_000 });
    if (result.code !== 0) throw new Error(`demo failed (${result.code}):\n${result.stderr.slice(-6000)}`);
    const summary = JSON.parse(result.stdout) as DemoSummary;
    expect(summary.ok).to.equal(true);
    // The provider that lost its data is challenged and its data set ends. The offline one fails its samples too:
    // its challenge is enforced once enough time has passed (the repair chapter moves time on), so one or two.
    const failedSets = summary.dataSets.filter((d) => d.state === "ended: retrieval failed");
    expect(failedSets.length).to.be.within(1, 2);
    expect(summary.retrievalChallenges.failed).to.equal(failedSets.length);
    // The file's four data sets, one per repaired piece (client: the mandate's wallet; at most one repair per ended
    // data set), and one per piece of the permanent file (client: PermanentStorage).
    const permanentSets = summary.permanent.pieces;
    expect(summary.dataSets.length).to.be.within(5 + permanentSets, 4 + failedSets.length + permanentSets);
    // The data sets still live hold the file's pieces (an ended data set holds nothing).
    const live = summary.dataSets.filter((d) => d.state === "live");
    expect(live.length).to.be.at.least(2);
    // (A repair data set opened near the end may still be waiting for its piece; the chapter's own one holds it.)
    const repairSets = new Set(summary.dataSets.slice(4).map((d) => d.id));
    for (const set of live) if (!repairSets.has(set.id)) expect(set.bytes).to.not.equal("0");
    expect(live.find((d) => d.id === summary.repair.dataSetId)?.bytes).to.not.equal("0");
    expect(summary.proofs).to.be.at.least(8);
    expect(summary.missedPeriodsReported).to.be.at.least(1);
    const worker = summary.parties.find((p) => p.role === "worker (watcher)");
    expect(summary.repair.repairer).to.equal(worker?.address);
    expect(BigInt(summary.repair.reward)).to.be.greaterThan(0n);
    expect(BigInt(summary.repair.providerPaid)).to.be.greaterThan(0n);
    expect(summary.dataSets.map((d) => d.id)).to.include(summary.repair.dataSetId);
    expect(BigInt(summary.permanent.principal)).to.be.greaterThan(0n);
    // Every piece of the permanent file was placed by the agents and proven: the file is active.
    expect(summary.permanent.solvency.status).to.equal("active");
    expect(summary.permanent.solvency.livePieces).to.equal(summary.permanent.pieces);
    expect(new Set(summary.permanent.holders).size).to.equal(summary.permanent.pieces);
    expect(BigInt(summary.permanent.solvency.principalLeft)).to.be.lessThan(
      BigInt(summary.permanent.principal),
    );
    expect(summary.permanent.solvency.yearsCovered).to.equal(200);
    expect(summary.compute.leases.map((l) => l.reason)).to.deep.equal([
      "MissedHeartbeats",
      "InsufficientFunds",
    ]);
    expect(summary.compute.leases[1]?.closedBy).to.equal(worker?.address);
    const ops = new Map(summary.gas.map((g) => [g.operation, g]));
    for (const op of [
      "StorageMarket.topUp",
      "StorageMarket.createDataSet",
      "StorageMarket.updateDataSets",
      "StorageMarket.submitProof",
      "ComputeMarket.heartbeat",
    ])
      expect(ops.get(op)?.count ?? 0, op).to.be.greaterThan(0);
  });
});
