/**
 * Fills a local node with active data sets for the worker benchmark: registers and stakes providers, funds
 * clients' balances, opens data sets from clients' signed terms and applies their signed states in batches of
 * `BATCH` per provider transaction. The market never looks at the data behind a root, so the roots are random.
 */
import { randomBytes } from "node:crypto";
import { Wallet, type HDNodeWallet, type JsonRpcProvider, type Log } from "ethers";
import {
  ProviderRegistry__factory,
  StorageMarket__factory,
  TestStablecoin__factory,
  type StorageMarket,
} from "../../typechain-types/index.js";
import { devAccountWallet } from "../../offchain/sdk/chain/connect.js";
import {
  CREATE_DATA_SET_TYPES,
  DATA_SET_STATE_TYPES,
  dataSetDomain,
  type CreateDataSet,
  type DataSetState,
} from "../../offchain/sdk/datasets/eip712.js";
import { StrataError } from "../../offchain/sdk/errors.js";

export interface Population {
  providers: HDNodeWallet[];
  clients: HDNodeWallet[];
  /** Data sets opened so far, over every call. */
  dataSets: number;
}

export interface PopulateOptions {
  provider: JsonRpcProvider;
  addresses: { token: string; registry: string; market: string };
  /** Progress lines (stderr in the benchmark). */
  log: (line: string) => void;
}

const USDC = 1_000_000n;
// Per-transaction gas is capped at 2^24 (EIP-7825): 50 states per updateDataSets stay well under it.
const BATCH = 50;
const ETH = "0x" + (10n ** 21n).toString(16);

/** Create `providerCount` registered, staked providers and `clientCount` clients with funded ledger balances. */
export async function createParties(
  options: PopulateOptions,
  providerCount: number,
  clientCount: number,
): Promise<Population> {
  const { provider, addresses } = options;
  const owner = devAccountWallet(0).connect(provider);
  const token = TestStablecoin__factory.connect(addresses.token, owner);
  const fresh = (n: number) => Array.from({ length: n }, () => Wallet.createRandom().connect(provider));
  const providers = fresh(providerCount);
  const clients = fresh(clientCount);
  for (const w of [...providers, ...clients]) await provider.send("hardhat_setBalance", [w.address, ETH]);
  let nonce = await provider.getTransactionCount(owner.address, "pending");
  const mints = [...providers, ...clients].map((w) =>
    token.mint(w.address, 1_000_000n * USDC, { nonce: nonce++ }),
  );
  await Promise.all((await Promise.all(mints)).map((tx) => tx.wait()));
  await Promise.all(
    providers.map(async (w, i) => {
      const registry = ProviderRegistry__factory.connect(addresses.registry, w);
      const t = TestStablecoin__factory.connect(addresses.token, w);
      await (await t.approve(addresses.registry, 2n ** 255n)).wait();
      await (await t.approve(addresses.market, 2n ** 255n)).wait();
      // Unreachable endpoints on purpose: the benchmark measures indexing and duties, not sampling.
      await (await registry.register(w.address, `http://127.0.0.1:9/p${i}`, 1n << 40n, 1n)).wait();
      await (await registry.stake(w.address, 500_000n * USDC)).wait();
    }),
  );
  await Promise.all(
    clients.map(async (w) => {
      const t = TestStablecoin__factory.connect(addresses.token, w);
      await (await t.approve(addresses.market, 2n ** 255n)).wait();
      const market = StorageMarket__factory.connect(addresses.market, w);
      await (await market.deposit(w.address, 500_000n * USDC)).wait();
    }),
  );
  options.log(`registered ${providerCount} providers and funded ${clientCount} clients`);
  return { providers, clients, dataSets: 0 };
}

const clientNonces = new Map<string, bigint>();

/** The id of the data set a createDataSet receipt's DataSetCreated event names. */
function createdId(market: StorageMarket, logs: readonly Log[]): bigint {
  for (const entry of logs) {
    const parsed = market.interface.parseLog(entry);
    if (parsed?.name === "DataSetCreated") return parsed.args[0] as bigint;
  }
  throw new StrataError("BENCH_SETUP_FAILED", "createDataSet emitted no DataSetCreated");
}

/**
 * Open `count` more data sets spread evenly over the population's providers, clients taking turns. Each: created by
 * its provider from the client's signed terms, topped up by the client, then given a 1 MiB state (16,384 leaves);
 * states are applied `BATCH` per updateDataSets call.
 */
export async function openDataSets(options: PopulateOptions, pop: Population, count: number): Promise<void> {
  const { provider, addresses } = options;
  const chainId = (await provider.getNetwork()).chainId;
  const domain = dataSetDomain(chainId, addresses.market);
  const latest = await provider.getBlock("latest");
  if (latest === null) throw new StrataError("BENCH_SETUP_FAILED", "no latest block");
  const deadline = BigInt(latest.timestamp) + 6n * 3600n;
  const perProvider = Math.ceil(count / pop.providers.length);
  let opened = 0;
  let logged = 0;
  const started = performance.now();
  let clientTurn = 0;
  await Promise.all(
    pop.providers.map(async (p, pi) => {
      const market = StorageMarket__factory.connect(addresses.market, p);
      const mine = Math.max(0, Math.min(perProvider, count - pi * perProvider));
      for (let done = 0; done < mine; done += BATCH) {
        const states = [];
        for (let i = 0; i < Math.min(BATCH, mine - done); i++) {
          const client = pop.clients[clientTurn++ % pop.clients.length];
          if (client === undefined) throw new StrataError("BENCH_SETUP_FAILED", "no clients");
          const nonce = clientNonces.get(client.address) ?? 1n;
          clientNonces.set(client.address, nonce + 1n);
          const terms: CreateDataSet = {
            client: client.address,
            provider: p.address,
            pricePerTiBMonth: 2_500_000n,
            collateralPerTiB: USDC,
            noticePeriods: 2n,
            nonce,
            deadline,
          };
          const signature = await client.signTypedData(domain, CREATE_DATA_SET_TYPES, terms);
          // The id comes from the receipt: a staticCall would predict the next id, which another provider's
          // concurrent loop may take first (then updateDataSets reverts with MarketNotDataSetParty).
          const created = await (await market.createDataSet(terms, signature)).wait();
          const id = createdId(market, created?.logs ?? []);
          // Anyone may top up: the provider pays (clients are shared by the providers' concurrent loops).
          await (await market.topUp(id, 10n * USDC)).wait();
          const state: DataSetState = {
            dataSetId: id,
            version: 1n,
            root: "0x" + randomBytes(32).toString("hex"),
            span: 1n << 14n,
          };
          states.push({
            state,
            signer: client.address,
            signature: await client.signTypedData(domain, DATA_SET_STATE_TYPES, state),
          });
        }
        const receipt = await (await market.updateDataSets(states, { gasLimit: 12_000_000n })).wait();
        if (receipt?.status !== 1)
          throw new StrataError("BENCH_SETUP_FAILED", `updateDataSets failed for provider ${p.address}`);
        opened += states.length;
        if (opened - logged >= 1000 || opened === count) {
          logged = opened;
          const s = (performance.now() - started) / 1000;
          options.log(`opened ${opened}/${count} data sets in ${s.toFixed(1)} s`);
        }
      }
    }),
  );
  pop.dataSets += opened;
}
