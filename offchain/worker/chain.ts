/**
 * The worker's view of the chain: typed contracts (storage market, registry, token, retrieval challenges and
 * compute market; bound to the signer when the worker has a key, else read-only), reads that retry, the proving clock from chain time, and "simulate, then send, then wait" with
 * one sender at a time and custom errors decoded by name.
 */
import {
  getAddress,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  type Provider,
  type Signer,
} from "ethers";
import {
  IComputeMarket__factory,
  IRetrievalChallenges__factory,
  ProviderRegistry__factory,
  StorageMarket__factory,
  TestStablecoin__factory,
  type IComputeMarket,
  type IRetrievalChallenges,
  type ProviderRegistry,
  type StorageMarket,
  type TestStablecoin,
} from "../../typechain-types/index.js";
import { periodAt, periodStart } from "../sdk/chain/clock.js";
import { TransactionSender } from "../sdk/chain/sender.js";
import { StrataError } from "../sdk/errors.js";
import type { RetrySettings, WorkerDeployment } from "./config.js";
import type { Logger } from "../runtime/logger.js";
import type { WorkerMetrics } from "./metrics.js";
import { withRetry } from "../runtime/rpc/retry.js";

export interface WorkerChainOptions {
  provider: Provider;
  /** Null: read-only worker (never sends). */
  signer: Signer | null;
  deployment: WorkerDeployment;
  /** The chain id the configuration was resolved for; the RPC must serve it. */
  chainId: bigint;
  retry: RetrySettings;
  txTimeoutMs: number;
  metrics: Pick<WorkerMetrics, "rpcErrors">;
  logger: Logger;
}

export class WorkerChain {
  /** Bound to the signer when there is one (calls and sends), else to the provider (calls only). */
  readonly market: StorageMarket;
  readonly registry: ProviderRegistry;
  /** The payment token (bonds for retrieval challenges). */
  readonly token: TestStablecoin;
  /** Null when the deployment has no retrieval-challenge contract. */
  readonly retrievalChallenges: IRetrievalChallenges | null;
  /** The compute market (leases); null when the deployment has none. */
  readonly compute: IComputeMarket | null;
  /** Simulates, sends one transaction at a time (duties send from one account) and waits. */
  private readonly sender: TransactionSender;

  private constructor(
    readonly provider: Provider,
    readonly signer: Signer | null,
    /** The worker's address (null: read-only). */
    readonly me: string | null,
    readonly chainId: bigint,
    readonly deployment: WorkerDeployment,
    /** Proving period length in seconds. */
    readonly provingPeriod: bigint,
    /** Timestamp at which period 0 starts. */
    readonly genesis: bigint,
    private readonly options: WorkerChainOptions,
  ) {
    this.sender = new TransactionSender(options.txTimeoutMs);
    const runner = signer ?? provider;
    this.market = StorageMarket__factory.connect(deployment.market, runner);
    this.registry = ProviderRegistry__factory.connect(deployment.registry, runner);
    this.token = TestStablecoin__factory.connect(deployment.token, runner);
    this.retrievalChallenges =
      deployment.retrievalChallenges === null
        ? null
        : IRetrievalChallenges__factory.connect(deployment.retrievalChallenges, runner);
    this.compute =
      deployment.computeMarket === null
        ? null
        : IComputeMarket__factory.connect(deployment.computeMarket, runner);
  }

