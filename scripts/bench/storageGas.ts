/**
 * Gas of the storage market's operations and of retrieval challenges (rows of bench/gas.json; budgets in
 * ./budgets.ts). Called by ./measureGas.ts, which also makes every run repeat to the unit.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionResponse } from "ethers";
import { PieceTree } from "../../offchain/sdk/commitment/merkle.js";
import type { DealTerms } from "../../offchain/sdk/deals/terms.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import {
  defaultParameters,
  deployStorage,
  enterProofWindow,
  buildProofs,
  fundClient,
  makeProposal,
  publish,
  registerProvider,
  USDC,
  type PieceData,
  type StorageFixture,
} from "../lib/inProcessSuite.js";
import { faultRunHint, foldFaultRuns } from "../../offchain/sdk/deals/faultRuns.js";
import { BENCH_GENESIS, seededBytes } from "./deterministicChain.js";
import type { MeasuredRow } from "./report.js";

/** Consecutive periods proved per proof row (the row keeps the highest). */
const PROOF_SAMPLES = 8;

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

type Held = Map<bigint, { deal: DealTerms; piece: PieceData }>;

async function publishMany(
  f: StorageFixture,
  provider: HardhatEthersSigner,
  piece: PieceData,
  count: number,
  held: Held,
  periods = 48n,
): Promise<number[]> {
  const gas: number[] = [];
  for (let done = 0; done < count; done += 10) {
    const batch = [];
    for (let i = 0; i < Math.min(10, count - done); i++) {
      batch.push(await makeProposal(f, { provider, piece, periods }));
    }
    const tx = f.market.connect(provider).publishDeals(batch);
    const receipt = await (await tx).wait();
    if (!receipt) throw setupFailed("no receipt");
    gas.push(Number(receipt.gasUsed));
    for (const log of receipt.logs) {
      const parsed = f.market.interface.parseLog(log);
      if (parsed?.name === "DealPublished") {
        const { dealFromEvent } = await import("../../offchain/sdk/deals/terms.js");
        const deal = dealFromEvent(parsed);
        held.set(deal.id, { deal, piece });
      }
    }
  }
  return gas;
}

async function proveGas(f: StorageFixture, provider: HardhatEthersSigner, held: Held): Promise<number> {
  const period = (await f.market.proofState(provider.address)).nextPeriod;
  await enterProofWindow(f, period);
  const proofs = await buildProofs(f, provider.address, held);
  return gasOf(f.market.connect(provider).submitProof(period, proofs));
}

/**
 * Retrieval challenges on a provider's 256 MiB deals, twice: first on a fresh challenge contract (the bond
 * pulled from the watcher's allowance, the provider's first bond, the first slash with a treasury share), then
 * in steady state (the watcher keeps a ledger balance here and funds bonds from it; every account already has
 * its balances). No product budget exists for these; the budgets sit beside the operations they resemble:
 * opening is a bonded one-deal commitment like publishing one deal (150k), answering is one Merkle opening
 * like a one-deal proof (120k), enforcing ends a deal with a slash through one call to the market (150k).
 */
