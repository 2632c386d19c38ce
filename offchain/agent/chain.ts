/**
 * The agent's view of the chain: typed contracts bound to the provider's signer, the proving clock read from
 * chain time (never the wall clock: local chains travel in time), and "simulate, then send, then wait"
 * with custom errors decoded by name.
 */
import {
  getAddress,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  type Provider,
  type Signer,
} from "ethers";
import {
  IRetrievalChallenges__factory,
  ProviderRegistry__factory,
  StorageMarket__factory,
  TestStablecoin__factory,
  type IRetrievalChallenges,
  type ProviderRegistry,
  type StorageMarket,
  type TestStablecoin,
} from "../../typechain-types/index.js";
import { periodAt, periodStart } from "../sdk/chain/clock.js";
import { TransactionSender } from "../sdk/chain/sender.js";
import { StrataError } from "../sdk/errors.js";
import type { AgentConfig } from "./config.js";

// Revert decoding lives in the SDK (the worker uses it too); re-exported for the agent's callers.
export { ChainRevertError, decodeRevert, revertName, type Revert } from "../sdk/chain/revert.js";

export class AgentChain {
  readonly market: StorageMarket;
  /** Simulates, sends one transaction at a time and waits. */
  private readonly sender: TransactionSender;
  readonly registry: ProviderRegistry;
  readonly token: TestStablecoin;
  /** The retrieval-challenge contract; undefined when the deployment predates it. */
  readonly retrievalChallenges: IRetrievalChallenges | undefined;

  private constructor(
    readonly provider: Provider,
    readonly signer: Signer,
    /** The provider's address (the agent's signer). */
    readonly me: string,
    readonly chainId: bigint,
    readonly deployment: AgentConfig["deployment"],
    /** Proving period length in seconds. */
    readonly period: bigint,
    /** Timestamp at which period 0 starts. */
    readonly genesis: bigint,
    txTimeoutMs: number,
  ) {
    this.sender = new TransactionSender(txTimeoutMs);
    this.market = StorageMarket__factory.connect(deployment.market, signer);
    this.registry = ProviderRegistry__factory.connect(deployment.registry, signer);
    this.token = TestStablecoin__factory.connect(deployment.token, signer);
    this.retrievalChallenges =
      deployment.retrievalChallenges === null
        ? undefined
        : IRetrievalChallenges__factory.connect(deployment.retrievalChallenges, signer);
  }

  /** Connect and check the deployment: the chain id (if configured) and that the contracts belong together. */
  static async connect(config: AgentConfig, signer: Signer, provider: Provider): Promise<AgentChain> {
    const me = getAddress(await signer.getAddress());
    const { chainId } = await provider.getNetwork();
    if (config.chainId !== null && config.chainId !== chainId) {
      throw new StrataError(
        "WRONG_NETWORK",
        `the RPC serves chain ${chainId}, the configuration expects ${config.chainId}`,
      );
    }
    if ((await provider.getCode(config.deployment.market)) === "0x") {
      throw new StrataError(
        "CONFIG_DEPLOYMENT_MISMATCH",
        `no contract at deployment.market ${config.deployment.market} on chain ${chainId}`,
      );
    }
    const market = StorageMarket__factory.connect(config.deployment.market, provider);
    const [registry, token, period, genesis] = await Promise.all([
      market.registry(),
      market.paymentToken(),
      market.provingPeriod(),
      market.genesis(),
    ]);
    if (
      getAddress(registry) !== config.deployment.registry ||
      getAddress(token) !== config.deployment.token
    ) {
      throw new StrataError(
        "CONFIG_DEPLOYMENT_MISMATCH",
        `the market uses registry ${registry} and token ${token}, the configuration says ${config.deployment.registry} and ${config.deployment.token}`,
      );
    }
    const decimals = Number(
      await TestStablecoin__factory.connect(config.deployment.token, provider).decimals(),
    );
    if (decimals !== config.tokenDecimals) {
      throw new StrataError(
        "CONFIG_TOKEN_DECIMALS",
        `the token ${config.deployment.token} has ${decimals} decimals, the configuration's amounts are written for ${config.tokenDecimals}`,
        {
          details: `check every amount in the configuration is meant in tokens of ${decimals} decimals, then set "tokenDecimals": ${decimals} (or write a fresh one with strata provider init --force)`,
        },
      );
    }
    await checkRetrievalChallenges(config, provider, chainId);
    return new AgentChain(
      provider,
      signer,
      me,
      chainId,
      config.deployment,
      period,
      genesis,
      config.txTimeoutMs,
    );
  }

  /** Timestamp of the latest block (the chain's clock). */
  async now(): Promise<bigint> {
    const block = await this.provider.getBlock("latest");
    if (!block) throw new StrataError("CHAIN_REVERT", "the RPC returned no latest block");
    return BigInt(block.timestamp);
  }

  async blockNumber(): Promise<number> {
    return this.provider.getBlockNumber();
  }

  /** The market's current governance parameters (they may change). */
  async parameters(): Promise<Awaited<ReturnType<StorageMarket["parameters"]>>> {
    return this.market.parameters();
  }

  periodAt(timestamp: bigint): bigint {
    return periodAt(this.genesis, this.period, timestamp);
  }

  periodStart(period: bigint): bigint {
    return periodStart(this.genesis, this.period, period);
  }

  /**
   * Simulate with `simulate` (a staticCall), then `send`, then wait for one confirmation. A simulation revert
   * or a reverted receipt throws CHAIN_REVERT whose `revert` names the custom error. `onSent` runs as soon as
   * the transaction hash is known (to record it before waiting). Sends run one at a time: the duties and the
   * HTTP routes send from the same account.
   */
  execute(
    simulate: () => Promise<unknown>,
    send: () => Promise<ContractTransactionResponse>,
    onSent?: (hash: string, nonce: number) => void,
  ): Promise<ContractTransactionReceipt> {
    return this.sender.execute(simulate, send, onSent);
  }

  /** Wait for `tx` (timeout from the configuration); a reverted receipt throws CHAIN_REVERT. */
  wait(tx: ContractTransactionResponse): Promise<ContractTransactionReceipt> {
    return this.sender.wait(tx);
  }
}

/** The configured retrieval-challenge contract (if any) must exist and serve the configured market. */
async function checkRetrievalChallenges(
  config: AgentConfig,
  provider: Provider,
  chainId: bigint,
): Promise<void> {
  const address = config.deployment.retrievalChallenges;
  if (address === null) return;
  if ((await provider.getCode(address)) === "0x") {
    throw new StrataError(
      "CONFIG_DEPLOYMENT_MISMATCH",
      `no contract at deployment.retrievalChallenges ${address} on chain ${chainId}`,
    );
  }
  let market: string;
  try {
    market = await IRetrievalChallenges__factory.connect(address, provider).market();
  } catch (cause) {
    throw new StrataError(
      "CONFIG_DEPLOYMENT_MISMATCH",
      `deployment.retrievalChallenges ${address} is not a retrieval-challenge contract`,
      { cause },
    );
  }
  if (getAddress(market) !== config.deployment.market) {
    throw new StrataError(
      "CONFIG_DEPLOYMENT_MISMATCH",
      `the retrieval-challenge contract ${address} serves market ${market}, not ${config.deployment.market}`,
    );
  }
}
