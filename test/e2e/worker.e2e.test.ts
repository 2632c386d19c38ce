/**
 * The proof-verifier worker end to end with real processes: a `hardhat node`, the suite deployed by its Ignition
 * module, three `strata agent start` processes, one `strata worker start` process and the `strata` CLI.
 * A file is stored across the three providers; proofs land and the worker verifies them off chain. Then one
 * provider goes dark (stops proving): the worker reports its missed period once and earns the bounty from
 * the provider's stake. Another provider loses its data: the worker's retrieval samples fail, it opens an
 * on-chain retrieval challenge, the provider cannot answer, and the worker enforces it — the deal ends with
 * its collateral slashed to the client, the worker earns the bounty and gets its bond back.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  ProviderRegistry__factory,
  RetrievalChallenges__factory,
  StorageMarket__factory,
} from "../../typechain-types/index.js";
import { startLocalChain, stopProcess, type LocalChain } from "../../scripts/lib/localChain.js";
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
import { suiteFailed } from "../helpers/failures.js";

const WORKER_ACCOUNT = 6;
const CLIENT_ACCOUNT = 4;
const RETRIEVAL_FAILED = 4n;

describe("e2e: the worker reports a missed proof and gets a withholding provider slashed", function () {
  this.timeout(600_000);
  let chain: LocalChain;
  let strata: ReturnType<typeof strataCli>;
  const agents: RunningAgent[] = [];
  let worker: RunningWorker | undefined;
  let workerUrl = "";

  before(async function () {
    chain = await startLocalChain();
    strata = strataCli(chain);
    agents.push(...(await startAgents(chain, [1, 2, 3])));
    worker = await startWorker(chain, WORKER_ACCOUNT);
    workerUrl = worker.url;
  });

  after(async function () {
    if (suiteFailed(this)) {
      console.error("worker log tail:\n" + (worker?.log.slice(-60).join("") ?? ""));
    }
    if (worker) await stopProcess(worker.process);
    for (const agent of agents) await stopProcess(agent.process);
    await chain.stop();
  });

  it("verifies proofs, reports a dark provider once, and enforces a retrieval challenge", async function () {
    const market = StorageMarket__factory.connect(chain.addresses.market, chain.provider);
    const registry = ProviderRegistry__factory.connect(chain.addresses.registry, chain.provider);
    const raw = JSON.parse(readFileSync(chain.deploymentFile, "utf8")) as Record<string, string>;
    const retrievalAddress = raw["StrataLocal#RetrievalChallenges"];
    if (retrievalAddress === undefined) throw new Error("deployment has no RetrievalChallenges");
    const retrieval = RetrievalChallenges__factory.connect(retrievalAddress, chain.provider);
    const workerAddress = devAddress(WORKER_ACCOUNT);

    const file = path.join(chain.workDir, "ledger.bin");
    const original = randomBytes(2 * 1024 * 1024 + 77);
    writeFileSync(file, original);
    const manifestPath = path.join(chain.workDir, "ledger.strata.json");
    await strata(["dev", "mint", "1000", "--to", devAddress(CLIENT_ACCOUNT)], 0);
    await strata(
      ["store", file, "--k", "1", "--m", "2", "--duration", "12", "--out", manifestPath],
      CLIENT_ACCOUNT,
    );
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
      pieces: { root: string; provider: string; dataSetId: string }[];
    };
    expect(manifest.pieces).to.have.length(3);

    // One period of honest proofs, which the worker re-checks off chain.
    const window = (await market.parameters()).proofWindow;
    const states = await Promise.all(agents.map((a) => market.proofState(a.address)));
    const target = states[0]?.nextPeriod ?? 0n;
    const end = await market.periodStart(target + 1n);
    const now = async () => BigInt((await chain.provider.getBlock("latest"))?.timestamp ?? 0);
    const t = await now();
    if (t < end - window + 5n) await chain.advance(Number(end - window + 5n - t));
    for (const agent of agents) {
      await until(`agent ${agent.account} to prove period ${target}`, async () =>
        (await market.proofState(agent.address)).nextPeriod > target ? true : undefined,
      );
    }
    await until("the worker to verify the proofs off chain", async () => {
      const text = await fetch(`${workerUrl}/metrics`).then((r) => r.text());
      return metricValue(text, "strata_worker_proof_checks_total", '{verdict="ok"}') >= 3 ? true : undefined;
    });
    const disagreements = await fetch(`${workerUrl}/metrics`).then((r) => r.text());
    expect(metricValue(disagreements, "strata_worker_proof_checks_total", '{verdict="mismatch"}')).to.equal(
      0,
    );

    // Provider 2 loses its data (its agent keeps running and keeps its endpoint up, but cannot serve or answer).
    const withholding = agents[1];
    const dark = agents[0];
    if (!withholding || !dark) throw new Error("agents missing");
    const piecesDir = path.join(withholding.dataDir, "pieces");
    for (const name of readdirSync(piecesDir)) rmSync(path.join(piecesDir, name), { recursive: true });
    const withheld = manifest.pieces.find(
      (p) => p.provider.toLowerCase() === withholding.address.toLowerCase(),
    );
    if (!withheld) throw new Error("no piece for the withholding provider");

    const opened = await until(
      "the worker to open a retrieval challenge on the withheld deal",
      async () => {
        const events = await retrieval.queryFilter(
          retrieval.filters.RetrievalChallengeOpened(undefined, BigInt(withheld.dataSetId)),
        );
        return events.find((e) => e.args.challenger.toLowerCase() === workerAddress.toLowerCase());
      },
      120_000,
    );
    const challengeId = opened.args.challengeId;

    // Provider 1 goes dark: its agent is killed, so it stops proving (and serving).
    dark.process.kill("SIGKILL");
    await once(dark.process, "exit");
    const darkState = await market.proofState(dark.address);
    // The missed-proof penalty comes out of the proof bond the market holds (SPEC §3, §8.2), so watch the whole
    // stake with the bond.
    const stakeOf = async (who: string) => {
      const [s, [bond]] = await Promise.all([registry.stakeInfo(who), market.proofBond(who)]);
      return s.free + s.locked + s.unbonding + bond;
    };
    const stakeBefore = await stakeOf(dark.address);

    // Time passes beyond the dark provider's proof window and the challenge's response window.
    const darkEnd = await market.periodStart(darkState.nextPeriod + 1n);
    const deadline = opened.args.deadline;
    const moveTo = (darkEnd > deadline ? darkEnd : deadline) + 5n;
    const t2 = await now();
    if (t2 < moveTo) await chain.advance(Number(moveTo - t2));

    const reports = await until("the worker to report the dark provider's missed period", async () => {
      const events = await market.queryFilter(market.filters.MissedProofsReported(dark.address));
      return events.length > 0 ? events : undefined;
    });
    expect(reports).to.have.length(1);
    expect(reports[0]?.args.reporter.toLowerCase()).to.equal(workerAddress.toLowerCase());
    expect(await stakeOf(dark.address)).to.be.lessThan(stakeBefore);

    const failed = await until("the worker to enforce the unanswered challenge", async () => {
      const events = await retrieval.queryFilter(retrieval.filters.RetrievalChallengeFailed(challengeId));
      return events[0];
    });
    expect(failed.args.enforcer.toLowerCase()).to.equal(workerAddress.toLowerCase());
    const ended = await market.queryFilter(market.filters.DataSetEnded(BigInt(withheld.dataSetId)));
    expect(ended).to.have.length(1);
    expect(ended[0]?.args.reason).to.equal(RETRIEVAL_FAILED);
    expect(ended[0]?.args.compensationToClient).to.be.greaterThan(0n);
    const slashes = await market.queryFilter(
      market.filters.Slashed(withholding.address, BigInt(withheld.dataSetId)),
    );
    expect(slashes).to.have.length(1);
    expect(slashes[0]?.args.toReporter).to.be.greaterThan(0n);

    // Nothing was reported twice, and the worker's view agrees with the chain.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await market.queryFilter(market.filters.MissedProofsReported(dark.address))).to.have.length(
      reports.length,
    );
    const text = await fetch(`${workerUrl}/metrics`).then((r) => r.text());
    expect(metricValue(text, "strata_worker_reports_won_total")).to.be.at.least(1);
    expect(metricValue(text, "strata_worker_bounty_earned")).to.be.greaterThan(0);
    // The bond came back: it is in the worker's balance here, unless the worker already put it into a newer
    // challenge (the dark provider's deal fails sampling too).
    const mine = await retrieval.queryFilter(retrieval.filters.RetrievalChallengeOpened());
    let locked = 0n;
    for (const e of mine.filter((x) => x.args.challenger.toLowerCase() === workerAddress.toLowerCase())) {
      const c = await retrieval.challengeOf(e.args.challengeId);
      if (c.status === 1n) locked += c.bond;
    }
    const bond = (await retrieval.parameters()).bond;
    expect((await retrieval.balanceOf(workerAddress)) + locked).to.be.at.least(bond);

    // The client still gets the file back from the one remaining provider.
    const out = path.join(chain.workDir, "ledger.out");
    await strata(["retrieve", manifestPath, out], CLIENT_ACCOUNT);
    expect(readFileSync(out).equals(original)).to.equal(true);
  });
});
