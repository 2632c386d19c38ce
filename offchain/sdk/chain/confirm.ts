/**
 * Waiting for a sent transaction by polling the node for its receipt.
 *
 * ethers' `tx.wait(1)` waits through provider event listeners whose RPC calls, when they fail (the node went away
 * for a moment), reject with nobody to catch them: in Node that ends the process. A provider agent must outlive
 * its node's restarts, so every program here waits with `confirmTransaction` instead: one receipt read per poll
 * (`tx.wait(0)`, which registers no listener), RPC failures retried until the deadline, and a transaction the
 * node stops knowing reported as TX_DROPPED at once so a caller with a deadline can send again in time.
 */
import { isError, type ContractTransactionReceipt, type ContractTransactionResponse } from "ethers";
import { StrataError } from "../errors.js";
import { chainRevert } from "./revert.js";

export interface ConfirmOptions {
  /** How long to wait for the receipt before giving up (TX_TIMEOUT). Default 10 minutes. */
  timeoutMs?: number;
  /** Pause between receipt reads. Default: the provider's polling interval (4 s on public chains). */
  pollMs?: number;
  /** How often to ask whether the node still knows the transaction. Default 2 s. */
  dropCheckMs?: number;
  /**
   * How long the node may stay unreachable (every read failing) before the wait gives up with RPC_FAILED, which
   * says the transaction may still be mined. Default 2 minutes (a restarting node is back well within it).
   */
  unreachableMs?: number;
  /** Pause implementation (tests). */
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 600_000;
const DEFAULT_POLL_MS = 4_000;
const DEFAULT_DROP_CHECK_MS = 2_000;
const DEFAULT_UNREACHABLE_MS = 120_000;

function pollingIntervalOf(tx: ContractTransactionResponse): number {
  const provider: unknown = tx.provider;
  if (typeof provider === "object" && provider !== null && "pollingInterval" in provider) {
    const interval = provider.pollingInterval;
    if (typeof interval === "number" && interval > 0) return interval;
  }
  return DEFAULT_POLL_MS;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The receipt of `tx` once it is mined (one confirmation). A reverted receipt throws CHAIN_REVERT; a transaction
 * the node knows neither as pending nor as mined, twice in a row, throws TX_DROPPED (dropped from its pool, or lost
 * with the blocks of a node that restarted without them); no receipt within the timeout throws TX_TIMEOUT.
 * While the node cannot be reached it keeps trying, for at most `unreachableMs` in a row (then RPC_FAILED).
 */
export async function confirmTransaction(
  tx: ContractTransactionResponse,
  options: ConfirmOptions = {},
): Promise<ContractTransactionReceipt> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const pollMs = Math.min(options.pollMs ?? pollingIntervalOf(tx), DEFAULT_DROP_CHECK_MS);
  const dropCheckMs = options.dropCheckMs ?? DEFAULT_DROP_CHECK_MS;
  const unreachableMs = options.unreachableMs ?? DEFAULT_UNREACHABLE_MS;
  const sleep = options.sleep ?? defaultSleep;
  const deadline = Date.now() + timeoutMs;
  let unreachableSince: number | undefined;
  let nextDropCheck = Date.now() + dropCheckMs;
  let unknown = 0;
  for (;;) {
    let receipt: ContractTransactionReceipt | null = null;
    let reachable = true;
    try {
      receipt = await tx.wait(0);
    } catch (error) {
      if (isError(error, "CALL_EXCEPTION")) throw chainRevert(`transaction ${tx.hash} reverted`, error);
      // The node cannot be read now: nothing to conclude, try again (for a while).
      reachable = false;
      unreachableSince ??= Date.now();
      if (Date.now() - unreachableSince >= unreachableMs) {
        throw new StrataError(
          "RPC_FAILED",
          `the node could not be read for ${Math.round((Date.now() - unreachableSince) / 1000)} s while waiting for transaction ${tx.hash}`,
          {
            cause: error,
            details:
              "check that the RPC endpoint is up; the transaction may still be mined, so check it before sending again",
          },
        );
      }
    }
    if (reachable) unreachableSince = undefined;
    if (receipt) return receipt;
    if (reachable && Date.now() >= nextDropCheck) {
      nextDropCheck = Date.now() + dropCheckMs;
      const known = await tx.provider.getTransaction(tx.hash).then(
        (sent) => sent !== null,
        () => true,
      );
      unknown = known ? 0 : unknown + 1;
      if (unknown >= 2) {
        throw new StrataError(
          "TX_DROPPED",
          `transaction ${tx.hash} is no longer known to the node (dropped, or its block was lost); send it again`,
        );
      }
    }
    if (Date.now() >= deadline) {
      throw new StrataError(
        "TX_TIMEOUT",
        `transaction ${tx.hash} was not mined within ${timeoutMs / 1000} s`,
        { details: "check the node and the account's pending transactions; it may still be mined later" },
      );
    }
    await sleep(pollMs);
  }
}
