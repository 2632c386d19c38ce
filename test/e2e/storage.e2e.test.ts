/**
 * The data path end to end with real processes: a `hardhat node`, the suite deployed by its Ignition module,
 * three `strata agent start` processes and the `strata` CLI. A file is stored across the three providers,
 * proving periods pass (proofs land, payments settle), one provider loses its piece (its fault is recorded),
 * another is killed, and the file still comes back byte for byte.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { StorageMarket__factory } from "../../typechain-types/index.js";
import { freePort, NODE, ROOT, run, startLocalChain, stopProcess, type LocalChain } from "./harness.js";

const CLI = path.join(ROOT, "offchain", "cli", "strata.mjs");
const DEV_ADDRESSES = [
  "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
  "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
  "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
];

interface RunningAgent {
  account: number;
  address: string;
  endpoint: string;
  dataDir: string;
  process: ChildProcess;
  log: string[];
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(300);
  }
}

describe("e2e: store, prove, lose data, lose a provider, retrieve", function () {
  this.timeout(600_000);
  let chain: LocalChain;
  const agents: RunningAgent[] = [];

  const strata = async (args: string[], account: number) => {
    const result = await run(
      [
        CLI,
        "--rpc",
        chain.rpcUrl,
        "--deployment",
        chain.deploymentFile,
        "--account",
        String(account),
        "--json",
        ...args,
      ],
      { timeoutMs: 300_000 },
    );
    if (result.code !== 0)
      throw new Error(`strata ${args.join(" ")} failed (${result.code}): ${result.stdout}${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };

  before(async function () {
    chain = await startLocalChain();
    for (const account of [1, 2, 3]) {
      const address = DEV_ADDRESSES[account] ?? "";
      const port = await freePort();
      const endpoint = `http://127.0.0.1:${port}`;
      const configFile = path.join(chain.workDir, `provider-${account}.json`);
      await strata(
        ["provider", "init", "--config", configFile, "--endpoint", endpoint, "--data-dir", `./p${account}`],
        account,
      );
      const config = JSON.parse(readFileSync(configFile, "utf8")) as Record<string, unknown>;
      config.key = { account };
      config.tickMs = 300;
      config.settleEveryPeriods = 1;
      config.integrityScanMs = 1_000;
      config.autoRegister = { capacityBytes: String(1n << 40n), stake: String(5_000_000_000n) };
      writeFileSync(configFile, JSON.stringify(config, null, 2));
      await strata(["dev", "mint", "5000", "--to", address], 0);
      const child = spawn(
        NODE,
        [
          CLI,
          "--rpc",
          chain.rpcUrl,
          "--deployment",
          chain.deploymentFile,
          "agent",
          "start",
          "--config",
          configFile,
        ],
        {
          cwd: ROOT,
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      const log: string[] = [];
      child.stdout.on("data", (d: Buffer) => log.push(d.toString()));
      child.stderr.on("data", (d: Buffer) => log.push(d.toString()));
      agents.push({
        account,
        address,
        endpoint,
        dataDir: path.join(chain.workDir, `p${account}`),
        process: child,
        log,
      });
    }
    for (const agent of agents) {
      await until(`agent ${agent.account} to answer /health and register`, async () => {
        try {
          const health = await fetch(`${agent.endpoint}/health`);
          if (!health.ok) return undefined;
          const status = await strata(["provider", "status", agent.address], 0);
          return JSON.stringify(status).includes('"registered":true') ? true : undefined;
        } catch {
          return undefined;
        }
      });
    }
  });

  after(async function () {
    for (const agent of agents) await stopProcess(agent.process);
    await chain.stop();
  });

  it("stores a file across three providers and gets it back after one loses data and another dies", async function () {
    const market = StorageMarket__factory.connect(chain.addresses.market, chain.provider);
    const file = path.join(chain.workDir, "report.bin");
    const original = randomBytes(3 * 1024 * 1024 + 123);
    writeFileSync(file, original);
    const manifestPath = path.join(chain.workDir, "report.strata.json");
    await strata(["dev", "mint", "1000", "--to", DEV_ADDRESSES[4] ?? ""], 0);
    await strata(["store", file, "--k", "1", "--m", "2", "--duration", "12", "--out", manifestPath], 4);
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
      pieces: { root: string; provider: string; dealId: string }[];
    };
    expect(manifest.pieces).to.have.length(3);
    expect(new Set(manifest.pieces.map((p) => p.provider.toLowerCase())).size).to.equal(3);

    const window = (await market.parameters()).proofWindow;
    // Period after period, every provider proves on its own.
    for (let round = 0; round < 2; round++) {
      const states = await Promise.all(agents.map((a) => market.proofState(a.address)));
      const target = states[0]?.nextPeriod ?? 0n;
      const end = await market.periodStart(target + 1n);
      const now = BigInt((await chain.provider.getBlock("latest"))?.timestamp ?? 0);
      if (now < end - window + 5n) await chain.advance(Number(end - window + 5n - now));
      for (const agent of agents) {
        await until(`agent ${agent.account} to prove period ${target}`, async () =>
          (await market.proofState(agent.address)).nextPeriod > target ? true : undefined,
        );
      }
    }
    const proofs = await market.queryFilter(market.filters.ProofSubmitted());
    expect(proofs.length).to.be.at.least(6);
    // Payments settle (the agents settle every period and withdraw their earnings).
    await until("a settlement", async () => {
      const settled = await market.queryFilter(market.filters.DealSettled());
      return settled.length > 0 ? true : undefined;
    });

    // Provider 1 loses its piece: the agent notices and the fault is recorded on chain.
    const lost = agents[0];
    if (!lost) throw new Error("no agent");
    const piecesDir = path.join(lost.dataDir, "pieces");
    for (const name of readdirSync(piecesDir)) rmSync(path.join(piecesDir, name));
    const lostPiece = manifest.pieces.find((p) => p.provider.toLowerCase() === lost.address.toLowerCase());
    if (!lostPiece) throw new Error("no piece for provider 1");
    await until("the lost piece's fault to be recorded", async () => {
      const declared = await market.queryFilter(market.filters.FaultDeclared(lost.address));
      const missed = await market.queryFilter(market.filters.MissedProofsReported(lost.address));
      if (declared.length + missed.length > 0) return true;
      const state = await market.proofState(lost.address);
      const end = await market.periodStart(state.nextPeriod + 1n);
      const now = BigInt((await chain.provider.getBlock("latest"))?.timestamp ?? 0);
      // Let the next proof window come (and pass) so the agent has to act on the missing data.
      if (now < end + 10n) await chain.advance(Number(window) / 2);
      return undefined;
    });

    // Provider 2 dies.
    const dead = agents[1];
    if (!dead) throw new Error("no agent");
    dead.process.kill("SIGKILL");
    await once(dead.process, "exit");

    const out = path.join(chain.workDir, "report.out");
    await strata(["retrieve", manifestPath, out], 4);
    expect(readFileSync(out).equals(original)).to.equal(true);
  });
});
