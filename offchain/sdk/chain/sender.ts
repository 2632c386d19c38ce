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

  /** @param txTimeoutMs how long `wait` waits for one confirmation. */
  constructor(private readonly txTimeoutMs: number) {}

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

  /** Wait for `tx` (configured timeout); a reverted receipt throws CHAIN_REVERT. */
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
