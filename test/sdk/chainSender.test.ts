import { expect } from "chai";
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { TransactionSender } from "../../offchain/sdk/chain/sender.js";
import { StrataError } from "../../offchain/sdk/errors.js";

/** A sent transaction whose receipt never comes, on a node that knows it while `known()` says so. */
function pendingTx(known: () => boolean, receipt?: Promise<ContractTransactionReceipt>) {
  const hash = "0x" + "ab".repeat(32);
  const tx = {
    hash,
    nonce: 7,
    wait: () => receipt ?? new Promise<never>(() => undefined),
    provider: {
      getTransaction: () => Promise.resolve(known() ? { hash } : null),
      getTransactionReceipt: () => Promise.resolve(null),
    },
  };
  return tx as unknown as ContractTransactionResponse;
}

describe("TransactionSender (sdk/chain/sender)", function () {
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
    const mined = new Promise<ContractTransactionReceipt>((resolve) => {
      setTimeout(() => {
        resolve(receipt);
      }, 100);
    });
    expect(await sender.wait(pendingTx(() => true, mined))).to.equal(receipt);
  });
});
