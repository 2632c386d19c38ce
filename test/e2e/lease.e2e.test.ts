/**
 * Compute leases end to end with real processes: a `hardhat node`, three `strata agent start` processes with
 * compute enabled (different margins), one `strata worker start` and the `strata lease` CLI. The story is the
 * demo's compute half (scripts/demo/computeStory.ts), which checks each step on chain: the tenant orders, the
 * agents bid, the cheapest wins, the workload runs and heartbeats flow, the tenant tops up; the winner's agent
 * is killed, the worker reports its missed heartbeats (their time is not paid) and the lease closes with a
 * penalty to the tenant; a thinly funded lease runs dry while its provider's agent stalls and the worker closes
 * it for the bounty.
 */
import { expect } from "chai";
import { startLocalChain, stopProcess, type LocalChain } from "../../scripts/lib/localChain.js";
import {
  startAgents,
  startWorker,
  type RunningAgent,
  type RunningWorker,
} from "../../scripts/lib/localProcesses.js";
import { runComputeStory } from "../../scripts/demo/computeStory.js";
import { enableCompute } from "../../scripts/demo/agentsConfig.js";
import { consoleProgress } from "../../scripts/demo/progress.js";
import { ComputeMarket__factory } from "../../typechain-types/index.js";
import { suiteFailed } from "../helpers/failures.js";

describe("e2e: compute leases with real agents, the worker and the CLI", function () {
  this.timeout(600_000);
  let chain: LocalChain;
  const agents: RunningAgent[] = [];
  let worker: RunningWorker | undefined;
  const lines: string[] = [];

  before(async function () {
    chain = await startLocalChain();
    agents.push(...(await startAgents(chain, [1, 2, 3], { configure: enableCompute })));
    worker = await startWorker(chain, 6);
  });

  after(async function () {
    if (suiteFailed(this)) console.error(lines.join("\n"));
    if (worker) await stopProcess(worker.process);
    for (const agent of agents) await stopProcess(agent.process);
    await chain.stop();
  });

  it("orders, bids, leases, heartbeats, tops up; a vanished provider is penalised; an overdrawn lease is closed", async function () {
    if (!worker) throw new Error("no worker");
    const result = await runComputeStory({
      chain,
      progress: consoleProgress((line) => lines.push(line)),
      agents,
      worker,
      tenantAccount: 7,
      logDir: chain.workDir,
    });
    expect(result.leases.map((l) => l.reason)).to.deep.equal(["MissedHeartbeats", "InsufficientFunds"]);
    const market = ComputeMarket__factory.connect(chain.addresses.computeMarket ?? "", chain.provider);
    const [first, second] = result.leases;
    const slashed = await market.queryFilter(market.filters.LeaseSlashed(undefined, BigInt(first?.id ?? 0)));
    // Each missed-heartbeat report pays its bounty from the collateral; the closing one also compensates the tenant.
    expect(slashed.length).to.be.at.least(2);
    expect(slashed.every((e) => e.args.toReporter > 0n || e.args.toTenant > 0n)).to.equal(true);
    expect(slashed[slashed.length - 1]?.args.toTenant).to.be.greaterThan(0n);
    expect(second?.closedBy).to.equal(worker.address);
    // The losing bidders took their collateral back.
    const withdrawn = await market.queryFilter(market.filters.BidWithdrawn());
    expect(withdrawn.length).to.be.at.least(1);
  });
});
