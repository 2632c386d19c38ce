import { expect } from "chai";
import { WorkerDb, type IndexedEvent } from "../../offchain/worker/db/index.js";
import { replayBefore } from "../../offchain/worker/verify/replayAt.js";

const PROVIDER = "0x1111111111111111111111111111111111111111";
const CLIENT = "0x3333333333333333333333333333333333333333";
const IDENTITY = {
  chainId: 31337n,
  market: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  registry: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  retrievalChallenges: null,
};

function txHash(n: number): string {
  return "0x" + n.toString(16).padStart(64, "0");
}

const EVENTS: IndexedEvent[] = [
  {
    kind: "DataSetCreated",
    dataSetId: 1n,
    client: CLIENT,
    provider: PROVIDER,
    pricePerTiBMonth: 2_500_000n,
    collateralPerTiB: 10_000_000n,
    noticePeriods: 7n,
    nonce: 1n,
    blockNumber: 7,
    logIndex: 0,
    txHash: txHash(1),
  },
  {
    kind: "DataSetUpdated",
    dataSetId: 1n,
    version: 1n,
    root: "0x" + "ab".repeat(32),
    span: 17n,
    effectivePeriod: 6n,
    blockNumber: 8,
    logIndex: 0,
    txHash: txHash(2),
  },
];

describe("worker replay checkpoints (verify/replayAt.ts)", function () {
  it("test_replayBefore_startsOverFromACheckpointOfAnOlderFormat", function () {
    const db = WorkerDb.open(":memory:", () => 1_000);
    try {
      db.bindIdentity(IDENTITY);
      db.initCursor(1);
      db.applyBatch({
        from: 1,
        to: 9,
        events: EVENTS,
        blocks: [7, 8, 9].map((number) => ({ number, hash: txHash(100 + number) })),
      });
      // A checkpoint written by a build with power-of-two classes (format 1), after the creation event.
      db.putReplayCheckpoint(
        PROVIDER,
        { blockNumber: 7, logIndex: 5 },
        '{"format":1,"providers":[],"dataSets":[]}',
      );
      const { replay, applied } = replayBefore(db, PROVIDER, { blockNumber: 100, logIndex: 0 });
      expect(applied).to.equal(2); // both events, the creation included: the old checkpoint was not restored
      expect(replay.dataSet(1n)).to.include({ span: 17n, sizeClass: 5, drawClass: 40 });
      // The checkpoint written now is of the current format and is restored as is.
      const again = replayBefore(db, PROVIDER, { blockNumber: 100, logIndex: 0 });
      expect(again.applied).to.equal(0);
      expect(again.replay.dataSet(1n)).to.include({ drawClass: 40 });
    } finally {
      db.close();
    }
  });
});
