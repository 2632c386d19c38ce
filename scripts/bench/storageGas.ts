/**
 * Gas of the storage market's data-set operations and of retrieval challenges (rows of bench/gas.json; budgets
 * in ./budgets.ts). Called by ./measureGas.ts, which also makes every run repeat to the unit.
 *
 * Data sets are built from client-signed states with the real spans (1 TiB, 100 TiB, ...). Their trees are
 * `UniformTree`s: every leaf inside the span holds the same 64 seeded bytes, leaves beyond it are zero; roots
 * and paths are real SHA-256 Merkle paths at the real depth, so the contract verifies exactly what it would for
 * real data.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionResponse } from "ethers";
import { StrataError } from "../../offchain/sdk/errors.js";
import {
  buildAnswers,
  createDataSet,
  defaultParameters,
  deployStorage,
  enterProofWindow,
  fundClient,
  makeTerms,
  need,
  putState,
  registerProvider,
  topUp,
  USDC,
  UniformTree,
  type StorageFixture,
} from "../lib/inProcessSuite.js";
import { BENCH_GENESIS, seededBytes } from "./deterministicChain.js";
import type { MeasuredRow } from "./report.js";

const MIB = 1n << 20n;
const GIB = 1n << 30n;
const TIB = 1n << 40n;
const leaves = (bytes: bigint) => bytes / 64n;

/** Gas used by a transaction. */
export async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  if (!receipt) throw setupFailed("transaction has no receipt");
  return Number(receipt.gasUsed);
}

/** The benchmark's own setup did not do what it expected (a bug in the benchmark, not a measurement). */
export function setupFailed(message: string): StrataError {
  return new StrataError("BENCH_SETUP_FAILED", message);
}

/** Trees are numbered in the order the benchmark builds them, so every run fills them with the same bytes. */
let treeCount = 0;
function seededTree(span: bigint): UniformTree {
  treeCount++;
  return new UniformTree(span, Buffer.from(seededBytes(64, `data set tree ${treeCount}`)));
}

type Trees = Map<bigint, UniformTree>;

async function provider(f: StorageFixture, index: number): Promise<HardhatEthersSigner> {
  const p = f.others[index];
  if (!p) throw setupFailed("not enough signers");
  await registerProvider(f, p, 10_000_000n * USDC);
  return p;
}

/** A live data set of `provider` holding `span` leaves. */
async function dataSetOf(
  f: StorageFixture,
  p: HardhatEthersSigner,
  span: bigint,
  trees: Trees,
): Promise<bigint> {
  const id = await createDataSet(f, { provider: p });
  await topUp(f, id, 100_000n * USDC);
  const tree = seededTree(span);
  await (await putState(f, id, tree, { provider: p })).wait();
  trees.set(id, tree);
  return id;
}

async function prove(f: StorageFixture, p: HardhatEthersSigner, trees: Trees): Promise<number> {
  const period = (await f.market.proofState(p.address)).nextPeriod;
  await enterProofWindow(f, period);
  if ((await f.market.challengeSeed(p.address)) === "0x" + "00".repeat(32)) {
    // Setting up hundreds of data sets took more than 256 blocks: the seed's hash is gone; draw a fresh one.
    await (await f.market.connect(p).refreshChallengeSeed()).wait();
    await f.helpers.mine(3);
  }
  const answers = await buildAnswers(f, p.address, trees);
  return gasOf(f.market.connect(p).submitProof(period, answers));
}

/**
 * A proof's cost depends on which data sets and leaves the period's seed challenges: a challenge that reads a
 * storage word another challenge already read is cheaper (tens of thousands of gas between draws). The seed is a
 * block hash, so any change to the contracts or to the steps before draws other challenges; one sample would
 * then jump with no change in cost. Each proof row proves this many consecutive periods (each a fresh seed) and
 * keeps the highest, so the figure is the cost of an unlucky draw, not of one seed: the budget must hold for every
 * proof.
 */
const PROOF_SAMPLES = 32;

