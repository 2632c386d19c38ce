import { expect } from "chai";
import type { ContractTransactionResponse } from "ethers";
import {
  createDataSet,
  deployStorage,
  fundClient,
  need,
  proveNext,
  registerProvider,
  signState,
  topUp,
  USDC,
  UniformTree,
  type StorageFixture,
} from "../helpers/fixture.js";

/**
 * A single client-signed entry for a data set that stays in its size class is applied inside the market
 * (`DataSetUpdateFastPath`); everything else goes through the linked `DataSetUpdates`. These tests run twin data sets
 * through the two paths and require the same state, and check that every case the fast path does not take is
 * applied, skipped or rejected exactly as the library does.
 */

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

async function setup(): Promise<StorageFixture> {
  const f = await deployStorage();
  await registerProvider(f, f.provider, 1_000_000n * USDC);
  await registerProvider(f, f.provider2, 1_000_000n * USDC);
  await fundClient(f, f.client, 1_000_000n * USDC);
  return f;
}

/** How many library calls (DELEGATECALL) the transaction made. */
async function libraryCalls(f: StorageFixture, tx: ContractTransactionResponse): Promise<number> {
  const trace = (await f.ethers.provider.send("debug_traceTransaction", [
    tx.hash,
    { disableStack: true, disableMemory: true, disableStorage: true },
  ])) as { structLogs: { op: string }[] };
  return trace.structLogs.filter((l) => l.op === "DELEGATECALL").length;
}

/** The data set's record without its id-specific parts, for comparing twins. */
async function record(f: StorageFixture, id: bigint) {
  const d = await f.market.dataSet(id);
  return {
    status: d.status,
    version: d.version,
    root: d.root,
    span: d.span,
    frozenSpan: d.frozenSpan,
    escrow: d.escrow,
    paid: d.paid,
    leafSeconds: d.leafSeconds,
    paidThrough: d.paidThrough,
    missedFaults: d.missedFaults,
    declaredFaults: d.declaredFaults,
    settleable: await f.market.settleableAmount(id),
    withdrawable: await f.market.withdrawableEscrow(id),
    retrieval: (await f.market.retrievalTarget(id)).slice(1).map(String),
  };
}

/** The DataSetUpdated events of a transaction, without the id. */
async function updates(f: StorageFixture, tx: ContractTransactionResponse) {
  const receipt = await tx.wait();
  if (receipt === null) throw new Error("no receipt");
  const out: string[][] = [];
  for (const log of receipt.logs) {
    const e = f.market.interface.parseLog(log);
    if (e?.name === "DataSetUpdated") out.push(e.args.slice(1).map(String));
  }
  return out;
}

