/**
 * Fills a local node with active storage deals for the worker benchmark: registers and stakes providers,
 * funds clients' escrow, and publishes signed proposals in batches of up to 100 per provider transaction.
 * Publishing never looks at the data behind a root, so the roots are random.
 */
import { randomBytes } from "node:crypto";
import { Wallet, type HDNodeWallet, type JsonRpcProvider } from "ethers";
import {
  ProviderRegistry__factory,
  StorageMarket__factory,
  TestStablecoin__factory,
} from "../../typechain-types/index.js";
import { devAccountWallet } from "../../offchain/sdk/chain/connect.js";
import { marketDomain, signProposal } from "../../offchain/sdk/deals/eip712.js";
import type { DealProposal } from "../../offchain/sdk/deals/terms.js";
import { StrataError } from "../../offchain/sdk/errors.js";

export interface Population {
  providers: HDNodeWallet[];
  clients: HDNodeWallet[];
  /** Deals published so far, over every call. */
  deals: number;
}

export interface PopulateOptions {
  provider: JsonRpcProvider;
  addresses: { token: string; registry: string; market: string };
  /** Progress lines (stderr in the benchmark). */
  log: (line: string) => void;
}

const USDC = 1_000_000n;
// Per-transaction gas is capped at 2^24 (EIP-7825): 50 deals use ~3.3M gas.
const BATCH = 50;
const ETH = "0x" + (10n ** 21n).toString(16);

/** Create `providerCount` registered, staked providers and `clientCount` clients with escrow for `deals`. */
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
  return { providers, clients, deals: 0 };
}

const clientNonces = new Map<string, bigint>();

/**
 * Publish `count` more deals spread evenly over the population's providers, clients taking turns. Each deal:
 * 1 MiB, 24 proving periods, 1 base unit per second, 1 token of collateral.
 */
export async function publishDeals(options: PopulateOptions, pop: Population, count: number): Promise<void> {
  const { provider, addresses } = options;
  const chainId = (await provider.getNetwork()).chainId;
  const domain = marketDomain(chainId, addresses.market);
  const market = StorageMarket__factory.connect(addresses.market, provider);
  const period = await market.provingPeriod();
  const latest = await provider.getBlock("latest");
  if (latest === null) throw new StrataError("BENCH_SETUP_FAILED", "no latest block");
  const deadline = BigInt(latest.timestamp) + 6n * 3600n;
  const perProvider = Math.ceil(count / pop.providers.length);
  let signedCount = 0;
  let published = 0;
  let logged = 0;
  const started = performance.now();
  let clientTurn = 0;
  await Promise.all(
    pop.providers.map(async (p, pi) => {
      const mine = Math.min(perProvider, count - pi * perProvider);
      for (let done = 0; done < mine; done += BATCH) {
        const batch = [];
        for (let i = 0; i < Math.min(BATCH, mine - done); i++) {
          const client = pop.clients[clientTurn++ % pop.clients.length];
          if (client === undefined) throw new StrataError("BENCH_SETUP_FAILED", "no clients");
          const nonce = clientNonces.get(client.address) ?? 1n;
          clientNonces.set(client.address, nonce + 1n);
          const proposal: DealProposal = {
            client: client.address,
            provider: p.address,
            root: "0x" + randomBytes(32).toString("hex"),
            size: 1n << 20n,
            duration: 24n * period,
            pricePerSecond: 1n,
            collateral: USDC,
            startDeadline: deadline,
            nonce,
          };
          batch.push({ proposal, signature: await signProposal(client, domain, proposal) });
          signedCount++;
        }
        const receipt = await (await market.connect(p).publishDeals(batch, { gasLimit: 12_000_000n })).wait();
        if (receipt?.status !== 1)
          throw new StrataError("BENCH_SETUP_FAILED", `publishDeals failed for provider ${p.address}`);
        published += batch.length;
        if (published - logged >= 1000 || published === count) {
          logged = published;
          const s = (performance.now() - started) / 1000;
          options.log(`published ${published}/${count} deals (${signedCount} signed) in ${s.toFixed(1)} s`);
        }
      }
    }),
  );
  pop.deals += published;
}
