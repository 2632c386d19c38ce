import { HDNodeWallet, JsonRpcProvider, Network, type Signer } from "ethers";
import {
  ProviderRegistry__factory,
  StorageMarket__factory,
  TestStablecoin__factory,
  type ProviderRegistry,
  type StorageMarket,
  type TestStablecoin,
} from "../../../typechain-types/index.js";
import { StrataError } from "../errors.js";
import { loadDeployment, type StrataDeployment } from "./deployment.js";

/** Hardhat's default development mnemonic: its accounts are public, so they are only used on local chains. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** Hardhat's development account `index` (public keys: local chains only; callers enforce that). */
export function devAccountWallet(index: number): HDNodeWallet {
  return HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`);
}
/**
 * Chain ids of local development networks (Hardhat and Anvil 31337; Ganache and geth --dev 1337). The one
 * rule for public development keys: used on these chains, refused elsewhere unless explicitly allowed.
 */
export const LOCAL_CHAIN_IDS: ReadonlySet<bigint> = new Set([31337n, 1337n]);

/** Whether `chainId` is a local development chain (see LOCAL_CHAIN_IDS). */
export function isLocalChain(chainId: bigint): boolean {
  return LOCAL_CHAIN_IDS.has(chainId);
}
export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";
export const DEFAULT_KEY_ENV = "STRATA_PRIVATE_KEY";

/** The ERC-20 functions the client and provider tools use (TestStablecoin locally, any ERC-20 elsewhere). */
export type PaymentToken = Pick<
  TestStablecoin,
  "approve" | "allowance" | "balanceOf" | "decimals" | "symbol" | "getAddress" | "interface"
>;

/** A connection to a chain that runs the Strata storage suite. */
export interface StrataChain {
  rpcUrl: string;
  chainId: bigint;
  provider: JsonRpcProvider;
  deployment: StrataDeployment;
  market: StorageMarket;
  registry: ProviderRegistry;
  token: PaymentToken;
}

/** The suite's contracts with `signer` as the sender of their transactions. */
export function withSigner(
  chain: StrataChain,
  signer: Signer,
): Pick<StrataChain, "market" | "registry" | "token"> {
  return {
    market: StorageMarket__factory.connect(chain.deployment.market, signer),
    registry: ProviderRegistry__factory.connect(chain.deployment.registry, signer),
    token: TestStablecoin__factory.connect(chain.deployment.token, signer),
  };
}

/** Chain id of the local development chains (Hardhat's node, Anvil). */
export const LOCAL_CHAIN_ID = 31337n;

/**
 * How often ethers polls for new blocks (and so for a sent transaction's receipt): `requestedMs` (default 1 s), and
 * at most 250 ms on a local development chain, whose blocks come at once or every 250 ms (Anvil's block time
 * here): ethers' own default of 4 s would make each transaction there wait seconds for its receipt.
 */
export function pollingIntervalFor(chainId: bigint, requestedMs = 1_000): number {
  return chainId === LOCAL_CHAIN_ID ? Math.min(requestedMs, 250) : requestedMs;
}

export interface ConnectOptions {
  rpcUrl?: string;
  /** deployed_addresses.json to read; default: deploy/deployments/chain-<chainId>/deployed_addresses.json. */
  deploymentFile?: string;
  /** Injected fetch (used for the first probe of the RPC endpoint). */
  fetch?: typeof fetch;
  /** Timeout of the first probe, in milliseconds. */
  timeoutMs?: number;
  /**
   * How often the provider asks for the block number while something listens for new blocks (ms; default
   * DEFAULT_BLOCK_POLL_MS, at most 250 ms on a local chain: pollingIntervalFor). Waits that follow the chain block
   * by block (awaitVersion) and transaction receipts react within this delay.
   */
  blockPollMs?: number;
}

/** Block-number polling of a connected provider while block events are listened to (ethers' default is 4 s). */
export const DEFAULT_BLOCK_POLL_MS = 250;

/**
 * Connect to the RPC endpoint and the deployed suite. Throws RPC_UNREACHABLE when the endpoint does not
 * answer, DEPLOYMENT_NOT_FOUND when there is no address file, WRONG_NETWORK when the contracts of the
 * deployment have no code on that chain.
 */
export async function connectChain(options: ConnectOptions = {}): Promise<StrataChain> {
  const rpcUrl = options.rpcUrl ?? DEFAULT_RPC_URL;
  const chainId = await probeChainId(rpcUrl, options.fetch ?? fetch, options.timeoutMs ?? 5_000);
  const deployment = await loadDeployment({
    chainId,
    ...(options.deploymentFile === undefined ? {} : { file: options.deploymentFile }),
  });
  // The chain id was just read, so ethers need not ask again; cacheTimeout -1 so that reads right after a
  // mined block see it (the block number is otherwise cached).
  const provider = new JsonRpcProvider(rpcUrl, Network.from(chainId), {
    staticNetwork: true,
    cacheTimeout: -1,
    pollingInterval: pollingIntervalFor(chainId, options.blockPollMs ?? DEFAULT_BLOCK_POLL_MS),
  });
  try {
    await checkCode(provider, chainId, rpcUrl, deployment);
  } catch (error) {
    provider.destroy();
    throw error;
  }
  return {
    rpcUrl,
    chainId,
    provider,
    deployment,
    market: StorageMarket__factory.connect(deployment.market, provider),
    registry: ProviderRegistry__factory.connect(deployment.registry, provider),
    token: TestStablecoin__factory.connect(deployment.token, provider),
  };
}

/** Ask the endpoint for its chain id with one JSON-RPC call (fails fast instead of ethers' retry loop). */
export async function probeChainId(
  rpcUrl: string,
  fetchFn: typeof fetch,
  timeoutMs: number,
): Promise<bigint> {
  const hint = nodeHint(rpcUrl);
  let response: Response;
  try {
    response = await fetchFn(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw new StrataError("RPC_UNREACHABLE", `cannot reach the RPC endpoint ${rpcUrl}`, {
      details: hint,
      cause,
    });
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (cause) {
    throw new StrataError(
      "RPC_UNREACHABLE",
      `${rpcUrl} is not a JSON-RPC endpoint (HTTP ${response.status})`,
      {
        details: hint,
        cause,
      },
    );
  }
  const result = (body as { result?: unknown } | null)?.result;
  if (typeof result !== "string" || !/^0x[0-9a-fA-F]+$/.test(result)) {
    throw new StrataError("RPC_UNREACHABLE", `${rpcUrl} did not return a chain id`, { details: hint });
  }
  return BigInt(result);
}

/** `command` run against `rpcUrl`: prefixed with STRATA_RPC_URL=<url> unless it is the default endpoint. */
export function withRpcEnv(rpcUrl: string, command: string): string {
  return rpcUrl === DEFAULT_RPC_URL ? command : `STRATA_RPC_URL=${rpcUrl} ${command}`;
}

/** What to do when no node answers at `rpcUrl`: start the local one there, or point at another. */
function nodeHint(rpcUrl: string): string {
  let port = "";
  try {
    const url = new URL(rpcUrl);
    if (url.hostname === "127.0.0.1" || url.hostname === "localhost") port = url.port;
  } catch {
    // not a URL: no command to suggest
  }
  const start =
    rpcUrl === DEFAULT_RPC_URL
      ? ` Start one with "npm run node"`
      : port === ""
        ? ""
        : ` Start one with "npx hardhat node --port ${port}" (or "anvil --port ${port}")`;
  return `is the node at ${rpcUrl} running?${start}, or point at another with --rpc <url>`;
}

async function checkCode(
  provider: JsonRpcProvider,
  chainId: bigint,
  rpcUrl: string,
  deployment: StrataDeployment,
): Promise<void> {
  const names = ["market", "registry", "token"] as const;
  let codes: string[];
  try {
    codes = await Promise.all(names.map((name) => provider.getCode(deployment[name])));
  } catch (cause) {
    throw new StrataError("RPC_UNREACHABLE", `cannot read contract code from ${rpcUrl}`, { cause });
  }
  const missing = names.filter((_, i) => codes[i] === "0x");
  if (missing.length > 0) {
    const redeploy = isLocalChain(chainId)
      ? `a local node loses its contracts when restarted: run "${withRpcEnv(rpcUrl, "npm run deploy:local")}" again`
      : "deploy the suite to this chain first";
    throw new StrataError(
      "WRONG_NETWORK",
      `the ${missing.join(", ")} of ${deployment.source} ${missing.length === 1 ? "has" : "have"} no code on chain ${chainId} at ${rpcUrl}`,
      { details: `${redeploy}, or pass the right --rpc / --deployment` },
    );
  }
}
