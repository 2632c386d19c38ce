/**
 * Repair end to end with real processes: a `hardhat node` with the local suite (its RepairMandateFactory
 * included), four `strata agent start` processes, one `strata worker start` and the `strata` CLI.
 * A file is stored across three providers and its owner opens a repair mandate (`strata mandate --share`, the
 * brief handed to the worker). One provider's agent is killed for good: the worker's samples fail, it opens a
 * retrieval challenge nobody answers and enforces it, which ends the provider's data set. The worker's repair
 * duty then notices the lost piece (the contract's rule), fetches a live piece, rebuilds the lost one, places it
 * with the fourth provider under the mandate (the worker is killed mid-repair and restarted: it resumes, and
 * opens no second repair), and once that provider has proven a period claims the reward.
 * The file is then retrieved byte for byte from the repaired piece alone, and the repairer and the new provider
 * are paid.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  RepairMandate__factory,
  RetrievalChallenges__factory,
  StorageMarket__factory,
  TestStablecoin__factory,
} from "../../typechain-types/index.js";
import { pieceRoot } from "../../offchain/sdk/commitment/parallel.js";
import { configureStorageOffer } from "../../scripts/demo/storageStory.js";
import { startLocalChain, stopProcess, type LocalChain } from "../../scripts/lib/localChain.js";
import {
  devAddress,
  LOCAL_STORY_WORKER_CONFIG,
  startAgents,
  startWorker,
  strataCli,
  until,
  type RunningAgent,
  type RunningWorker,
} from "../../scripts/lib/localProcesses.js";
import { suiteFailed } from "../helpers/failures.js";

const WORKER_ACCOUNT = 6;
const CLIENT_ACCOUNT = 4;

interface ManifestJson {
  pieces: {
    index: number;
    root: string;
    size: number;
    provider: string;
    endpoint: string;
    dataSetId: string;
  }[];
}

describe("e2e: the worker repairs a lost piece onto a new provider under the owner's mandate", function () {
  this.timeout(900_000);
  let chain: LocalChain;
  let strata: ReturnType<typeof strataCli>;
  const agents: RunningAgent[] = [];
  let worker: RunningWorker | undefined;

  before(async function () {
    chain = await startLocalChain();
    strata = strataCli(chain);
    // Prices 1,000 to 1,750 tokens per TiB-month: the file goes to the three cheapest, the dearest is the spare.
    agents.push(...(await startAgents(chain, [1, 2, 3, 5], { configure: configureStorageOffer })));
  });

  after(async function () {
    if (suiteFailed(this)) {
      console.error("worker log tail:\n" + (worker?.log.slice(-80).join("") ?? ""));
    }
    if (worker) await stopProcess(worker.process);
    for (const agent of agents) if (agent.process.exitCode === null) await stopProcess(agent.process);
    await chain.stop();
  });

  it("stores with a mandate, loses a provider, repairs, pays the repairer and the new provider", async function () {
    const market = StorageMarket__factory.connect(chain.addresses.market, chain.provider);
    const raw = JSON.parse(readFileSync(chain.deploymentFile, "utf8")) as Record<string, string>;
    const retrievalAddress = raw["StrataLocal#RetrievalChallenges"];
    if (retrievalAddress === undefined) throw new Error("deployment has no RetrievalChallenges");
    const retrieval = RetrievalChallenges__factory.connect(retrievalAddress, chain.provider);
    const workerAddress = devAddress(WORKER_ACCOUNT);
    const now = async () => BigInt((await chain.provider.getBlock("latest"))?.timestamp ?? 0);

    // The owner stores a file on three of the four providers and opens a mandate, sharing its brief.
    const file = path.join(chain.workDir, "archive.bin");
    const original = randomBytes(4 * 1024 * 1024 + 123);
    writeFileSync(file, original);
    const manifestPath = path.join(chain.workDir, "archive.strata.json");
    await strata(["dev", "mint", "1000", "--to", devAddress(CLIENT_ACCOUNT)], 0);
    await strata(
      ["store", file, "--k", "1", "--m", "2", "--duration", "12", "--out", manifestPath],
      CLIENT_ACCOUNT,
    );
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as ManifestJson;
    expect(manifest.pieces).to.have.length(3);
    const briefsDir = path.join(chain.workDir, "briefs");
    mkdirSync(briefsDir, { recursive: true });
    const opened = await strata(
      [
        "mandate",
        manifestPath,
        "--budget",
        "100",
        "--reward",
        "1",
        "--max-price",
        "2000",
        "--share",
        briefsDir,
      ],
      CLIENT_ACCOUNT,
    );
    const mandateAddress = String(opened.mandate);
    const mandate = RepairMandate__factory.connect(mandateAddress, chain.provider);
    expect(await mandate.freeBudget()).to.be.greaterThan(0n);

    worker = await startWorker(chain, WORKER_ACCOUNT, {
      ...LOCAL_STORY_WORKER_CONFIG,
      repair: { enabled: true, briefsDir },
    });

    // The provider of piece 0 goes away for good.
    const lostPiece = manifest.pieces.find((p) => p.index === 0);
    if (!lostPiece) throw new Error("no piece 0");
    const gone = agents.find((a) => a.address.toLowerCase() === lostPiece.provider.toLowerCase());
    const spare = agents.find(
      (a) => !manifest.pieces.some((p) => p.provider.toLowerCase() === a.address.toLowerCase()),
    );
    if (!gone || !spare) throw new Error("agents missing");
    gone.process.kill("SIGKILL");
    await once(gone.process, "exit");

    // Its samples fail; the worker opens a retrieval challenge that nobody answers, and enforces it.
    const challenge = await until(
      "the worker to challenge the lost piece's data set",
      async () => {
        const events = await retrieval.queryFilter(
          retrieval.filters.RetrievalChallengeOpened(undefined, BigInt(lostPiece.dataSetId)),
        );
        return events[0];
      },
      180_000,
    );
    const t = await now();
    if (t <= challenge.args.deadline) await chain.advance(Number(challenge.args.deadline - t + 5n));
    await until("the lost piece's data set to end", async () => {
      const view = await market.dataSet(BigInt(lostPiece.dataSetId));
      return view.status !== 1n ? true : undefined;
    });

    // The worker repairs it onto the spare provider.
    const repairOpened = await until(
      "the worker to open a repair",
      async () => (await mandate.queryFilter(mandate.filters.RepairOpened()))[0],
      240_000,
    );
    expect(repairOpened.args.repairer.toLowerCase()).to.equal(workerAddress.toLowerCase());
    expect(repairOpened.args.index).to.equal(0n);
    expect(repairOpened.args.terms.provider.toLowerCase()).to.equal(spare.address.toLowerCase());
    const repairId = repairOpened.args.repairId;
    // The worker is killed mid-repair and restarted on the same database: it resumes from the recorded stage.
    worker.process.kill("SIGKILL");
    await once(worker.process, "exit");
    worker = await startWorker(chain, WORKER_ACCOUNT, {
      ...LOCAL_STORY_WORKER_CONFIG,
      repair: { enabled: true, briefsDir },
    });
    const bound = await until(
      "the worker to bind the repair data set",
      async () => (await mandate.queryFilter(mandate.filters.RepairBound(repairId)))[0],
      180_000,
    );
    const newDataSet = bound.args.dataSetId;
    await until("the new provider to hold the piece on chain", async () => {
      const view = await market.dataSet(newDataSet);
      return view.root.toLowerCase() === lostPiece.root.toLowerCase() ? true : undefined;
    });

    // The new provider proves periods holding it; then the worker claims the reward.
    const window = (await market.parameters()).proofWindow;
    const claimed = await until(
      "the worker to claim the repair",
      async () => {
        const events = await mandate.queryFilter(mandate.filters.RepairClaimed(repairId));
        if (events[0]) return events[0];
        const next = (await market.proofState(spare.address)).nextPeriod;
        const end = await market.periodStart(next + 1n);
        const at = await now();
        if (at < end - window + 5n) await chain.advance(Number(end - window + 5n - at));
        await until(`the new provider to prove period ${next}`, async () =>
          (await market.proofState(spare.address)).nextPeriod > next ? true : undefined,
        );
        return undefined;
      },
      480_000,
    );
    expect(claimed.args.repairer.toLowerCase()).to.equal(workerAddress.toLowerCase());
    expect(claimed.args.reward).to.be.greaterThan(0n);
    expect(await mandate.rewardsOwed(workerAddress)).to.equal(claimed.args.reward);
    expect(await mandate.holderOf(0)).to.equal(newDataSet);
    // The new provider is paid from the repair data set's escrow for the periods it proved.
    expect((await market.dataSet(newDataSet)).paid).to.be.greaterThan(0n);
    expect(await mandate.queryFilter(mandate.filters.RepairOpened())).to.have.length(1);

    // The repairer takes its reward with `strata repair --withdraw` (the worker stopped: one sender per account);
    // the file has no lost piece left, so it repairs nothing.
    await stopProcess(worker.process);
    worker = undefined;
    const token = TestStablecoin__factory.connect(chain.addresses.token, chain.provider);
    const walletBefore = await token.balanceOf(workerAddress);
    const byHand = await strata(["repair", manifestPath, "--withdraw"], WORKER_ACCOUNT);
    expect(byHand.pieces).to.deep.equal([]);
    expect(byHand.withdrawn).to.equal(claimed.args.reward.toString());
    expect(await token.balanceOf(workerAddress)).to.equal(walletBefore + claimed.args.reward);
    expect(await mandate.rewardsOwed(workerAddress)).to.equal(0n);

    // The repaired piece alone gives the file back, byte for byte.
    const repaired = await fetch(`${spare.endpoint}/v1/pieces/${lostPiece.root}`);
    const bytes = new Uint8Array(await repaired.arrayBuffer());
    expect(pieceRoot(bytes)).to.equal(lostPiece.root.toLowerCase());
    const onlyRepaired = JSON.parse(readFileSync(manifestPath, "utf8")) as ManifestJson;
    for (const p of onlyRepaired.pieces) {
      if (p.index === 0) {
        p.provider = spare.address;
        p.endpoint = spare.endpoint;
        p.dataSetId = newDataSet.toString();
      } else {
        p.endpoint = "http://127.0.0.1:9";
      }
    }
    const repairedManifest = path.join(chain.workDir, "archive.repaired.strata.json");
    writeFileSync(repairedManifest, JSON.stringify(onlyRepaired, null, 2));
    const out = path.join(chain.workDir, "archive.out");
    await strata(["retrieve", repairedManifest, out, "--offline"], CLIENT_ACCOUNT);
    expect(readFileSync(out).equals(original)).to.equal(true);
  });
});