async function retrievalRows(f: StorageFixture, piece: PieceData): Promise<MeasuredRow[]> {
  const pieceMiB = piece.data.length / 2 ** 20;
  const rc = f.retrievalChallenges;
  const provider = f.others[3];
  if (!provider) throw setupFailed("not enough signers");
  await registerProvider(f, provider, 1_000_000n * USDC);
  const held: Held = new Map();
  await publishMany(f, provider, piece, 4, held);
  const deals = [...held.values()].map((h) => h.deal);
  const bond = (await rc.parameters()).bond;
  await f.token.mint(f.watcher.address, 10n * bond);
  await f.token.connect(f.watcher).approve(await rc.getAddress(), 10n * bond);
  const leaf = piece.tree.leafCount - 1;
  const depth = `${pieceMiB} MiB piece, ${piece.tree.depth}-level path`;

  const round = async (answered: DealTerms, failed: DealTerms) => {
    const open = await gasOf(rc.connect(f.watcher).openChallenge(answered, BigInt(leaf)));
    const answerGas = await gasOf(
      rc
        .connect(provider)
        .answerChallenge(await rc.challengeCount(), answered, piece.tree.leaf(leaf), piece.tree.path(leaf)),
    );
    await rc.connect(f.watcher).openChallenge(failed, 0n);
    const id = await rc.challengeCount();
    await f.helpers.time.setNextBlockTimestamp((await rc.challengeOf(id)).deadline + 1n);
    const enforce = await gasOf(rc.connect(f.watcher).enforceChallenge(id, failed));
    return { open, answer: answerGas, enforce };
  };
  const [a, b, c, d] = deals;
  if (!a || !b || !c || !d) throw setupFailed("deals not published");
  const first = await round(a, b);
  await rc.connect(f.watcher).deposit(f.watcher.address, 2n * bond);
  const steady = await round(c, d);
  return [
    {
      operation: "open a retrieval challenge, first on the contract (bond pulled from allowance)",
      gas: first.open,
      note: "creates the challenge counter and the contract's token balance on top of the steady-state cost",
    },
    {
      operation: "open a retrieval challenge (bond from the challenger's ledger balance)",
      gas: steady.open,
      note: "three new storage words: the challenge (2) and the deal's record (1)",
    },
    {
      operation: "answer a retrieval challenge, provider's first bond",
      gas: first.answer,
      note: `${depth}; creates the provider's ledger balance`,
    },
    {
      operation: "answer a retrieval challenge",
      gas: steady.answer,
      note: depth,
    },
    {
      operation: "enforce an unanswered retrieval challenge, first slash (deal ends)",
      gas: first.enforce,
      note: "creates the challenger's bond balance and the client's and treasury's market balances",
    },
    {
      operation: "enforce an unanswered retrieval challenge (deal ends, collateral slashed)",
      gas: steady.enforce,
      note: "whole collateral split client / challenger / treasury, bond credited back",
    },
  ];
}

/**
 * The storage rows, on deals of `pieceMiB` MiB pieces. Every network starts at `genesis` (see
 * ./deterministicChain.ts); `log` gets progress lines.
 */