/** A proof row: a provider holding data sets of `spans` leaves proves PROOF_SAMPLES periods; the highest counts. */
async function proofRow(
  f: StorageFixture,
  index: number,
  spans: bigint[],
  operation: string,
  note: string,
): Promise<MeasuredRow> {
  const p = await provider(f, index);
  const trees: Trees = new Map();
  for (const s of spans) await dataSetOf(f, p, s, trees);
  // The first proof makes the provider's frozen state current.
  await prove(f, p, trees);
  const samples: number[] = [];
  for (let i = 0; i < PROOF_SAMPLES; i++) samples.push(await prove(f, p, trees));
  const depths = [...new Set([...trees.values()].map((t) => t.depth))].join("/");
  const lowest = Math.min(...samples).toLocaleString("en-US");
  return {
    operation,
    gas: Math.max(...samples),
    note: `${note}; ${trees.size} data set(s), path depth ${depths}; highest of ${PROOF_SAMPLES} consecutive periods (lowest ${lowest})`,
  };
}

async function dataSetRows(genesis: string): Promise<MeasuredRow[]> {
  const f = await deployStorage({ initialDate: genesis });
  await f.market
    .connect(f.admin)
    .setParameters(defaultParameters({ challengeCount: 4n, proofWindow: 1800n }));
  await fundClient(f, f.client, 100_000_000n * USDC);
  await registerProvider(f, f.provider, 10_000_000n * USDC);
  const rows: MeasuredRow[] = [];

  // Create: the first data set of a client/provider pair writes its nonce word; measure a steady-state one.
  await createDataSet(f);
  const t = await makeTerms(f);
  rows.push({
    operation: "create data set",
    gas: await gasOf(f.market.connect(f.provider).createDataSet(t.terms, t.signature)),
    note: "signed terms checked (EIP-712), empty data set stored; escrow is a separate top-up",
  });
  {
    const created = await f.market.dataSetCount();
    const amount = 1_000n * USDC;
    await f.token.mint(f.client.address, amount);
    await f.token.connect(f.client).approve(await f.market.getAddress(), amount);
    rows.push({
      operation: "top up a data set's escrow (client, from allowance)",
      gas: await gasOf(f.market.connect(f.client).topUp(created, amount)),
      note: "the first top-up of a new data set, as a client funds it after creation",
    });
    await f.token.mint(f.client.address, amount);
    await f.token.connect(f.client).approve(await f.market.getAddress(), amount);
    rows.push({
      operation: "top up a data set's escrow again (client, from allowance)",
      gas: await gasOf(f.market.connect(f.client).topUp(created, amount)),
      note: "a funded data set, as the client tops up after each stored file",
    });
  }

  // Add and remove pieces: one signed state whatever the number of pieces it folds in.
  const trees: Trees = new Map();
  const id = await createDataSet(f);
  await topUp(f, id, 100_000n * USDC);
  {
    const tree = seededTree(leaves(100n * GIB));
    rows.push({
      operation: "add pieces to an empty data set, first state (one call)",
      gas: await gasOf(putState(f, id, tree)),
      note:
        "the data set's first state: writes its first root word, enters a size class (slot, count and class " +
        "mask words written from zero) and locks its collateral in the registry, refilling the proof bond; the " +
        "provider held no bytes yet, so its epoch restarts with a fresh seed",
    });
    trees.set(id, tree);
  }
  await prove(f, f.provider, trees);
  const addRow = async (pieces: bigint, pieceBytes: bigint) => {
    const before = (await f.market.dataSet(id)).span;
    const tree = seededTree(before + leaves(pieces * pieceBytes));
    const gas = await gasOf(putState(f, id, tree));
    // The epoch rule: this period is still proven against the frozen (previous) tree; the new one from the next.
    await prove(f, f.provider, trees);
    trees.set(id, tree);
    return {
      gas,
      note: `${pieces} piece(s) of ${pieceBytes / MIB} MiB, span ${before} -> ${tree.span} leaves (class ${tree.depth})`,
    };
  };
  // The data set's first state in a later epoch writes its second root word from zero (once per data set).
  const second = await addRow(1n, MIB);
  rows.push({
    operation: "add pieces, 1 piece, first write of the data set's second root word (one call)",
    gas: second.gas,
    note: `${second.note}; the second root word is written from zero once per data set`,
  });
  // From here on both root words hold a root: the common case of a data set already holding pieces. Measured on a
  // snapshot that is then restored, so that every later row sees the same blocks, and so draws the same proof
  // challenges, as before this row existed (a proof's cost depends on its draw, see PROOF_SAMPLES).
  {
    const snapshot = await f.helpers.takeSnapshot();
    const [trees0, count] = [trees.get(id), treeCount];
    const one = await addRow(1n, MIB);
    rows.push({ operation: "add pieces, 1 piece (one call)", ...one });
    await snapshot.restore();
    treeCount = count;
    trees.set(id, need(trees0, "tree"));
  }
  const hundred = await addRow(100n, MIB);
  rows.push({ operation: "add pieces, 100 pieces (one call)", ...hundred });
  const tenThousand = await addRow(10_000n, 8n * MIB);
  rows.push({ operation: "add pieces, 10,000 pieces (one call)", ...tenThousand });
  {
    const before = (await f.market.dataSet(id)).span;
    const tree = seededTree(before - leaves(50n * MIB));
    rows.push({
      operation: "remove pieces (one call)",
      gas: await gasOf(putState(f, id, tree)),
      note: "50 pieces of 1 MiB removed from the end of the span; same size class",
    });
    trees.set(id, tree);
  }

  // Proofs: 4 challenges over all of a provider's data sets.
  rows.push(
    await proofRow(
      f,
      0,
      [leaves(TIB)],
      "proof, 4 challenges, 1 TiB as 1 GiB pieces in 1 data set",
      "1,024 pieces of 1 GiB",
    ),
  );
  rows.push(
    await proofRow(
      f,
      1,
      Array.from({ length: 100 }, (_, i) => leaves((i < 24 ? 11n : 10n) * GIB)),
      "proof, 4 challenges, 1 TiB as 1 GiB pieces in 100 data sets",
      "1,024 pieces of 1 GiB spread over 100 data sets (10 or 11 each)",
    ),
  );
  rows.push(
    await proofRow(
      f,
      2,
      [leaves(10_000n * 100n * MIB)],
      "proof, 4 challenges, 10,000 pieces of 100 MiB",
      "976.6 GiB in 1 data set",
    ),
  );
  rows.push(
    await proofRow(
      f,
      3,
      [leaves(100n * TIB)],
      "proof, 4 challenges, 100 TiB as 32 GiB pieces",
      "3,200 pieces of 32 GiB in 1 data set",
    ),
  );

  // Missed proof report.
  {
    const p = await provider(f, 4);
    const tr: Trees = new Map();
    await dataSetOf(f, p, leaves(TIB), tr);
    const n = (await f.market.proofState(p.address)).nextPeriod;
    await f.helpers.time.increaseTo(await f.market.periodStart(n + 1n));
    rows.push({
      operation: "report a missed proof (slash bounty), first report by this watcher",
      gas: await gasOf(f.market.connect(f.watcher).reportMissedProofs(p.address)),
      note: "creates the watcher's balance and the provider's fault log",
    });
    await prove(f, p, tr);
    const m = (await f.market.proofState(p.address)).nextPeriod;
    await f.helpers.time.increaseTo(await f.market.periodStart(m + 1n));
    rows.push({
      operation: "report a missed proof (slash bounty), watcher with a balance",
      gas: await gasOf(f.market.connect(f.watcher).reportMissedProofs(p.address)),
      note: "the market holds the proof bond: the penalty is credited to the watcher and the treasury in its ledger, no registry call",
    });
  }

  // Settle 100 data sets in one call.
  {
    const p = await provider(f, 5);
    const tr: Trees = new Map();
    const ids: bigint[] = [];
    for (let i = 0; i < 100; i++) ids.push(await dataSetOf(f, p, leaves(GIB), tr));
    await prove(f, p, tr);
    await f.market.settleDataSets(ids);
    await prove(f, p, tr);
    const gas = await gasOf(f.market.settleDataSets(ids));
    rows.push({
      operation: "settle 100 data sets in one call (per set)",
      gas: Math.round(gas / 100),
      note: `whole call ${gas}; one proven period of backlog each`,
    });
  }

  // Retrieval challenges.
  rows.push(...(await retrievalRows(f)));

  // Withdraw earnings and terminate.
  await (await f.market.settleDataSet(id)).wait();
  await f.market.connect(f.provider).withdraw(1n);
  rows.push({
    operation: "withdraw earnings",
    gas: await gasOf(f.market.connect(f.provider).withdraw(1n)),
  });
  rows.push({
    operation: "terminate a data set (client)",
    gas: await gasOf(f.market.connect(f.client).terminateDataSet(id)),
  });
  return rows;
}