  /**
   * Connect and check: the RPC serves `chainId` (WRONG_NETWORK), the market has code and uses the configured
   * registry and token, the retrieval-challenge contract (if any) belongs to this market, the compute market
   * (if any) has code and uses the same registry and token (CONFIG_DEPLOYMENT_MISMATCH). Reads retry like
   * every other read.
   */
  static async connect(options: WorkerChainOptions): Promise<WorkerChain> {
    const { provider, deployment } = options;
    const read = <T>(label: string, fn: () => Promise<T>): Promise<T> =>
      withRetry(fn, { ...options.retry, label, metrics: options.metrics });
    const { chainId } = await read("eth_chainId", () => provider.getNetwork());
    if (chainId !== options.chainId) {
      throw new StrataError(
        "WRONG_NETWORK",
        `the RPC serves chain ${chainId}, the configuration was made for chain ${options.chainId}`,
      );
    }
    const code = await read("eth_getCode", () => provider.getCode(deployment.market));
    if (code === "0x") {
      throw new StrataError(
        "CONFIG_DEPLOYMENT_MISMATCH",
        `no contract at the market address ${deployment.market} on chain ${chainId}`,
        {
          details:
            "pass the right --deployment file (or --rpc); a restarted local node needs a new deployment",
        },
      );
    }
    const market = StorageMarket__factory.connect(deployment.market, provider);
    const [registry, token, period, genesis] = await read("market views", () =>
      Promise.all([market.registry(), market.paymentToken(), market.provingPeriod(), market.genesis()]),
    );
    if (
      getAddress(registry) !== getAddress(deployment.registry) ||
      getAddress(token) !== getAddress(deployment.token)
    ) {
      throw new StrataError(
        "CONFIG_DEPLOYMENT_MISMATCH",
        `the market uses registry ${registry} and token ${token}, the deployment says ${deployment.registry} and ${deployment.token}`,
      );
    }
    if (deployment.retrievalChallenges !== null) {
      const rc = IRetrievalChallenges__factory.connect(deployment.retrievalChallenges, provider);
      const rcMarket = await read("retrieval challenges market()", () => rc.market());
      if (getAddress(rcMarket) !== getAddress(deployment.market)) {
        throw new StrataError(
          "CONFIG_DEPLOYMENT_MISMATCH",
          `the retrieval-challenge contract ${deployment.retrievalChallenges} serves market ${rcMarket}, not ${deployment.market}`,
        );
      }
    }
    if (deployment.computeMarket !== null) await checkComputeMarket(deployment, provider, read);
    const me = options.signer === null ? null : getAddress(await options.signer.getAddress());
    return new WorkerChain(provider, options.signer, me, chainId, deployment, period, genesis, options);
  }

  /** Whether the worker may send transactions. */
  get readOnly(): boolean {
    return this.signer === null;
  }

  /** A read with the configured timeout and retries (RPC errors counted); reverts are not retried. */
  read<T>(label: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { ...this.options.retry, label, metrics: this.options.metrics });
  }

  /** Latest block number. */
  head(): Promise<number> {
    return this.read("eth_blockNumber", () => this.provider.getBlockNumber());
  }

  /** Timestamp of the latest block: protocol time, never the wall clock. */
  async now(): Promise<bigint> {
    const block = await this.read("latest block", () => this.provider.getBlock("latest"));
    if (!block) throw new StrataError("RPC_FAILED", "the RPC returned no latest block");
    return BigInt(block.timestamp);
  }

  periodAt(timestamp: bigint): bigint {
    return periodAt(this.genesis, this.provingPeriod, timestamp);
  }

  periodStart(period: bigint): bigint {
    return periodStart(this.genesis, this.provingPeriod, period);
  }

  /**
   * Simulate (`simulate`, a staticCall), then `send`, then wait for one confirmation. A simulation revert or
   * a reverted receipt throws CHAIN_REVERT whose `revert` names the custom error. `onSent` runs as soon as the
   * hash is known (record it before waiting). KEY_MISSING on a read-only worker.
   */
  async execute(
    simulate: () => Promise<unknown>,
    send: () => Promise<ContractTransactionResponse>,
    onSent?: (hash: string, nonce: number) => void,
  ): Promise<ContractTransactionReceipt> {
    if (this.signer === null) {
      throw new StrataError("KEY_MISSING", "this worker is read-only: it has no key to send transactions", {
        details: 'configure "key" (or pass --key-env <VAR>) to let the worker act on what it finds',
      });
    }
    return this.sender.execute(simulate, send, onSent);
  }

  /** Wait for `tx` (configured timeout); a reverted receipt throws CHAIN_REVERT. */
  wait(tx: ContractTransactionResponse): Promise<ContractTransactionReceipt> {
    return this.sender.wait(tx);
  }
}

/** The compute market must exist on this chain and share the storage market's registry and token. */
async function checkComputeMarket(
  deployment: WorkerDeployment,
  provider: Provider,
  read: <T>(label: string, fn: () => Promise<T>) => Promise<T>,
): Promise<void> {
  const address = deployment.computeMarket;
  if (address === null) return;
  const code = await read("eth_getCode", () => provider.getCode(address));
  if (code === "0x") {
    throw new StrataError(
      "CONFIG_DEPLOYMENT_MISMATCH",
      `no contract at the compute market address ${address}`,
      { details: "pass the right --deployment file, or leave computeMarket out to run without leases" },
    );
  }
  const compute = IComputeMarket__factory.connect(address, provider);
  const [registry, token] = await read("compute market views", () =>
    Promise.all([compute.registry(), compute.paymentToken()]),
  );
  if (
    getAddress(registry) !== getAddress(deployment.registry) ||
    getAddress(token) !== getAddress(deployment.token)
  ) {
    throw new StrataError(
      "CONFIG_DEPLOYMENT_MISMATCH",
      `the compute market ${address} uses registry ${registry} and token ${token}, the deployment says ${deployment.registry} and ${deployment.token}`,
    );
  }
}