describe("StorageMarket: the in-market path of a signed state equals the library's", () => {
  it("test_fastPath_twinDataSetsEndInTheSameState_throughAdds_removals_declarations_andTwoWritesInAnEpoch", async () => {
    const f = await setup();
    const fast = await createDataSet(f);
    const slow = await createDataSet(f);
    await topUp(f, fast, 5_000n * USDC);
    await topUp(f, slow, 5_000n * USDC);
    const trees = new Map<bigint, UniformTree>();
    let version = 0n;
    // Both through the library for the first state (it joins a size class). The twin's batch always carries a second,
    // stale entry of itself, so that it goes through the library.
    const put = async (span: bigint) => {
      version++;
      const tree = UniformTree.random(span);
      const a = await signState(f, f.client, { dataSetId: fast, version, root: tree.root, span });
      const b = await signState(f, f.client, { dataSetId: slow, version, root: tree.root, span });
      // Both in one block: the write tag depends on the block (a restarted epoch before its seed block).
      await f.ethers.provider.send("evm_setAutomine", [false]);
      const txA = await f.market.connect(f.provider).updateDataSets([a], { gasLimit: 1_000_000n });
      const txB = await f.market.connect(f.provider).updateDataSets([b, b], { gasLimit: 1_000_000n });
      await f.ethers.provider.send("evm_mine", []);
      await f.ethers.provider.send("evm_setAutomine", [true]);
      expect(await updates(f, txA), `event at version ${version}`).to.deep.equal(await updates(f, txB));
      expect(await record(f, fast), `record at version ${version}`).to.deep.equal(await record(f, slow));
      // A state written before a restarted epoch's seed block is challenged in that epoch already.
      const effective = BigInt(need((await updates(f, txA))[0], "event")[3] ?? "0");
      if (effective <= (await f.market.proofState(f.provider.address)).nextPeriod) {
        trees.set(fast, tree);
        trees.set(slow, tree);
      }
      return { tree, txA, txB };
    };
    const first = await put(2900n);
    expect(await libraryCalls(f, first.txA)).to.be.greaterThan(0);
    trees.set(fast, first.tree);
    trees.set(slow, first.tree);
    // `declare`: the data sets declare the epoch the state is written in (charged in the period of the write);
    // `idle`: first two epochs pass with proofs and no write, the first declared (charged after the write's period);
    // `leaves`: the span leaves its draw class within its size class, which only the library moves (on both twins).
    const steps: { span: bigint; prove: boolean; declare?: boolean; idle?: boolean; leaves?: boolean }[] = [
      { span: 2950n, prove: true }, // the first write of the second root word
      { span: 3072n, prove: true },
      { span: 2820n, prove: false }, // a removal, then a second write in the same epoch
      { span: 2900n, prove: true },
      { span: 3000n, prove: true, declare: true }, // a declared period is accounted
      { span: 2817n, prove: true },
      { span: 3050n, prove: true, idle: true },
      { span: 3060n, prove: true },
      { span: 3500n, prove: true, leaves: true }, // draw class 12·8+3 (2817..3072) -> 12·8+5 (3329..3584)
      { span: 3400n, prove: true },
    ];
    let fastPathTaken = 0;
    for (const step of steps) {
      if (step.idle) {
        await (await f.market.connect(f.provider).declareFaults([fast, slow])).wait();
        await (await proveNext(f, f.provider, trees)).wait();
        await (await proveNext(f, f.provider, trees)).wait();
      }
      if (step.declare) await (await f.market.connect(f.provider).declareFaults([fast, slow])).wait();
      const { tree, txA } = await put(step.span);
      const library = (await libraryCalls(f, txA)) > 0;
      expect(library, `span ${step.span} through the library`).to.equal(step.leaves === true);
      if (!library) fastPathTaken++;
      if (step.prove) {
        await (await proveNext(f, f.provider, trees)).wait();
        trees.set(fast, tree);
        trees.set(slow, tree);
      }
    }
    // Every other step stays in its draw class (within size class 12, 2049..4096 leaves) with nothing to record:
    // each took the in-market path.
    expect(fastPathTaken).to.equal(steps.length - 1);
    // And the money agrees to the base unit after settlement.
    await (await f.market.settleDataSet(fast)).wait();
    await (await f.market.settleDataSet(slow)).wait();
    expect(await record(f, fast)).to.deep.equal(await record(f, slow));
    // Both declared periods were charged, on both.
    expect((await f.market.dataSet(fast)).declaredFaults).to.equal(2n);
  });

  it("test_fastPath_aClassChangeOrABatchGoesThroughTheLibrary_andLocksCollateral", async () => {
    const f = await setup();
    const id = await createDataSet(f);
    await topUp(f, id, 5_000n * USDC);
    const tree = UniformTree.random(1000n);
    await (
      await f.market
        .connect(f.provider)
        .updateDataSets([
          await signState(f, f.client, { dataSetId: id, version: 1n, root: tree.root, span: 1000n }),
        ])
    ).wait();
    const locked = (await f.registry.stakeInfo(f.provider.address)).locked;
    const bigger = UniformTree.random(5000n);
    const tx = await f.market
      .connect(f.provider)
      .updateDataSets([
        await signState(f, f.client, { dataSetId: id, version: 2n, root: bigger.root, span: 5000n }),
      ]);
    expect(await libraryCalls(f, tx)).to.be.greaterThan(0);
    expect((await f.registry.stakeInfo(f.provider.address)).locked).to.be.greaterThan(locked);
    expect((await f.market.dataSet(id)).span).to.equal(5000n);
  });
});

