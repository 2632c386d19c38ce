/**
 * A second node none of us wrote: Anvil (Foundry, from the npm package @foundry-rs/anvil). The agents, the
 * worker, the CLI and the demo run against it unchanged; the worker's reorg handling meets a real
 * reorganisation (`anvil_reorg`); and the node is killed and restarted in the middle of a run (its chain kept
 * in a state file) without a missed duty or a duplicate report.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  ProviderRegistry__factory,
  StorageMarket__factory,
  TestStablecoin__factory,
} from "../../typechain-types/index.js";
import { devAccountWallet } from "../../offchain/sdk/chain/connect.js";
import { loadDeployment } from "../../offchain/sdk/chain/deployment.js";
import { silentLogger } from "../../offchain/runtime/logger.js";
import { WorkerDb } from "../../offchain/worker/db/index.js";
import type { HealthReport } from "../../offchain/worker/http/health.js";
import { Indexer } from "../../offchain/worker/indexer/indexer.js";
import { createMetrics } from "../../offchain/worker/metrics.js";
import { configureStorageOffer } from "../../scripts/demo/storageStory.js";
import {
  freePort,
  NODE,
  ROOT,
  run,
  startLocalChain,
  stopProcess,
  type LocalChain,
} from "../../scripts/lib/localChain.js";
import {
  devAddress,
  metricValue,
  startAgents,
  startWorker,
  strataCli,
  until,
  type RunningAgent,
  type RunningWorker,
} from "../../scripts/lib/localProcesses.js";
import { FAST_RPC, writeProcessWorkerConfig } from "../worker/helpers.js";
import { suiteFailed } from "../helpers/failures.js";

const WORKER_MAIN = path.join(ROOT, "offchain", "worker", "main.ts");

async function head(chain: LocalChain): Promise<{ number: number; timestamp: bigint }> {
  const block = await chain.provider.getBlock("latest");
  return { number: block?.number ?? 0, timestamp: BigInt(block?.timestamp ?? 0) };
}

async function health(url: string): Promise<HealthReport | undefined> {
  return fetch(`${url}/health`)
    .then((r) => r.json() as Promise<HealthReport>)
    .catch(() => undefined);
}

describe("e2e: Anvil as the node", function () {
  this.timeout(900_000);

  describe("the demo", function () {
    it("npm run demo -- --node anvil: the whole storage and compute story, unchanged", async function () {
      const tsx = path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
      const result = await run([tsx, "scripts/demo.ts", "--node", "anvil", "--json"], { timeoutMs: 840_000 });
      if (result.code !== 0) {
        // The story's own lines first: the agents' and the worker's JSON logs would fill the tail.
        const story = result.stderr
          .split("\n")
          .filter((line) => !line.startsWith('{"level":'))
          .join("\n");
        throw new Error(
          `demo failed (${result.code}):\n${story.slice(-6000)}\n--- last log lines ---\n${result.stderr.slice(-1500)}`,
        );
      }
      expect(result.stderr).to.contain("embedded anvil node");
      const summary = JSON.parse(result.stdout) as {
        ok: boolean;
        proofs: number;
        missedPeriodsReported: number;
        retrievalChallenges: { failed: number };
        dataSets: { state: string }[];
        compute: { leases: { reason: string }[] };
      };
      expect(summary.ok).to.equal(true);
      expect(summary.proofs).to.be.at.least(8);
      expect(summary.missedPeriodsReported).to.be.at.least(1);
      // As on Hardhat (demo.e2e): one or two data sets end by a failed retrieval challenge, depending on timing.
      const failedSets = summary.dataSets.filter((d) => d.state === "ended: retrieval failed");
      expect(failedSets.length).to.be.within(1, 2);
      expect(summary.retrievalChallenges.failed).to.equal(failedSets.length);
      // The two providers that lost nothing keep the file's other data sets live.
      const fileSets = summary.dataSets.slice(0, 4).map((d) => d.state);
      expect(fileSets.filter((s) => s.startsWith("ended")).length, fileSets.join("; ")).to.be.within(1, 2);
      expect(summary.compute.leases.map((l) => l.reason)).to.deep.equal([
        "MissedHeartbeats",
        "InsufficientFunds",
      ]);
    });
  });

  describe("a real reorganisation", function () {
    let chain: LocalChain;
    let child: ChildProcess | undefined;
    const log: string[] = [];

    before(async function () {
      chain = await startLocalChain({ node: "anvil" });
      // Blocks only for a transaction or when asked (no timer): the reorg's depth is then exact.
      await chain.provider.send("evm_setIntervalMining", [0]);
      await chain.provider.send("evm_setAutomine", [true]);
    });

    after(async function () {
      if (suiteFailed(this)) console.error(log.join(""));
      if (child) await stopProcess(child);
      await chain.stop();
    });

    it("anvil_reorg drops an indexed registration: the worker rolls back and its index equals a clean one", async function () {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const dbPath = path.join(chain.workDir, "worker.db");
      const configFile = path.join(chain.workDir, "worker.json");
      writeProcessWorkerConfig(configFile, chain, { dbPath, port });
      child = spawn(NODE, ["--import", "tsx", WORKER_MAIN, configFile], {
        cwd: ROOT,
        env: { ...process.env, NODE_OPTIONS: "--disable-warning=ExperimentalWarning" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout?.on("data", (d: Buffer) => log.push(d.toString()));
      child.stderr?.on("data", (d: Buffer) => log.push(d.toString()));

      // Fork A: provider 5 registers (block B), two empty blocks on top; the worker indexes all of it.
      const owner = devAccountWallet(0).connect(chain.provider);
      const storer = devAccountWallet(5).connect(chain.provider);
      await (
        await TestStablecoin__factory.connect(chain.addresses.token, owner).mint(storer.address, 10n ** 9n)
      ).wait();
      const registry = ProviderRegistry__factory.connect(chain.addresses.registry, storer);
      const receipt = await (
        await registry.register(storer.address, "http://127.0.0.1:9/fork-a", 1n << 40n, 1n)
      ).wait();
      const registeredAt = receipt?.blockNumber ?? 0;
      await chain.mine(2);
      const tip = (await head(chain)).number;
      await until("the worker to index fork A", async () => {
        const report = await health(url);
        return report !== undefined && (report.indexedBlock ?? 0) >= tip ? true : undefined;
      });
      const indexed = WorkerDb.open(dbPath);
      try {
        expect(indexed.providerEndpoint(storer.address)).to.equal("http://127.0.0.1:9/fork-a");
      } finally {
        indexed.close();
      }

      // Fork B replaces blocks B..tip with as many empty ones, then grows past them.
      const depth = tip - registeredAt + 1;
      await chain.provider.send("anvil_reorg", [depth, []]);
      expect(await registry.isRegistered(storer.address)).to.equal(false);
      await chain.mine(2);
      const newTip = (await head(chain)).number;
      await until("the worker to detect the reorganisation and index fork B", async () => {
        const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
        const report = await health(url);
        return metricValue(metrics, "strata_worker_reorgs_total") >= 1 &&
          (report?.indexedBlock ?? 0) >= newTip
          ? true
          : undefined;
      });
      await stopProcess(child);
      child = undefined;

      const deployment = await loadDeployment({ chainId: 31337n, file: chain.deploymentFile });
      const reorged = WorkerDb.open(dbPath);
      const clean = WorkerDb.open(":memory:");
      try {
        const indexer = new Indexer({
          db: clean,
          provider: chain.provider,
          deployment: { ...chain.addresses, retrievalChallenges: deployment.retrievalChallenges ?? null },
          confirmations: 0,
          startBlock: reorged.startBlock() ?? 0,
          maxBlockRange: 2000,
          retry: FAST_RPC,
          logger: silentLogger(),
          metrics: createMetrics({ defaults: false }),
        });
        await indexer.catchUp();
        expect(reorged.providerEndpoint(storer.address) ?? null).to.equal(null);
        expect(reorged.dumpChainTables()).to.deep.equal(clean.dumpChainTables());
      } finally {
        reorged.close();
        clean.close();
      }
    });
  });

  describe("the node killed and restarted mid-run", function () {
    let chain: LocalChain;
    const agents: RunningAgent[] = [];
    let worker: RunningWorker | undefined;

    before(async function () {
      chain = await startLocalChain({ node: "anvil", persistState: true });
      agents.push(...(await startAgents(chain, [1, 2, 3], { configure: configureStorageOffer })));
      // Missed proofs only: no sampling or retrieval challenges (a failed challenge would end provider 3's data
      // set, and with it the proofs it owes) and no termination of faulty data sets.
      worker = await startWorker(chain, 6, {
        pollIntervalMs: 300,
        sampling: { enabled: false },
        challenges: { enabled: false },
        keeper: {
          terminateFaulty: false,
          terminateUnfunded: false,
          finalizeExpired: false,
          settleAfterSeconds: 0,
        },
      });
    });

    after(async function () {
      if (suiteFailed(this)) {
        console.error(worker?.log.join("").slice(-4000));
        for (const a of agents) console.error(a.log.join("").slice(-2000));
      }
      if (worker) await stopProcess(worker.process);
      for (const agent of agents) await stopProcess(agent.process);
      await chain.stop();
    });

    it("every live provider proves every period and each missed period is reported once", async function () {
      if (!worker) throw new Error("no worker");
      const strata = strataCli(chain);
      const market = StorageMarket__factory.connect(chain.addresses.market, chain.provider);
      const file = path.join(chain.workDir, "file.bin");
      writeFileSync(file, randomBytes(200_000));
      const manifestPath = path.join(chain.workDir, "file.strata.json");
      await strata(["dev", "mint", "1000", "--to", devAddress(4)], 0);
      await strata(["store", file, "--k", "1", "--m", "2", "--duration", "24", "--out", manifestPath], 4);
      const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { pieces: { provider: string }[] };
      expect(manifest.pieces).to.have.length(3);

      // Provider 3's agent stops for good: its periods go unproven and the worker must report them.
      const [live1, live2, gone] = agents;
      if (!live1 || !live2 || !gone) throw new Error("three agents expected");
      gone.process.kill("SIGKILL");
      await once(gone.process, "exit");

      const window = (await market.parameters()).proofWindow;
      const firstTarget = (await market.proofState(live1.address)).nextPeriod;
      for (let round = 0; round < 3; round++) {
        const target = firstTarget + BigInt(round);
        if (round === 1) {
          // The node goes away for a while in the middle of the run, then comes back with its chain.
          await chain.restartNode(5_000);
        }
        const end = await market.periodStart(target + 1n);
        const now = (await head(chain)).timestamp;
        if (now < end - window + 5n) {
          await chain.provider.send("evm_increaseTime", [Number(end - window + 5n - now)]);
          await chain.provider.send("evm_mine", []);
        }
        for (const agent of [live1, live2]) {
          await until(`agent ${agent.account} to prove period ${target}`, async () =>
            (await market.proofState(agent.address)).nextPeriod > target ? true : undefined,
          );
        }
      }
      // Past the last window, so that provider 3's last period is reportable.
      const last = firstTarget + 3n;
      const lastEnd = await market.periodStart(last);
      const now = (await head(chain)).timestamp;
      if (now < lastEnd + 5n) {
        await chain.provider.send("evm_increaseTime", [Number(lastEnd + 5n - now)]);
        await chain.provider.send("evm_mine", []);
      }
      await until("the worker to report provider 3's missed periods", async () => {
        const state = await market.proofState(gone.address);
        return state.nextPeriod >= last ? true : undefined;
      });

      // No missed duty: the live providers were never reported and missed nothing, and neither agent died while
      // its node was away (a stray rejection from a failed RPC call once ended an agent's process).
      for (const agent of [live1, live2]) {
        expect(agent.process.exitCode, `agent ${agent.account} exited`).to.equal(null);
        expect(agent.process.signalCode, `agent ${agent.account} was killed`).to.equal(null);
        expect(
          (await market.queryFilter(market.filters.MissedProofsReported(agent.address))).length,
        ).to.equal(0);
        expect((await market.proofState(agent.address)).missedPeriods).to.equal(0n);
      }
      // Each missed period reported once: the reports' ranges do not overlap, and every report the worker sent
      // landed (a duplicate sent after the restart would have reverted or been beaten).
      const reports = await market.queryFilter(market.filters.MissedProofsReported(gone.address));
      expect(reports.length).to.be.at.least(1);
      const periods = reports.flatMap((e) =>
        Array.from({ length: Number(e.args.count) }, (_, i) => e.args.fromPeriod + BigInt(i)),
      );
      expect(new Set(periods.map(String)).size).to.equal(periods.length);
      const byWorker = reports.filter((e) => e.args.reporter === worker?.address).length;
      const metrics = await fetch(`${worker.url}/metrics`).then((r) => r.text());
      expect(metricValue(metrics, "strata_worker_reports_sent_total")).to.equal(byWorker);
      expect(metricValue(metrics, "strata_worker_reports_lost_total")).to.equal(0);
    });
  });
});
