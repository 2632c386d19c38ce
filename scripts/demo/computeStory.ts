/**
 * The compute half of the demo, with real processes: a tenant posts an order for a small Node workload, the
 * provider agents bid from their price policies, the tenant accepts the cheapest, the winner starts the
 * workload and sends heartbeats, the tenant tops up. Then the winner vanishes: the worker reports its missed
 * heartbeats (their time is not paid) and the lease closes with a collateral penalty to the tenant. A second,
 * thinly funded lease runs until its escrow is exhausted while its provider's agent is stalled; the worker
 * closes it for the close bounty, and the agent, once it resumes, stops the workload.
 */
import { tokens } from "./summary.js";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { LeaseCloseReason } from "../../offchain/sdk/chain/enums.js";
import { ComputeMarket__factory, StorageMarket__factory } from "../../typechain-types/index.js";
import type { LocalChain } from "../lib/localChain.js";
import {
  devAddress,
  strataCli,
  until,
  type RunningAgent,
  type RunningWorker,
} from "../lib/localProcesses.js";
import type { Progress } from "./progress.js";
import { advanceProving } from "./proving.js";
import { StrataError } from "../../offchain/sdk/errors.js";

export interface ComputeStoryInput {
  chain: LocalChain;
  progress: Progress;
  /** Agents still running, with compute enabled. */
  agents: RunningAgent[];
  worker: RunningWorker;
  tenantAccount: number;
  logDir: string;
}

export interface ComputeStoryResult {
  /** Provider of the lease that was closed for missed heartbeats. */
  leaseProvider: string;
  leases: { id: string; provider: string; closedBy: string; reason: string }[];
}

const MISSED_HEARTBEATS = LeaseCloseReason.value.MissedHeartbeats;
const reasonName = (reason: bigint): string => LeaseCloseReason.nameOf(reason) ?? `reason ${reason}`;
const INSUFFICIENT_FUNDS = LeaseCloseReason.value.InsufficientFunds;

/**
 * The workload (manifest v2): a small Node backend that counts visits in a file on its persistent volume, prints
 * progress every second and answers HTTP on port 8080, reached only through its provider agent's ingress.
 */
const WORKLOAD = {
  version: 2,
  services: {
    web: {
      run: {
        kind: "node",
        script:
          "const fs = require('fs'); const file = process.env.STRATA_VOLUME_DATA + '/visits';\n" +
          "let n = 0; setInterval(() => { n++; let x = 0; for (let i = 0; i < 1e5; i++) x += i; " +
          "console.log(JSON.stringify({ tick: n, x })); }, 1000);\n" +
          "require('http').createServer((req, res) => { const visits = Number(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : 0) + 1;" +
          " fs.writeFileSync(file, String(visits)); res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });" +
          " res.end('<h1>Hello from a Strata lease</h1><p>visit ' + visits + '</p>'); }).listen(8080, '127.0.0.1');",
      },
      resources: { cpuMillicores: 250, memoryMiB: 192 },
      expose: [8080],
      health: { port: 8080, path: "/", intervalSeconds: 5, timeoutSeconds: 2, failures: 3 },
      volumes: { data: "/data" },
      restart: "on-failure",
    },
  },
  volumes: { data: { sizeMiB: 16 } },
};