describe("StorageMarket: what the in-market path does not take is decided by the library", () => {
  // Spans of about 200 GiB (class 32), so that a lockup is many base units.
  const MIB = 1n << 20n;

  /** A live data set of 3,000 MiB-leaves; escrow for exactly that span's lockup when `tight`. */
  async function liveInClass(f: StorageFixture, tight = false) {
    const id = await createDataSet(f);
    await topUp(f, id, tight ? await f.market.lockupFor(id, 3000n * MIB) : 50_000n * USDC);
    const span = 3000n * MIB;
    const tree = UniformTree.random(span);
    await (
      await f.market
        .connect(f.provider)
        .updateDataSets([await signState(f, f.client, { dataSetId: id, version: 1n, root: tree.root, span })])
    ).wait();
    expect((await f.market.dataSet(id)).span).to.equal(span);
    return id;
  }

  const state = (
    id: bigint,
    version: bigint,
    span = 3500n * MIB,
  ): { dataSetId: bigint; version: bigint; root: string; span: bigint } => ({
    dataSetId: id,
    version,
    root: UniformTree.random(span).root,
    span,
  });

  it("test_fastPath_aMalleableHighSSignatureOfTheClient_isRejected", async () => {
    const f = await setup();
    const id = await liveInClass(f);
    const signed = await signState(f, f.client, state(id, 2n));
    const sig = f.ethers.Signature.from(signed.signature as string);
    const highS = SECP256K1_N - BigInt(sig.s);
    const v = sig.v === 27 ? 28 : 27;
    const malleable = sig.r + highS.toString(16).padStart(64, "0") + v.toString(16).padStart(2, "0");
    await expect(f.market.connect(f.provider).updateDataSets([{ ...signed, signature: malleable }]))
      .to.be.revertedWithCustomError(f.market, "MarketBadSignature")
      .withArgs(f.client.address);
  });

  it("test_fastPath_aSignatureOfAnotherKeyOrOfAnotherLength_isRejected", async () => {
    const f = await setup();
    const id = await liveInClass(f);
    const other = need(f.others[3], "signer");
    const forged = await signState(f, other, state(id, 2n));
    await expect(
      f.market.connect(f.provider).updateDataSets([{ ...forged, signer: f.client.address }]),
    ).to.be.revertedWithCustomError(f.market, "MarketBadSignature");
    const signed = await signState(f, f.client, state(id, 2n));
    const short = (signed.signature as string).slice(0, 2 + 128);
    await expect(
      f.market.connect(f.provider).updateDataSets([{ ...signed, signature: short }]),
    ).to.be.revertedWithCustomError(f.market, "MarketBadSignature");
  });

  it("test_fastPath_staleVersionsAndUnfundedSpansAreSkipped_notApplied", async () => {
    const f = await setup();
    const id = await liveInClass(f, true);
    // The escrow covers the lockup of 3,000 leaves, not of 3,500.
    expect(await f.market.lockupFor(id, 3500n * MIB)).to.be.greaterThan(
      await f.market.lockupFor(id, 3000n * MIB),
    );
    await expect(f.market.connect(f.provider).updateDataSets([await signState(f, f.client, state(id, 2n))]))
      .to.emit(f.market, "DataSetUpdateSkipped")
      .withArgs(id, 2n, 1n); // Unfunded
    await topUp(f, id, 5_000n * USDC);
    await expect(f.market.connect(f.provider).updateDataSets([await signState(f, f.client, state(id, 1n))]))
      .to.emit(f.market, "DataSetUpdateSkipped")
      .withArgs(id, 1n, 0n); // StaleVersion
    expect((await f.market.dataSet(id)).version).to.equal(1n);
  });

  it("test_fastPath_aForeignProviderASpanAboveTheBoundOrAPause_revert", async () => {
    const f = await setup();
    const id = await liveInClass(f);
    await expect(
      f.market.connect(f.provider2).updateDataSets([await signState(f, f.client, state(id, 2n))]),
    ).to.be.revertedWithCustomError(f.market, "MarketNotDataSetParty");
    const maxSpan = (await f.market.parameters()).maxDataSetSize / 64n;
    await expect(
      f.market
        .connect(f.provider)
        .updateDataSets([await signState(f, f.client, state(id, 2n, maxSpan + 1n))]),
    ).to.be.revertedWithCustomError(f.market, "MarketBadSpan");
    await f.market.connect(f.admin).pause();
    await expect(
      f.market.connect(f.provider).updateDataSets([await signState(f, f.client, state(id, 2n))]),
    ).to.be.revertedWithCustomError(f.market, "EnforcedPause");
  });

  it("test_fastPath_aSessionKeyOrAContractClientGoesThroughTheLibrary", async () => {
    const f = await setup();
    const id = await liveInClass(f);
    const key = need(f.others[4], "signer");
    const expiry = BigInt(await f.helpers.time.latest()) + 3600n;
    await (
      await f.market
        .connect(f.client)
        .authorizeSessionKey(key.address, { provider: f.provider.address, maxSpan: 4000n * MIB, expiry })
    ).wait();
    const tx = await f.market.connect(f.provider).updateDataSets([await signState(f, key, state(id, 2n))]);
    expect(await libraryCalls(f, tx)).to.be.greaterThan(0);
    expect((await f.market.dataSet(id)).version).to.equal(2n);
    // A client-signed state goes through the market itself.
    const own = await f.market
      .connect(f.provider)
      .updateDataSets([await signState(f, f.client, state(id, 3n))]);
    expect(await libraryCalls(f, own)).to.equal(0);
    expect((await f.market.dataSet(id)).version).to.equal(3n);
  });

  it("test_fastPath_anOversizedFieldReverts_asTheDecoderDoes", async () => {
    const f = await setup();
    const id = await liveInClass(f);
    const signed = await signState(f, f.client, state(id, 2n));
    const data = f.market.interface.encodeFunctionData("updateDataSets", [[signed]]);
    // The version word of the single entry: selector, array offset, length, element offset, dataSetId, version.
    const at = 2 + 8 + 64 * 5;
    const bad = data.slice(0, at) + "01" + data.slice(at + 2);
    await expect(f.provider.sendTransaction({ to: await f.market.getAddress(), data: bad })).to.revert(
      f.ethers,
    );
  });
});