/** Settlement after 1 day, 1 year and 5 years of backlog (1-day periods, proven every day), 1 and 10,000 pieces. */
async function settleRows(genesis: string, log: (line: string) => void): Promise<MeasuredRow[]> {
  const f = await deployStorage({
    initialDate: genesis,
    provingPeriod: 86_400n,
    params: defaultParameters({ proofWindow: 43_200n, challengeCount: 4n }),
  });
  await fundClient(f, f.client, 100_000_000n * USDC);
  await registerProvider(f, f.provider, 10_000_000n * USDC);
  const trees: Trees = new Map();
  const onePiece = await dataSetOf(f, f.provider, leaves(GIB), trees);
  const tenThousand = await dataSetOf(f, f.provider, leaves(10_000n * 100n * MIB), trees);
  // Both need 5 years of escrow at the default price.
  await topUp(f, tenThousand, 1_000n * USDC);
  await prove(f, f.provider, trees);
  await f.market.settleDataSets([onePiece, tenThousand]);
  const rows: MeasuredRow[] = [];
  const marks = new Map([
    [1, "1 day"],
    [365, "1 year"],
    [1825, "5 years"],
  ]);
  log("proving 1,825 daily periods (settle rows after 1 day, 1 year and 5 years)");
  for (let day = 1; day <= 1825; day++) {
    await prove(f, f.provider, trees);
    const label = marks.get(day);
    if (!label) continue;
    const snapshot = await f.helpers.takeSnapshot();
    for (const [ds, pieces] of [
      [onePiece, "1 piece"],
      [tenThousand, "10,000 pieces"],
    ] as const) {
      rows.push({
        operation: `settle data set after ${label}, ${pieces}`,
        gas: await gasOf(f.market.connect(f.watcher).settleDataSet(ds)),
        note: `${day} proven 1-day periods of backlog`,
      });
    }
    await snapshot.restore();
  }
  return rows;
}

