import { expect } from "chai";
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { confirmTransaction } from "../../offchain/sdk/chain/confirm.js";
import { TransactionSender } from "../../offchain/sdk/chain/sender.js";
import { StrataError } from "../../offchain/sdk/errors.js";

/**
 * A sent transaction on a node that knows it while `known()` says so; `receipt()` is what a receipt read returns
 * (null while not mined). `unreachable()` makes every read fail as with the node down.
 */
function pendingTx(
  known: () => boolean,
  receipt: () => ContractTransactionReceipt | null = () => null,
  unreachable: () => boolean = () => false,
) {
  const hash = "0x" + "ab".repeat(32);
  const down = () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:8545"));
  const tx = {
    hash,
    nonce: 7,
    wait: (confirms?: number) => {
      if (confirms !== 0) throw new Error("waits through listeners: must poll with wait(0)");
      return unreachable() ? down() : Promise.resolve(receipt());
    },
    provider: {
      pollingInterval: 10,
      getTransaction: () => (unreachable() ? down() : Promise.resolve(known() ? { hash } : null)),
    },
  };
  return tx as unknown as ContractTransactionResponse;
}

describe("TransactionSender and confirmTransaction (sdk/chain)", function () {
  it("TX_DROPPED as soon as the node no longer knows a sent transaction, not after the timeout", async function () {
    const sender = new TransactionSender(60_000, 10);
    let known = true;
    setTimeout(() => {
      known = false;
    }, 50);
    const started = Date.now();
    const error = await sender.wait(pendingTx(() => known)).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StrataError).with.property("code", "TX_DROPPED");
    expect(Date.now() - started).to.be.lessThan(10_000);
  });

  it("keeps waiting while the node knows the transaction, and returns its receipt", async function () {
    const sender = new TransactionSender(60_000, 10);
    const receipt = { status: 1, hash: "0x01" } as unknown as ContractTransactionReceipt;
    const minedAt = Date.now() + 100;
    const mined = () => (Date.now() >= minedAt ? receipt : null);
    expect(await sender.wait(pendingTx(() => true, mined))).to.equal(receipt);
  });

  it("rides out a node that cannot be reached for a while, and returns the receipt once it answers", async function () {
    const sender = new TransactionSender(60_000, 10);
    const receipt = { status: 1, hash: "0x01" } as unknown as ContractTransactionReceipt;
    const backAt = Date.now() + 200;
    const down = () => Date.now() < backAt;
    // The receipt exists once the node is back: no unhandled rejection while it was down ends the process.
    expect(
      await sender.wait(
        pendingTx(
          () => true,
          () => receipt,
          down,
        ),
      ),
    ).to.equal(receipt);
  });

  it("gives up with RPC_FAILED naming the transaction when the node stays unreachable", async function () {
    const tx = pendingTx(
      () => true,
      () => null,
      () => true,
    );
    const error = await confirmTransaction(tx, { unreachableMs: 100, pollMs: 10 }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StrataError).with.property("code", "RPC_FAILED");
    expect((error as Error).message)
      .to.include(tx.hash)
      .and.include("could not be read");
  });

  it("a reverted receipt is CHAIN_REVERT; no receipt before the timeout is TX_TIMEOUT", async function () {
    const reverted = pendingTx(() => true);
    (reverted as unknown as { wait: () => Promise<never> }).wait = () =>
      Promise.reject(Object.assign(new Error("transaction execution reverted"), { code: "CALL_EXCEPTION" }));
    const error = await new TransactionSender(60_000, 10).wait(reverted).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StrataError).with.property("code", "CHAIN_REVERT");
    expect((error as Error).message).to.include("reverted");

    const late = await new TransactionSender(100, 10).wait(pendingTx(() => true)).catch((e: unknown) => e);
    expect(late).to.be.instanceOf(StrataError).with.property("code", "TX_TIMEOUT");
    expect((late as Error).message).to.include("was not mined within");
  });
});
