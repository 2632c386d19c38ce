/**
 * "Simulate, then send, then wait" for programs that send from one account (provider agent, worker): sends
 * are serialised so two never read the same pending nonce, and reverts are decoded into CHAIN_REVERT.
 */
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { StrataError } from "../errors.js";
import { chainRevert } from "./revert.js";

export class TransactionSender {
  /** Tail of the queue of transactions being simulated and broadcast (see `oneAtATime`). */
  private sending: Promise<unknown> = Promise.resolve();

  /**
   * @param txTimeoutMs how long `wait` waits for one confirmation.
   * @param dropCheckMs how often `wait` asks the node whether it still knows the transaction.
   */
  constructor(
    private readonly txTimeoutMs: number,
    private readonly dropCheckMs = 2_000,
  ) {}

  /**
   * Simulate with `simulate` (a staticCall), then `send`, then wait for one confirmation. A simulation revert
   * or a reverted receipt throws CHAIN_REVERT whose `revert` names the custom error. `onSent` runs as soon as
   * the transaction hash is known (to record it before waiting).
   */
  async execute(
    simulate: () => Promise<unknown>,
    send: () => Promise<ContractTransactionResponse>,
    onSent?: (hash: string, nonce: number) => void,
  ): Promise<ContractTransactionReceipt> {
    const tx = await this.oneAtATime(async () => {
      try {
        await simulate();
      } catch (error) {
        throw chainRevert("simulation reverted", error);
      }
      return send();
    });
    onSent?.(tx.hash, tx.nonce);
    return this.wait(tx);
  }

  /**
   * Wait for `tx` (configured timeout); a reverted receipt throws CHAIN_REVERT. A transaction the node stops
   * knowing (no receipt and no transaction by its hash, twice in a row: dropped from its pool, or lost with the
   * node's recent blocks when it restarted without them) throws TX_DROPPED at once instead of waiting out the
   * timeout, so a caller with a deadline (a proof window) can send again in time.
   */
  async wait(tx: ContractTransactionResponse): Promise<ContractTransactionReceipt> {
    let receipt: ContractTransactionReceipt | null;
    const watch = { done: false };
    try {
      receipt = await Promise.race([tx.wait(1, this.txTimeoutMs), this.untilDropped(tx, watch)]);
    } catch (error) {
      if (error instanceof StrataError && error.code === "TX_DROPPED") throw error;
      throw chainRevert(`transaction ${tx.hash} failed`, error);
    } finally {
      watch.done = true;
    }
    if (!receipt) throw new StrataError("CHAIN_REVERT", `transaction ${tx.hash} was not mined`);
    return receipt;
  }

  /** Rejects with TX_DROPPED when the node twice in a row knows neither `tx` nor its receipt; else never settles. */
  private async untilDropped(tx: ContractTransactionResponse, watch: { done: boolean }): Promise<never> {
    let unknown = 0;
    // Read through a function: `wait` sets the flag while this loop awaits.
    const stopped = () => watch.done;
    while (!stopped()) {
      await new Promise((resolve) => setTimeout(resolve, this.dropCheckMs).unref());
      if (stopped()) break;
      const known = await Promise.all([
        tx.provider.getTransaction(tx.hash),
        tx.provider.getTransactionReceipt(tx.hash),
      ]).then(
        ([sent, mined]) => sent !== null || mined !== null,
        () => true, // the node is unreachable: nothing to conclude (the timeout still applies)
      );
      unknown = known ? 0 : unknown + 1;
      if (unknown >= 2) {
        throw new StrataError(
          "TX_DROPPED",
          `transaction ${tx.hash} is no longer known to the node (dropped, or its block was lost); send it again`,
        );
      }
    }
    return new Promise<never>(() => undefined);
  }

  /**
   * Run `fn` (simulate and broadcast) after the previous one finished: callers send from the same account,
   * and two sends racing would read the same pending nonce.
   */
  oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.sending.then(fn);
    this.sending = run.catch(() => undefined);
    return run;
  }
}
