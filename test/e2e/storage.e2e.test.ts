/**
 * The data path end to end with real processes: a `hardhat node`, the suite deployed by its Ignition module,
 * three `strata agent start` processes and the `strata` CLI. A file is stored across the three providers,
 * proving periods pass (proofs land, payments settle), one provider loses its piece (its fault is recorded),
 * another is killed, and the file still comes back byte for byte.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { StorageMarket__factory } from "../../typechain-types/index.js";
import {
  devAddress,
  startAgents,
  strataCli,
  until,
  type RunningAgent,
} from "../../scripts/lib/localProcesses.js";
import { startLocalChain, stopProcess, type LocalChain } from "../../scripts/lib/localChain.js";
import { configureStorageOffer } from "../../scripts/demo/storageStory.js";

describe("e2e: store, prove, lose data, lose a provider, retrieve", function () {
  this.timeout(600_000);
  let chain: LocalChain;
  const agents: RunningAgent[] = [];

  let strata: ReturnType<typeof strataCli>;

  before(async function () {
    chain = await startLocalChain();
    strata = strataCli(chain);
    // Prices high enough that two proven hours of a 3 MiB file earn whole base units (payments are exact).
    agents.push(...(await startAgents(chain, [1, 2, 3], { configure: configureStorageOffer })));
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
    await strata(["dev", "mint", "1000", "--to", devAddress(4)], 0);
    await strata(["store", file, "--k", "1", "--m", "2", "--duration", "12", "--out", manifestPath], 4);
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
      version: number;
      pieces: { root: string; provider: string; dataSetId: string; offset: number; addedInVersion: string }[];
    };
    expect(manifest.version).to.equal(3);
    expect(manifest.pieces).to.have.length(3);
    expect(new Set(manifest.pieces.map((p) => p.provider.toLowerCase())).size).to.equal(3);
    // Each piece is in a live data set of the client's with its provider, and the chain holds the signed state.
    for (const piece of manifest.pieces) {
      const set = await market.dataSet(BigInt(piece.dataSetId));
      expect(set.provider.toLowerCase()).to.equal(piece.provider.toLowerCase());
      expect(set.client).to.equal(devAddress(4));
      expect(set.version >= BigInt(piece.addedInVersion)).to.equal(true);
      expect(set.span > 0n).to.equal(true);
    }
    const status = (await strata(["status", manifestPath], 4)) as {
      atRisk: boolean;
      healthyPieces: number;
    };
    expect(status.atRisk).to.equal(false);
    expect(status.healthyPieces).to.equal(3);
    // A second file reuses the same data sets (recorded next to the manifests): no new data set is opened.
    const second = path.join(chain.workDir, "notes.bin");
    writeFileSync(second, randomBytes(100_000));
    const secondManifest = path.join(chain.workDir, "notes.strata.json");
    await strata(["store", second, "--k", "1", "--m", "2", "--duration", "12", "--out", secondManifest], 4);
    const again = JSON.parse(readFileSync(secondManifest, "utf8")) as { pieces: { dataSetId: string }[] };
    expect(new Set(again.pieces.map((p) => p.dataSetId))).to.deep.equal(
      new Set(manifest.pieces.map((p) => p.dataSetId)),
    );
    expect(await market.dataSetCount()).to.equal(3n);

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
      const settled = await market.queryFilter(market.filters.DataSetSettled());
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