export async function storageRows(
  pieceMiB: number,
  log: (line: string) => void,
  genesis: string = BENCH_GENESIS,
): Promise<MeasuredRow[]> {
  const data = seededBytes(pieceMiB * 2 ** 20, "piece");
  const piece: PieceData = { data, tree: PieceTree.build(data) };
  log(`built a ${pieceMiB} MiB piece commitment (depth ${piece.tree.depth})`);

  const f = await deployStorage({ initialDate: genesis });
  const [p1, p10, p100] = [f.provider, f.provider2, f.others[0]];
  if (!p100) throw setupFailed("not enough signers");
  for (const p of [p1, p10, p100]) await registerProvider(f, p, 1_000_000n * USDC);
  await fundClient(f, f.client, 100_000_000n * USDC);
  const rows: MeasuredRow[] = [];

  // Publish: the first deal of a provider also schedules its first challenge seed; measure a steady-state one.
  const held1: Held = new Map();
  await publishMany(f, p1, piece, 1, held1);
  const single = await makeProposal(f, { provider: p1, piece, periods: 48n });
  const publishOne = await gasOf(f.market.connect(p1).publishDeals([single]));
  rows.push({
    operation: "publish one deal (escrow pulled from allowance)",
    gas: publishOne,
  });

  const held10: Held = new Map();
  const [batch10] = await publishMany(f, p10, piece, 10, held10);
  if (batch10 === undefined) throw setupFailed("no batch");
  const batchAgain = await publishMany(f, p10, piece, 10, held10);
  const steadyBatch = batchAgain[0] ?? batch10;
  rows.push({
    operation: "publish deals, batch of 10, per deal",
    gas: Math.round(steadyBatch / 10),
    note: `whole batch ${steadyBatch}`,
  });
  // p10 now has 20 deals; give p1 exactly 1 by terminating the extra one later is unnecessary: use a fresh provider.
  const held100: Held = new Map();
  await publishMany(f, p100, piece, 100, held100);

  // Proofs: one proof per provider per period, whatever the number of deals.
  const soloProvider = f.others[1];
  const tenProvider = f.others[2];
  if (!soloProvider || !tenProvider) throw setupFailed("not enough signers");
  await registerProvider(f, soloProvider, 1_000_000n * USDC);
  await registerProvider(f, tenProvider, 1_000_000n * USDC);
  const heldSolo: Held = new Map();
  await publishMany(f, soloProvider, piece, 1, heldSolo);
  const heldTen: Held = new Map();
  await publishMany(f, tenProvider, piece, 10, heldTen);
  const depthNote = `${pieceMiB} MiB pieces (tree depth ${piece.tree.depth}), ${(await f.market.parameters()).challengeCount} challenges`;
  // A proof's cost depends on which deals the period's seed challenges: a challenge that reads a storage word
  // (a deal, a word of the active list) another challenge already read is ~2k cheaper. The seed is a block hash,
  // so any change to the contracts or to the steps above draws other challenges; one sample would then jump by
  // ~2k with no change in cost. Prove PROOF_SAMPLES consecutive periods and keep the highest: the budget must
  // hold for every proof, and the worst of several samples does not depend on the luck of one seed.
  const provers = [
    { label: "1 deal", provider: soloProvider, held: heldSolo, samples: [] as number[] },
    { label: "10 deals", provider: tenProvider, held: heldTen, samples: [] as number[] },
    { label: "100 deals", provider: p100, held: held100, samples: [] as number[] },
  ];
  // Round by round: the providers share the clock, so each proves every period.
  for (let i = 0; i < PROOF_SAMPLES; i++) {
    for (const p of provers) p.samples.push(await proveGas(f, p.provider, p.held));
  }
  for (const { label, samples } of provers) {
    const lowest = Math.min(...samples).toLocaleString("en-US");
    rows.push({
      operation: `proof for a provider's period, ${label}`,
      gas: Math.max(...samples),
      note: `${depthNote}; highest of ${PROOF_SAMPLES} consecutive periods (lowest ${lowest})`,
    });
  }

  // Report a missed proof: the 10-deal provider skips a period; a watcher reports it and earns the bounty.
  const missedPeriod = (await f.market.proofState(tenProvider.address)).nextPeriod;
  await f.helpers.time.increaseTo(await f.market.periodStart(missedPeriod + 1n));
  const reportGas = await gasOf(f.market.connect(f.watcher).reportMissedProofs(tenProvider.address));
  rows.push({
    operation: "report a missed proof (slash bounty), first report by this watcher",
    gas: reportGas,
  });
  const missedAgain = (await f.market.proofState(tenProvider.address)).nextPeriod;
  await f.helpers.time.increaseTo(await f.market.periodStart(missedAgain + 1n));
  const reportAgain = await gasOf(f.market.connect(f.watcher).reportMissedProofs(tenProvider.address));
  rows.push({
    operation: "report a missed proof (slash bounty), watcher with a balance",
    gas: reportAgain,
  });

  rows.push(...(await retrievalRows(f, piece)));

  // Settlement after 1 day and after 1 year of backlog, on a market with daily proving periods.
  const g = await deployStorage({
    initialDate: genesis,
    provingPeriod: 86_400n,
    params: defaultParameters({ proofWindow: 43_200n, maxDealPeriods: 800n }),
  });
  await registerProvider(g, g.provider, 1_000_000n * USDC);
  await fundClient(g, g.client, 100_000_000n * USDC);
  const small = seededBytes(1 << 20, "small piece");
  const smallPiece: PieceData = { data: small, tree: PieceTree.build(small) };
  const heldG: Held = new Map();
  const dayDeal = await makeProposal(g, { piece: smallPiece, periods: 730n });
  const yearDeal = await makeProposal(g, { piece: smallPiece, periods: 730n });
  const other = await makeProposal(g, { piece: smallPiece, periods: 730n });
  const deals = await publish(g, [dayDeal, yearDeal, other]);
  for (const d of deals) heldG.set(d.id, { deal: d, piece: smallPiece });
  const [dDay, dYear, dOther] = deals;
  if (!dDay || !dYear || !dOther) throw setupFailed("deals not published");
  // Warm the provider's ledger balance as in steady state (it has earned before).
  await proveGas(g, g.provider, heldG);
  await proveGas(g, g.provider, heldG);
  await g.market.settleDeal(dOther);
  const settleDay = await gasOf(g.market.settleDeal(dDay));
  rows.push({ operation: "settle payments after 1 day of backlog", gas: settleDay });
  log("proving 365 daily periods (with 12 missed periods on the way)");
  for (let day = 0; day < 365; day++) {
    if (day % 30 === 15) {
      const next = (await g.market.proofState(g.provider.address)).nextPeriod;
      await g.helpers.time.increaseTo(await g.market.periodStart(next + 1n));
      await g.market.connect(g.watcher).reportMissedProofs(g.provider.address);
      continue;
    }
    await proveGas(g, g.provider, heldG);
  }
  const settleYear = await gasOf(g.market.settleDeal(dYear));
  rows.push({
    operation: "settle payments after 1 year of backlog",
    gas: settleYear,
    note: "365 periods, 12 separate missed-period runs in the fault log",
  });

  // Worst case for the fault log: a deal that starts between fault runs needs a binary search over them.
  const between = await makeProposal(g, { piece: smallPiece, periods: 400n });
  const [dBetween] = await publish(g, [between]);
  if (!dBetween) throw setupFailed("not published");
  heldG.set(dBetween.id, { deal: dBetween, piece: smallPiece });
  for (let day = 0; day < 60; day++) {
    if (day % 10 === 5) {
      const next = (await g.market.proofState(g.provider.address)).nextPeriod;
      await g.helpers.time.increaseTo(await g.market.periodStart(next + 1n));
      await g.market.connect(g.watcher).reportMissedProofs(g.provider.address);
      continue;
    }
    await proveGas(g, g.provider, heldG);
  }
  const reports = await g.market.queryFilter(g.market.filters.MissedProofsReported(g.provider.address));
  const runs = foldFaultRuns(reports.map((e) => ({ fromPeriod: e.args.fromPeriod, count: e.args.count })));
  const snapshot = await g.helpers.takeSnapshot();
  rows.push({
    operation: "settle payments, deal started between fault runs, no hint",
    gas: await gasOf(g.market.settleDeal(dBetween)),
    note: `binary search over ${runs.length} fault runs; O(log runs), independent of backlog length`,
  });
  await snapshot.restore();
  rows.push({
    operation: "settle payments, deal started between fault runs, with hint",
    gas: await gasOf(g.market.settleDealWithHint(dBetween, faultRunHint(runs, dBetween.startPeriod))),
    note: `O(1) with the run hint computed off chain from MissedProofsReported events`,
  });

  // Other lifecycle operations, for reference.
  const extra = await makeProposal(g, { piece: smallPiece, periods: 2n });
  const [short] = await publish(g, [extra]);
  if (!short) throw setupFailed("not published");
  rows.push({
    operation: "terminate a deal (client)",
    gas: await gasOf(g.market.connect(g.client).terminateDeal(short)),
  });
  await g.market.connect(g.provider).withdraw(1n);
  rows.push({
    operation: "withdraw earnings",
    gas: await gasOf(g.market.connect(g.provider).withdraw(1n)),
  });
  return rows;
}
