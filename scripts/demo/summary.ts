/**
 * The demo's closing summary, read back from the chain (not from what the demo believes happened): a table of
 * data sets (price per TiB-month, bytes, payments, slashing), one of parties with their balances and what they earned or lost, and the gas of every kind of
 * transaction the run sent, grouped by contract function.
 */
import { Interface, type JsonRpcProvider } from "ethers";
import {
  ComputeMarket__factory,
  ProviderRegistry__factory,
  RetrievalChallenges__factory,
  StorageMarket__factory,
  TestStablecoin__factory,
} from "../../typechain-types/index.js";
import { DealEndReason, wordsName } from "../../offchain/sdk/chain/enums.js";
import type { LocalChain } from "../lib/localChain.js";

/** How a data set ended, in words. */
function endReasonWords(reason: bigint): string {
  const name = DealEndReason.nameOf(reason);
  return name === undefined ? `reason ${reason}` : wordsName(name);
}

export interface DataSetRow {
  id: string;
  provider: string;
  /** Tokens per TiB per 30 days. */
  pricePerTiBMonth: string;
  /** Bytes billed and challenged (span × 64). */
  bytes: string;
  state: string;
  paidToProvider: string;
  slashed: string;
  compensation: string;
}

export interface PartyRow {
  role: string;
  address: string;
  wallet: string;
  ledgers: string;
  stake: string;
}

export interface GasRow {
  operation: string;
  count: number;
  averageGas: number;
  maxGas: number;
}

export interface Summary {
  dataSets: DataSetRow[];
  parties: PartyRow[];
  gas: GasRow[];
  proofs: number;
  missedPeriodsReported: number;
  retrievalChallenges: { opened: number; answered: number; failed: number };
  transactions: number;
}