async function retrievalRows(f: StorageFixture): Promise<MeasuredRow[]> {
  const rc = f.retrievalChallenges;
  const p = await provider(f, 6);
  const trees: Trees = new Map();
  const a = await dataSetOf(f, p, leaves(GIB), trees);
  const b = await dataSetOf(f, p, leaves(GIB), trees);
  const c = await dataSetOf(f, p, leaves(GIB), trees);
  const d = await dataSetOf(f, p, leaves(GIB), trees);
  const bond = (await rc.parameters()).bond;
  await f.token.mint(f.watcher.address, 10n * bond);
  await f.token.connect(f.watcher).approve(await rc.getAddress(), 10n * bond);
  const round = async (answered: bigint, failed: bigint) => {
    const tree = need(trees.get(answered), "tree");
    const leaf = tree.span - 1n;
    const open = await gasOf(rc.connect(f.watcher).openChallenge(answered, leaf));
    const answer = await gasOf(
      rc.connect(p).answerChallenge(await rc.challengeCount(), tree.leaf(leaf), tree.path(leaf)),
    );
    await rc.connect(f.watcher).openChallenge(failed, 0n);
    const cid = await rc.challengeCount();
    await f.helpers.time.setNextBlockTimestamp((await rc.challengeOf(cid)).deadline + 1n);
    const enforce = await gasOf(rc.connect(f.watcher).enforceChallenge(cid));
    return { open, answer, enforce };
  };
  const first = await round(a, b);
  await rc.connect(f.watcher).deposit(f.watcher.address, 2n * bond);
  const steady = await round(c, d);
  const depth = "1 GiB data set, 24-level path";
  return [
    {
      operation: "open a retrieval challenge, first on the contract (bond pulled from allowance)",
      gas: first.open,
    },
    {
      operation: "open a retrieval challenge (bond from the challenger's ledger balance)",
      gas: steady.open,
      note: "root and depth frozen into the challenge",
    },
    {
      operation: "answer a retrieval challenge, provider's first bond",
      gas: first.answer,
      note: depth,
    },
    { operation: "answer a retrieval challenge", gas: steady.answer, note: depth },
    {
      operation: "enforce an unanswered retrieval challenge, first slash (data set ends)",
      gas: first.enforce,
    },
    {
      operation: "enforce an unanswered retrieval challenge (data set ends, collateral slashed)",
      gas: steady.enforce,
    },
  ];
}

/**
 * The storage rows. Every network starts at `genesis` (see ./deterministicChain.ts); `log` gets progress lines.
 */
export async function storageRows(
  log: (line: string) => void,
  genesis: string = BENCH_GENESIS,
): Promise<MeasuredRow[]> {
  treeCount = 0;
  log("measuring data sets, proofs, reports and retrieval challenges");
  const rows = await dataSetRows(genesis);
  rows.push(...(await settleRows(genesis, log)));
  return rows;
}
