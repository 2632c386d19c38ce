/**
 * "Simulate, then send, then wait" for programs that send from one account (provider agent, worker): sends
 * are serialised so two never read the same pending nonce, and reverts are decoded into CHAIN_REVERT.
 */
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { confirmTransaction } from "./confirm.js";
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
   * Wait for `tx` (configured timeout) by polling for its receipt (`confirmTransaction`): a reverted receipt throws
   * CHAIN_REVERT, and a transaction the node stops knowing throws TX_DROPPED at once instead of waiting out the
   * timeout, so a caller with a deadline (a proof window) can send again in time.
   */
  wait(tx: ContractTransactionResponse): Promise<ContractTransactionReceipt> {
    return confirmTransaction(tx, { timeoutMs: this.txTimeoutMs, dropCheckMs: this.dropCheckMs });
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