export async function runComputeStory(input: ComputeStoryInput): Promise<ComputeStoryResult> {
  const { chain, worker } = input;
  const p: Progress = input.progress;
  const strata = strataCli(chain);
  const computeAddress = chain.addresses.computeMarket;
  if (computeAddress === undefined)
    throw new StrataError("DEPLOYMENT_NOT_FOUND", `${chain.deploymentFile} has no ComputeMarket`);
  const market = ComputeMarket__factory.connect(computeAddress, chain.provider);
  const period = (await market.parameters()).heartbeatPeriod;
  const tenant = devAddress(input.tenantAccount);
  const now = async () => BigInt((await chain.provider.getBlock("latest"))?.timestamp ?? 0);
  // Heartbeat periods are short next to proving periods: every move of the clock lets the agents still up (and not
  // stalled on purpose) prove the storage periods it crosses, so nobody's data sets fault for the story's jumps.
  const storage = StorageMarket__factory.connect(chain.addresses.market, chain.provider);
  const stopped = new Set<string>();
  const advance = async (seconds: bigint) =>
    advanceProving(
      chain,
      storage,
      (await now()) + seconds,
      input.agents.filter((a) => !stopped.has(a.address)).map((a) => a.address),
    );
  const heartbeats = async (leaseId: bigint) =>
    (await market.queryFilter(market.filters.HeartbeatPosted(leaseId))).length;
  const byAddress = (address: string) =>
    input.agents.find((a) => a.address.toLowerCase() === address.toLowerCase());

  p.step("A tenant orders compute; provider agents bid from their price policies; the cheapest bid wins");
  await strata(["dev", "mint", "1000", "--to", tenant], 0);
  const workloadFile = path.join(chain.workDir, "workload.json");
  writeFileSync(workloadFile, JSON.stringify(WORKLOAD, null, 2));
  const order = async (deposit: string) => {
    const out = await strata(
      [
        "lease",
        "order",
        "--workload",
        workloadFile,
        "--max-price",
        "40",
        "--deposit",
        deposit,
        "--expires",
        "3600",
      ],
      input.tenantAccount,
    );
    return BigInt(String(out.orderId));
  };
  const awaitBids = async (orderId: bigint, count: number) =>
    until(`${count} bids on order ${orderId}`, async () => {
      const out = await strata(["lease", "bids", orderId.toString()], input.tenantAccount);
      const bids = out.bids as { provider: string; pricePerHour: string; pricePerSecondRaw: string }[];
      return bids.length >= count ? bids : undefined;
    });
  const firstOrder = await order("50");
  // Every live agent bids (compute is on for all of them): wait for all, so the cheapest seen here is the cheapest
  // `lease accept --cheapest` chooses from (a bid arriving after a partial snapshot made the check racy).
  const bids = await awaitBids(firstOrder, input.agents.length);
  for (const b of bids) p.detail(`bid from ${b.provider}: ${b.pricePerHour} tokens/h`);
  const accepted = await strata(
    ["lease", "accept", firstOrder.toString(), "--cheapest"],
    input.tenantAccount,
  );
  const leaseA = BigInt(String(accepted.leaseId));
  const winner = byAddress(String(accepted.provider));
  p.check(winner !== undefined, `lease ${leaseA} went to an unknown provider ${String(accepted.provider)}`);
  const cheapest = bids.reduce((min, b) =>
    BigInt(b.pricePerSecondRaw) < BigInt(min.pricePerSecondRaw) ? b : min,
  );
  p.check(cheapest.provider.toLowerCase() === winner.address.toLowerCase(), "the cheapest bid did not win");
  p.detail(
    `lease ${leaseA} with ${winner.address} at ${String(accepted.pricePerHour)} tokens/h; losing bidders take their collateral back`,
  );

  p.step("The workload runs; heartbeats flow each period; the tenant tops up");
  await until("the workload to start", async () => {
    const status = await strata(["lease", "status", leaseA.toString()], input.tenantAccount);
    return JSON.stringify(status.agent ?? {}).includes("running") ? true : undefined;
  });
  for (let i = 0; i < 2; i++) {
    const seen = await heartbeats(leaseA);
    await advance(period);
    await until(`heartbeat ${seen + 1} of lease ${leaseA}`, async () =>
      (await heartbeats(leaseA)) > seen ? true : undefined,
    );
  }
  p.detail(`${await heartbeats(leaseA)} heartbeats on chain; the workload is running at ${winner.endpoint}`);
  const runtime = (await (await fetch(`${winner.endpoint}/v1/compute/runtime`)).json()) as {
    runtime: string;
  };
  p.check(
    runtime.runtime === "isolated",
    `the lease runs in the ${runtime.runtime} runtime, not the isolated one`,
  );
  const site = `${winner.endpoint}/v1/leases/${leaseA}/web/`;
  const page = await until("the lease's web service to answer through the ingress", async () => {
    const answer = await fetch(site).catch(() => undefined);
    return answer?.ok === true ? answer.text() : undefined;
  });
  p.check(
    page.includes("Hello from a Strata lease"),
    `the lease's web service answered ${page.slice(0, 80)}`,
  );
  p.detail(
    `isolated runtime (own namespaces, cgroup limits, a 16 MiB volume); its web service answers at ${site}`,
  );
  await strata(["lease", "topup", leaseA.toString(), "10"], input.tenantAccount);
  p.detail("the tenant topped up 10 tokens");

  p.step(
    `Provider ${winner.address} vanishes: the worker reports its missed heartbeats; the lease closes with a penalty`,
  );
  stopped.add(winner.address);
  winner.process.kill("SIGKILL");
  const closedA = await until(
    "the lease to close for missed heartbeats",
    async () => {
      const closed = await market.queryFilter(market.filters.LeaseClosed(leaseA));
      if (closed[0] !== undefined) return closed[0];
      // Heartbeat periods pass until the missed ones, once reported, close the lease; then the report is the
      // worker's to send: moving the clock on meanwhile would only spend every data set's escrow on a slow machine.
      const [lease, accrual] = await Promise.all([market.getLease(leaseA), market.leaseAccrual(leaseA)]);
      if (lease.missedHeartbeats + accrual.reportablePeriods < lease.maxMissedHeartbeats)
        await advance(period);
      return undefined;
    },
    120_000,
  );
  const reports = await market.queryFilter(market.filters.MissedHeartbeatsReported(leaseA));
  p.check(reports.length > 0, "no missed heartbeats were reported");
  p.check(
    reports.every((r) => r.args.reporter.toLowerCase() === worker.address.toLowerCase()),
    "missed heartbeats were reported by someone other than the worker",
  );
  p.check(
    closedA.args.reason === MISSED_HEARTBEATS,
    `lease ${leaseA} closed for ${reasonName(closedA.args.reason)}`,
  );
  p.check(closedA.args.compensationToTenant > 0n, "the tenant was not compensated");
  const missed = reports.reduce((s, r) => s + r.args.count, 0n);
  p.detail(
    `${missed} missed period(s) reported by the worker (bounty from the provider's collateral); not paid to the provider`,
  );
  p.detail(
    `lease closed: ${tokens(closedA.args.compensationToTenant)} tokens of collateral to the tenant, ${tokens(closedA.args.refundedToTenant)} tokens of escrow refunded`,
  );

  const remaining = input.agents.filter((a) => a !== winner);
  p.step(
    "A thinly funded lease runs dry while its provider's agent stalls: the worker closes it for the bounty",
  );
  // Deposit = the 1-token close bounty + escrow for well under one heartbeat period at the bid prices.
  const secondOrder = await order("1.3");
  await awaitBids(secondOrder, 1);
  const acceptedB = await strata(
    ["lease", "accept", secondOrder.toString(), "--cheapest"],
    input.tenantAccount,
  );
  const leaseB = BigInt(String(acceptedB.leaseId));
  const providerB = remaining.find(
    (a) => a.address.toLowerCase() === String(acceptedB.provider).toLowerCase(),
  );
  p.check(providerB !== undefined, `lease ${leaseB} went to an unexpected provider`);
  await until(`the first heartbeat of lease ${leaseB}`, async () =>
    (await heartbeats(leaseB)) > 0 ? true : undefined,
  );
  stopped.add(providerB.address);
  providerB.process.kill("SIGSTOP");
  try {
    // Jump to just past the moment the escrow is exhausted (within the first heartbeat period, so no heartbeat
    // is missed yet): only an overdrawn-lease close applies, and the stalled agent cannot take it.
    const accrual = await market.leaseAccrual(leaseB);
    p.detail(
      `escrow funded until ${new Date(Number(accrual.fundedUntil) * 1000).toISOString()} (chain time)`,
    );
    const target = accrual.fundedUntil + 2n;
    const t = await now();
    if (t < target) await advance(target - t);
    const closedB = await until(
      "the worker to close the overdrawn lease",
      async () => (await market.queryFilter(market.filters.LeaseClosed(leaseB)))[0],
      60_000,
    );
    p.check(
      closedB.args.reason === INSUFFICIENT_FUNDS,
      `lease ${leaseB} closed for ${reasonName(closedB.args.reason)}`,
    );
    p.check(
      closedB.args.closer.toLowerCase() === worker.address.toLowerCase(),
      "the overdrawn lease was not closed by the worker",
    );
    p.detail(
      `closed by the worker for ${tokens(closedB.args.bountyToCloser)} tokens; ${tokens(closedB.args.paidToProvider)} paid to the provider`,
    );
  } finally {
    providerB.process.kill("SIGCONT");
    stopped.delete(providerB.address);
  }
  await until("the stalled agent to notice the close and stop the workload", async () => {
    // The lease is closed: `lease status` says so with exit code 2, and still prints it.
    const status = await strata(["lease", "status", leaseB.toString()], input.tenantAccount, [0, 2]);
    return JSON.stringify(status.agent ?? {}).includes("running") ? undefined : true;
  });
  p.detail("the agent resumed, saw the lease closed and stopped the workload");
  const closed = async (id: bigint) => (await market.queryFilter(market.filters.LeaseClosed(id)))[0];
  const rows = [];
  for (const [id, provider] of [
    [leaseA, winner.address],
    [leaseB, providerB.address],
  ] as const) {
    const c = await closed(id);
    rows.push({
      id: id.toString(),
      provider,
      closedBy: c?.args.closer ?? "",
      reason: LeaseCloseReason.nameOf(c?.args.reason ?? 0n) ?? "?",
    });
  }
  return { leaseProvider: winner.address, leases: rows };
}
