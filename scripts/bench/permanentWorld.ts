/**
 * A permanent file's chain view and holders without a chain: every slot live, holder i serving piece i through
 * `serve(i)`. What `retrievePermanent` needs, for the data benchmark (pieces in files) and the SDK's tests.
 */
import { PermanentFileStatus, PermanentSlotStage } from "../../offchain/sdk/chain/enums.js";
import type { RetrievePermanentDeps } from "../../offchain/sdk/durability/permanent.js";

const HOLDERS = [
  "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
  "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
  "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
  "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
  "0x976EA74026E726554dB657fA54763abC0C3a0aa9",
];

/** Slots of a k-of-n permanent file whose pieces have `roots`; holder i answers with what `serve(i)` yields. */
export function permanentWorld(
  file: { k: number; n: number; pieceSpan: bigint; roots: readonly string[] },
  serve: (index: number) => AsyncIterable<Uint8Array>,
): RetrievePermanentDeps {
  if (file.n > HOLDERS.length) throw new Error(`at most ${HOLDERS.length} pieces`);
  const permanent = {
    config: () => Promise.resolve({ totalShards: BigInt(file.n), dataShards: BigInt(file.k) }),
    file: () =>
      Promise.resolve({
        status: PermanentFileStatus.value.Active,
        uploader: HOLDERS[0],
        pieceSpan: file.pieceSpan,
        principal: 0n,
      }),
    solvency: () =>
      Promise.resolve({ principalLeft: 0n, releasedLeft: 0n, yearsCovered: 0n, livePieces: BigInt(file.n) }),
    slot: (_fileId: bigint, index: number) =>
      Promise.resolve({
        stage: PermanentSlotStage.value.Live,
        provider: HOLDERS[index],
        price: 1n,
        dataSetId: BigInt(index + 1),
        pieceRoot: file.roots[index],
      }),
  } as unknown as RetrievePermanentDeps["permanent"];
  return {
    permanent,
    registry: {
      providerInfo: (provider: string) =>
        Promise.resolve({ endpoint: provider }) as ReturnType<
          RetrievePermanentDeps["registry"]["providerInfo"]
        >,
    },
    agentFor: (endpoint) => ({ pieceBody: () => serve(HOLDERS.indexOf(endpoint)) }),
  };
}
