/**
 * `hardhat run scripts/bench/updateTrace.ts`: where the gas of a signed data set update goes. Replays the gas
 * benchmark's update rows (./storageGas.ts) on an in-process network and prints, for each, an opcode-level
 * breakdown (./gasTrace.ts): the first state of an empty data set, a 1-piece add to a data set in use (the first
 * write of its second root word, then the steady state), a 100-piece add and a removal.
 */
import hre from "hardhat";
import {
  createDataSet,
  defaultParameters,
  deployStorage,
  fundClient,
  putState,
  registerProvider,
  topUp,
  USDC,
  UniformTree,
  buildAnswers,
  enterProofWindow,
  type StorageFixture,
} from "../lib/inProcessSuite.js";
import { BENCH_GENESIS, fixBlockTimes, seededBytes } from "./deterministicChain.js";
import { breakdownTable, traceBreakdown } from "./gasTrace.js";

const MIB = 1n << 20n;
const GIB = 1n << 30n;
const leaves = (bytes: bigint) => bytes / 64n;

let treeCount = 0;
function tree(span: bigint): UniformTree {
  treeCount++;
  return new UniformTree(span, Buffer.from(seededBytes(64, `trace tree ${treeCount}`)));
}

async function prove(f: StorageFixture, trees: Map<bigint, UniformTree>) {
  const period = (await f.market.proofState(f.provider.address)).nextPeriod;
  await enterProofWindow(f, period);
  const answers = await buildAnswers(f, f.provider.address, trees);
  await (await f.market.connect(f.provider).submitProof(period, answers)).wait();
}

const release = fixBlockTimes(hre.hooks);
try {
  const f = await deployStorage({ initialDate: BENCH_GENESIS });
  await f.market
    .connect(f.admin)
    .setParameters(defaultParameters({ challengeCount: 4n, proofWindow: 1800n }));
  await fundClient(f, f.client, 100_000_000n * USDC);
  await registerProvider(f, f.provider, 10_000_000n * USDC);
  const names = new Map<string, string>([
    [(await f.market.getAddress()).toLowerCase(), "market"],
    [(await f.registry.getAddress()).toLowerCase(), "registry"],
    [(await f.token.getAddress()).toLowerCase(), "token"],
    // The market's `MarketLayout.Layout` starts at slot 5, after the state it inherits (a label only: a change of
    // the inherited state shifts these names, not the figures).
    ["slot:5", "params word 0 (pause flag, maxDataSetSize)"],
    ["slot:6", "params word 1"],
    ["slot:7", "count/retrieval"],
    ["slot:8", "sets"],
    ["slot:9", "roots"],
    ["slot:10", "proofStates"],
    ["slot:11", "masks"],
    ["slot:12", "classCounts"],
    ["slot:13", "slots"],
    ["slot:14", "faultLogs"],
    ["slot:15", "sessionKeys"],
    ["slot:16", "nonceBits"],
    ["slot:17", "bonds"],
  ]);
  // Linked libraries, by their address in the market's deployed code.
  const code = await f.ethers.provider.getCode(await f.market.getAddress());
  const artifact = await hre.artifacts.readArtifact("StorageMarket");
  for (const byName of Object.values(artifact.deployedLinkReferences)) {
    for (const [name, refs] of Object.entries(byName)) {
      const at = refs[0];
      if (at) names.set("0x" + code.slice(2 + at.start * 2, 2 + (at.start + 20) * 2).toLowerCase(), name);
    }
  }
  const requester = { send: (m: string, p: unknown[]) => f.ethers.provider.send(m, p) };
  const show = async (title: string, hash: string) => {
    console.log(breakdownTable(title, await traceBreakdown(requester, hash, names)) + "\n");
  };
  const trees = new Map<bigint, UniformTree>();
  // A data set that already holds bytes, as the provider's other data sets do.
  const other = await createDataSet(f);
  await topUp(f, other, 100_000n * USDC);
  trees.set(other, tree(leaves(GIB)));
  await (await putState(f, other, trees.get(other) ?? tree(1n))).wait();
  await prove(f, trees);

  const id = await createDataSet(f);
  await topUp(f, id, 100_000n * USDC);
  let t = tree(leaves(100n * GIB));
  let tx = await putState(f, id, t);
  await show("first state of an empty data set (100 GiB, provider already holds bytes)", tx.hash);
  trees.set(id, t);
  await prove(f, trees);

  const step = async (title: string, delta: bigint) => {
    const before = (await f.market.dataSet(id)).span;
    t = tree(before + delta);
    tx = await putState(f, id, t);
    await show(`${title} (span ${before} -> ${t.span})`, tx.hash);
    await prove(f, trees);
    trees.set(id, t);
  };
  await step("add 1 piece, first write of the second root word", leaves(MIB));
  await step("add 1 piece, steady state", leaves(MIB));
  await step("add 100 pieces", leaves(100n * MIB));
  await step("remove 50 pieces", -leaves(50n * MIB));
  // Two updates of one data set in one epoch: the second does not copy the current values to the previous.
  {
    const before = (await f.market.dataSet(id)).span;
    t = tree(before + leaves(MIB));
    await (await putState(f, id, t)).wait();
    t = tree(before + 2n * leaves(MIB));
    tx = await putState(f, id, t);
    await show("add 1 piece, second update in the same epoch", tx.hash);
  }
} finally {
  release();
}