/** Format base units of the 6-decimal test token. */
export function tokens(amount: bigint): string {
  const sign = amount < 0n ? "-" : "";
  const abs = amount < 0n ? -amount : amount;
  const whole = abs / 1_000_000n;
  const frac = (abs % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return `${sign}${whole.toLocaleString("en-US")}${frac === "" ? "" : "." + frac}`;
}

export async function collectSummary(
  chain: LocalChain,
  parties: { role: string; address: string }[],
  fromBlock: number,
): Promise<Summary> {
  const provider = chain.provider;
  const market = StorageMarket__factory.connect(chain.addresses.market, provider);
  const registry = ProviderRegistry__factory.connect(chain.addresses.registry, provider);
  const token = TestStablecoin__factory.connect(chain.addresses.token, provider);
  const retrieval =
    chain.addresses.retrievalChallenges === undefined
      ? null
      : RetrievalChallenges__factory.connect(chain.addresses.retrievalChallenges, provider);
  const compute =
    chain.addresses.computeMarket === undefined
      ? null
      : ComputeMarket__factory.connect(chain.addresses.computeMarket, provider);

  const created = await market.queryFilter(market.filters.DataSetCreated(), fromBlock);
  const ended = await market.queryFilter(market.filters.DataSetEnded(), fromBlock);
  const terminated = await market.queryFilter(market.filters.DataSetTerminated(), fromBlock);
  const settled = await market.queryFilter(market.filters.DataSetSettled(), fromBlock);
  const slashed = await market.queryFilter(market.filters.Slashed(), fromBlock);
  const proofs = await market.queryFilter(market.filters.ProofSubmitted(), fromBlock);
  const missed = await market.queryFilter(market.filters.MissedProofsReported(), fromBlock);
  const dataSets: DataSetRow[] = await Promise.all(
    created.map(async (e) => {
      const id = e.args.id;
      const view = await market.dataSet(id);
      const end = ended.find((x) => x.args.id === id);
      const ending = terminated.find((x) => x.args.id === id);
      const paid =
        settled.filter((x) => x.args.id === id).reduce((sum, x) => sum + x.args.amount, 0n) +
        (end?.args.paidToProvider ?? 0n);
      const slash = slashed.filter((x) => x.args.dataSetId === id);
      const state =
        end !== undefined
          ? `ended: ${endReasonWords(end.args.reason)}`
          : ending !== undefined
            ? `ending: ${endReasonWords(ending.args.reason)}`
            : "live";
      return {
        id: id.toString(),
        provider: e.args.provider,
        pricePerTiBMonth: tokens(e.args.pricePerTiBMonth),
        bytes: (view.span * 64n).toLocaleString("en-US"),
        state,
        paidToProvider: tokens(paid),
        slashed: tokens(
          slash.reduce((s, x) => s + x.args.toHarmed + x.args.toReporter + x.args.toTreasury, 0n),
        ),
        compensation: tokens(slash.reduce((s, x) => s + x.args.toHarmed, 0n)),
      };
    }),
  );

  const partyRows: PartyRow[] = [];
  for (const party of parties) {
    const [wallet, inMarket, inRetrieval, inCompute, stake, [bond]] = await Promise.all([
      token.balanceOf(party.address),
      market.balanceOf(party.address),
      retrieval?.balanceOf(party.address) ?? Promise.resolve(0n),
      compute?.balanceOf(party.address) ?? Promise.resolve(0n),
      registry.stakeInfo(party.address),
      market.proofBond(party.address),
    ]);
    const ledgers = [
      `storage ${tokens(inMarket)}`,
      ...(retrieval === null ? [] : [`retrieval ${tokens(inRetrieval)}`]),
      ...(compute === null ? [] : [`compute ${tokens(inCompute)}`]),
    ].join(", ");
    const hasStake = stake.free + stake.locked + stake.unbonding + bond > 0n;
    partyRows.push({
      role: party.role,
      address: party.address,
      wallet: tokens(wallet),
      ledgers,
      stake: hasStake
        ? `${tokens(stake.free)} free / ${tokens(stake.locked)} locked / ${tokens(bond)} proof bond`
        : "-",
    });
  }

  let opened = 0;
  let answered = 0;
  let failed = 0;
  if (retrieval !== null) {
    opened = (await retrieval.queryFilter(retrieval.filters.RetrievalChallengeOpened(), fromBlock)).length;
    answered = (await retrieval.queryFilter(retrieval.filters.RetrievalChallengeAnswered(), fromBlock))
      .length;
    failed = (await retrieval.queryFilter(retrieval.filters.RetrievalChallengeFailed(), fromBlock)).length;
  }
  const { gas, transactions } = await gasByOperation(chain, fromBlock);
  return {
    dataSets,
    parties: partyRows,
    gas,
    proofs: proofs.length,
    missedPeriodsReported: missed.reduce((s, e) => s + Number(e.args.count), 0),
    retrievalChallenges: { opened, answered, failed },
    transactions,
  };
}

/** Every transaction since `fromBlock` to one of the suite's contracts, grouped by `Contract.function`. */
async function gasByOperation(
  chain: LocalChain,
  fromBlock: number,
): Promise<{ gas: GasRow[]; transactions: number }> {
  const provider: JsonRpcProvider = chain.provider;
  const contracts = new Map<string, { name: string; iface: Interface }>([
    [
      chain.addresses.market.toLowerCase(),
      { name: "StorageMarket", iface: new Interface(StorageMarket__factory.abi) },
    ],
    [
      chain.addresses.registry.toLowerCase(),
      { name: "ProviderRegistry", iface: new Interface(ProviderRegistry__factory.abi) },
    ],
    [
      chain.addresses.token.toLowerCase(),
      { name: "Token", iface: new Interface(TestStablecoin__factory.abi) },
    ],
  ]);
  if (chain.addresses.retrievalChallenges !== undefined)
    contracts.set(chain.addresses.retrievalChallenges.toLowerCase(), {
      name: "RetrievalChallenges",
      iface: new Interface(RetrievalChallenges__factory.abi),
    });
  if (chain.addresses.computeMarket !== undefined)
    contracts.set(chain.addresses.computeMarket.toLowerCase(), {
      name: "ComputeMarket",
      iface: new Interface(ComputeMarket__factory.abi),
    });
  const head = await provider.getBlockNumber();
  const groups = new Map<string, number[]>();
  let transactions = 0;
  for (let n = fromBlock; n <= head; n++) {
    const block = await provider.getBlock(n, true);
    if (block === null) continue;
    for (const tx of block.prefetchedTransactions) {
      const target = tx.to?.toLowerCase();
      const contract = target === undefined ? undefined : contracts.get(target);
      if (contract === undefined) continue;
      const receipt = await provider.getTransactionReceipt(tx.hash);
      if (receipt?.status !== 1) continue;
      const fn = contract.iface.parseTransaction({ data: tx.data });
      const key = `${contract.name}.${fn?.name ?? tx.data.slice(0, 10)}`;
      const list = groups.get(key) ?? [];
      list.push(Number(receipt.gasUsed));
      groups.set(key, list);
      transactions++;
    }
  }
  const gas = [...groups.entries()]
    .map(([operation, list]) => ({
      operation,
      count: list.length,
      averageGas: Math.round(list.reduce((a, b) => a + b, 0) / list.length),
      maxGas: Math.max(...list),
    }))
    .sort((a, b) => a.operation.localeCompare(b.operation));
  return { gas, transactions };
}

/** Render rows as a fixed-width text table. */
export function table(header: string[], rows: string[][], rightAligned: number[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned.includes(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function printSummary(
  summary: Summary,
  where: string[],
  write: (line: string) => void,
  leases: { id: string; provider: string; closedBy: string; reason: string }[] = [],
): void {
  const short = (a: string) => `${a.slice(0, 8)}…${a.slice(-4)}`;
  write("\n=== Summary (read back from the chain) ===\n");
  write("Data sets");
  write(
    table(
      ["data set", "provider", "per TiB-month", "bytes", "state", "paid to provider", "slashed", "to client"],
      summary.dataSets.map((d) => [
        d.id,
        short(d.provider),
        d.pricePerTiBMonth,
        d.bytes,
        d.state,
        d.paidToProvider,
        d.slashed,
        d.compensation,
      ]),
      [2, 3, 5, 6, 7],
    ),
  );
  write(
    `\n${summary.proofs} proofs accepted; ${summary.missedPeriodsReported} missed proof period(s) reported; retrieval ` +
      `challenges: ${summary.retrievalChallenges.opened} opened, ${summary.retrievalChallenges.answered} answered, ` +
      `${summary.retrievalChallenges.failed} failed (slashed)`,
  );
  if (leases.length > 0) {
    write("\nCompute leases");
    write(
      table(
        ["lease", "provider", "closed for", "closed by"],
        leases.map((l) => [l.id, short(l.provider), l.reason, l.closedBy === "" ? "-" : short(l.closedBy)]),
      ),
    );
  }
  write("\nParties (tokens; ledgers are pull-payment balances inside the contracts)");
  write(
    table(
      ["role", "address", "wallet", "ledgers", "stake"],
      summary.parties.map((p) => [p.role, short(p.address), p.wallet, p.ledgers, p.stake]),
      [2],
    ),
  );
  write(`\nGas per operation (${summary.transactions} transactions)`);
  write(
    table(
      ["operation", "count", "average gas", "max gas"],
      summary.gas.map((g) => [
        g.operation,
        String(g.count),
        g.averageGas.toLocaleString("en-US"),
        g.maxGas.toLocaleString("en-US"),
      ]),
      [1, 2, 3],
    ),
  );
  write("\nWhere things are");
  for (const line of where) write(`  ${line}`);
}
