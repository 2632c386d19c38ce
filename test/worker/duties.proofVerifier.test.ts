import { expect } from "chai";
import { PROOF_MISMATCH_ALERT, proofVerifierDuty } from "../../offchain/worker/duties/proofVerifier.js";
import type { ProofCheckDetail } from "../../offchain/worker/duties/proofVerifier.js";
import type { Worker } from "../../offchain/worker/worker.js";
import {
  buildAnswers,
  enterProofWindow,
  proveNext,
  type StorageFixture,
  type UniformTree,
} from "../helpers/fixture.js";
import { liveDataSet, setup } from "../storage/dataSets.helpers.js";
import { counterValue, dutyWorker } from "./duties.helpers.js";
import { removeTempDirs } from "./helpers.js";

type Held = Map<bigint, UniformTree>;

function detailOf(worker: Worker, txHash: string): ProofCheckDetail {
  const check = worker.context.db.proofCheck(txHash);
  if (!check?.detail) throw new Error(`no check of ${txHash}`);
  return JSON.parse(check.detail) as ProofCheckDetail;
}

function flip(hex: string): string {
  return hex.slice(0, -1) + (parseInt(hex.slice(-1), 16) ^ 1).toString(16);
}

describe("worker duty: proof verifier", function () {
  let f: StorageFixture;
  let w: Worker;
  const held: Held = new Map();
  const tx = { direct: "", multicall: "", forged: "", period: 0n };

  before(async function () {
    f = await setup();
    for (const span of [300n, 64n, 1000n, 5n]) {
      const { id, tree } = await liveDataSet(f, span);
      held.set(id, tree);
    }
    // A data set terminated before the seed is used: it stays challengeable for the frozen period.
    const ended = [...held.keys()][1];
    if (ended === undefined) throw new Error("no data set");
    await (await f.market.connect(f.client).terminateDataSet(ended)).wait();

    tx.direct = (await proveNext(f, f.provider, held)).hash;

    // Next period: first a tampered proof (reverted on chain), then the real one in a multicall with a
    // declaration for the period after.
    const period = (await f.market.proofState(f.provider.address)).nextPeriod;
    tx.period = period;
    await enterProofWindow(f, period);
    const proofs = await buildAnswers(f, f.provider.address, held);
    const first = proofs[0];
    if (!first) throw new Error("no challenge");
    const [lo, hi] = first.leaf as [string, string];
    const bad: typeof proofs = [{ ...first, leaf: [flip(lo), hi] }, ...proofs.slice(1)];
    tx.forged = await sendReverted(f, f.market.interface.encodeFunctionData("submitProof", [period, bad]));
    const declared = [...held.keys()][2] ?? 0n;
    const calls = [
      f.market.interface.encodeFunctionData("submitProof", [period, proofs]),
      f.market.interface.encodeFunctionData("declareFaults", [[declared]]),
    ];
    tx.multicall = (await f.market.connect(f.provider).multicall(calls)).hash;

    w = await dutyWorker(f, { duties: [proofVerifierDuty] });
  });

  after(async function () {
    await w.stop();
    await removeTempDirs();
  });

  it("verifies real proofs, direct and in a multicall, and agrees with the market's view", async function () {
    const result = (await w.tick()).duties.proofVerifier;
    expect(result).to.deep.equal({ ok: 2, mismatch: 0, error: 0 });
    const direct = detailOf(w, tx.direct);
    expect(direct.via).to.equal("direct");
    expect(direct.problems).to.deep.equal([]);
    expect(direct.crossCheck?.result).to.equal("agreed");
    expect(direct.challenges?.every((c) => c.status === "proven")).to.be.true;
    expect(detailOf(w, tx.multicall).via).to.equal("multicall");
    expect(await counterValue(w.context.metrics.proofChecks, { verdict: "ok" })).to.equal(2);
    // Checked proofs are not checked again.
    expect((await w.tick()).duties.proofVerifier).to.deep.equal({ ok: 0, mismatch: 0, error: 0 });
  });

  it("flags an accepted proof whose calldata does not verify as a mismatch with an alert", async function () {
    // Forge the event: the index says the tampered (reverted) transaction is the accepted proof.
    const receipt = await f.ethers.provider.getTransactionReceipt(tx.forged);
    if (!receipt) throw new Error("no receipt");
    expect(receipt.status).to.equal(0);
    insertProof(w, f.provider.address, tx.period, receipt.blockNumber, tx.forged);

    const result = (await w.tick()).duties.proofVerifier;
    expect(result).to.deep.equal({ ok: 0, mismatch: 1, error: 0 });
    const check = w.context.db.proofCheck(tx.forged);
    expect(check?.verdict).to.equal("mismatch");
    expect(detailOf(w, tx.forged).problems?.map((p) => [p.code, p.challenge])).to.deep.equal([
      ["INVALID_PATH", 0],
    ]);
    const alerts = w.context.db.alerts({ kind: PROOF_MISMATCH_ALERT });
    expect(alerts).to.have.length(1);
    expect(alerts[0]?.subject).to.equal(`${f.provider.address}:${tx.period}`);
    expect(await counterValue(w.context.metrics.alerts, { kind: PROOF_MISMATCH_ALERT })).to.equal(1);
  });

  it("flags a proof whose challenged data set's indexed root was forged", async function () {
    const direct = detailOf(w, tx.direct);
    const challenged = direct.challenges?.[0]?.dataSetId;
    if (challenged === undefined) throw new Error("no challenge");
    w.context.db.handle
      .prepare("UPDATE data_set_updates SET root = ? WHERE data_set_id = ?")
      .run("0x" + "ab".repeat(32), String(challenged)); // JSON detail: ids are decimal strings
    w.context.db.handle.prepare("DELETE FROM replay_checkpoints").run();
    w.context.db.handle.prepare("DELETE FROM proof_checks WHERE tx_hash = ?").run(tx.direct.toLowerCase());
    await w.tick();
    const problems = detailOf(w, tx.direct).problems ?? [];
    expect(w.context.db.proofCheck(tx.direct)?.verdict).to.equal("mismatch");
    expect(problems.length).to.be.greaterThan(0);
    expect(problems.every((p) => p.code === "INVALID_PATH" && String(p.dataSetId) === String(challenged))).to
      .be.true;
  });

  it("gives verdict error for a proof event whose transaction is not a call to the market", async function () {
    const mint = await f.token.mint(f.client.address, 1n);
    const receipt = await mint.wait();
    if (!receipt) throw new Error("no receipt");
    insertProof(w, f.provider.address, 999n, receipt.blockNumber, mint.hash);
    const result = (await w.tick()).duties.proofVerifier;
    expect(result).to.deep.equal({ ok: 0, mismatch: 0, error: 1 });
    expect(detailOf(w, mint.hash).reason).to.be.a("string");
  });
});

/** Mine `data` to the market from the provider with a fixed gas limit, expecting the call to revert. */
async function sendReverted(f: StorageFixture, data: string): Promise<string> {
  const to = await f.market.getAddress();
  const before = await f.ethers.provider.getBlockNumber();
  try {
    const sent = await f.provider.sendTransaction({ to, data, gasLimit: 3_000_000n });
    return sent.hash;
  } catch {
    // The node reports the revert on send; the transaction is in the next block anyway.
    const block = await f.ethers.provider.getBlock(before + 1, true);
    const hash = block?.transactions[0];
    if (hash === undefined) throw new Error("the reverted transaction was not mined");
    return hash;
  }
}

/** Put a ProofSubmitted row into the worker's index as if the chain had emitted it. */
function insertProof(w: Worker, provider: string, period: bigint, blockNumber: number, txHash: string): void {
  w.context.db.handle
    .prepare(
      `INSERT INTO proofs (provider, period, next_seed_block, block_number, log_index, tx_hash)
       VALUES (?, ?, ?, ?, ?, ?)`,
    )
    .run(provider, period, blockNumber + 2, blockNumber, 0, txHash.toLowerCase());
}
