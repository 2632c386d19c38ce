/**
 * The agent's view of the chain: typed contracts bound to the provider's signer, the proving clock read from
 * chain time (never the wall clock: local chains travel in time), and "simulate, then send, then wait"
 * with custom errors decoded by name.
 */
import {
  Interface,
  getAddress,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  type Provider,
  type Signer,
} from "ethers";
import {
  ProviderRegistry__factory,
  StorageMarket__factory,
  TestStablecoin__factory,
  type ProviderRegistry,
  type StorageMarket,
  type TestStablecoin,
} from "../../typechain-types/index.js";
import { StrataError } from "../sdk/errors.js";
import type { AgentConfig } from "./config.js";
import type { MarketLimits } from "./policy.js";

/** A decoded custom error (or Error(string) / Panic). */
export interface Revert {
  name: string;
  args: unknown[];
}

const ERRORS = new Interface([
  ...StorageMarket__factory.abi.filter((f) => f.type === "error"),
  ...ProviderRegistry__factory.abi.filter((f) => f.type === "error"),
  ...TestStablecoin__factory.abi.filter((f) => f.type === "error"),
]);

export class AgentChain {
  readonly market: StorageMarket;
  /** Tail of the queue of transactions being simulated and broadcast (see `oneSenderAtATime`). */
  private sending: Promise<unknown> = Promise.resolve();
  readonly registry: ProviderRegistry;
  readonly token: TestStablecoin;

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
    private readonly txTimeoutMs: number,
  ) {
    this.market = StorageMarket__factory.connect(deployment.market, signer);
    this.registry = ProviderRegistry__factory.connect(deployment.registry, signer);
    this.token = TestStablecoin__factory.connect(deployment.token, signer);
  }

  /** Connect and check the deployment: the chain id (if configured) and that the three contracts belong together. */
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

  /** The market's current bounds on proposals (governance may change them). */
  async marketLimits(): Promise<MarketLimits> {
    const params = await this.market.parameters();
    return {
      provingPeriod: this.period,
      minDealPeriods: params.minDealPeriods,
      maxDealPeriods: params.maxDealPeriods,
      maxPieceSize: params.maxPieceSize,
    };
  }

  periodAt(timestamp: bigint): bigint {
    return timestamp < this.genesis ? 0n : (timestamp - this.genesis) / this.period;
  }

  periodStart(period: bigint): bigint {
    return this.genesis + period * this.period;
  }

  /**
   * Simulate with `simulate` (a staticCall), then `send`, then wait for one confirmation. A simulation revert
   * or a reverted receipt throws CHAIN_REVERT whose `revert` names the custom error. `onSent` runs as soon as
   * the transaction hash is known (to record it before waiting).
   */
  async execute(
    simulate: () => Promise<unknown>,
    send: () => Promise<ContractTransactionResponse>,
    onSent?: (hash: string) => void,
  ): Promise<ContractTransactionReceipt> {
    const tx = await this.oneSenderAtATime(async () => {
      try {
        await simulate();
      } catch (error) {
        throw chainRevert("simulation reverted", error);
      }
      return send();
    });
    onSent?.(tx.hash);
    return this.wait(tx);
  }

  /**
   * Run `fn` (simulate and broadcast) after the previous one finished: the duties and the HTTP routes send
   * from the same account, and two sends racing would read the same pending nonce.
   */
  private oneSenderAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.sending.then(fn);
    this.sending = run.catch(() => undefined);
    return run;
  }

  /** Wait for `tx` (timeout from the configuration); a reverted receipt throws CHAIN_REVERT. */
  async wait(tx: ContractTransactionResponse): Promise<ContractTransactionReceipt> {
    let receipt: ContractTransactionReceipt | null;
    try {
      receipt = await tx.wait(1, this.txTimeoutMs);
    } catch (error) {
      throw chainRevert(`transaction ${tx.hash} failed`, error);
    }
    if (!receipt) throw new StrataError("CHAIN_REVERT", `transaction ${tx.hash} was not mined`);
    return receipt;
  }
}

/** A CHAIN_REVERT StrataError carrying the decoded revert (if any) as `revert`. */
export class ChainRevertError extends StrataError {
  readonly revert: Revert | undefined;

  constructor(message: string, revert: Revert | undefined, cause: unknown) {
    super("CHAIN_REVERT", revert ? `${message}: ${revert.name}` : message, { cause });
    this.revert = revert;
  }
}

function chainRevert(message: string, error: unknown): ChainRevertError {
  return new ChainRevertError(message, decodeRevert(error), error);
}

/** The custom error inside an ethers / Hardhat error, found by searching its `data` fields. */
export function decodeRevert(error: unknown): Revert | undefined {
  if (error instanceof ChainRevertError) return error.revert;
  for (const data of revertData(error, 0)) {
    try {
      const parsed = ERRORS.parseError(data);
      if (parsed) return { name: parsed.name, args: [...parsed.args] };
    } catch {
      // not one of ours
    }
    if (data.startsWith("0x08c379a0") || data.startsWith("0x4e487b71")) {
      const name = data.startsWith("0x08c379a0") ? "Error" : "Panic";
      try {
        const decoded = new Interface([
          `error ${name}(${name === "Error" ? "string" : "uint256"})`,
        ]).parseError(data);
        return { name, args: decoded ? [...decoded.args] : [] };
      } catch {
        return { name, args: [] };
      }
    }
  }
  return undefined;
}

function revertData(error: unknown, depth: number): string[] {
  if (depth > 5 || typeof error !== "object" || error === null) return [];
  const found: string[] = [];
  const record = error as Record<string, unknown>;
  for (const key of ["data", "error", "info", "cause", "revert", "receipt"]) {
    const value = record[key];
    if (typeof value === "string" && /^0x[0-9a-fA-F]{8}/.test(value)) found.push(value);
    else if (typeof value === "object" && value !== null) found.push(...revertData(value, depth + 1));
  }
  return found;
}

/** The revert's name, if `error` is a chain revert. */
export function revertName(error: unknown): string | undefined {
  return decodeRevert(error)?.name;
}
