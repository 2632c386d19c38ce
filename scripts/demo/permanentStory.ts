/**
 * The permanent-storage chapter of the demo (docs/SPEC.md §16.2), kept short: the client erasure-codes an
 * (already encrypted) archive into the contract's n = k + m pieces, asks `PermanentStorage.quote` for the one-time
 * price of 200 years under the 0.5%-a-year cost-decline assumption, pays it once with `storePermanent`, and prints
 * the file's public solvency view. Its pieces are then placed through open, cheapest-first provider offers
 * (`offer` / `award` / `place` / `confirm`), which this chapter does not drive.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { PermanentStorage__factory, TestStablecoin__factory } from "../../typechain-types/index.js";
import { devAccountWallet } from "../../offchain/sdk/chain/connect.js";
import { pieceRoot } from "../../offchain/sdk/commitment/parallel.js";
import { encode } from "../../offchain/sdk/data/erasure.js";
import { pieceHeight } from "../../offchain/sdk/datasets/placement.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { PieceList } from "../../offchain/sdk/repair/pieceList.js";
import type { LocalChain } from "../lib/localChain.js";
import { strataCli } from "../lib/localProcesses.js";
import type { Progress } from "./progress.js";

export interface PermanentStoryInput {
  chain: LocalChain;
  progress: Progress;
  clientAccount: number;
}

export interface PermanentStoryResult {
  fileId: bigint;
  pieces: number;
  paid: bigint;
  principal: bigint;
  horizonYears: bigint;
  solvency: { principalLeft: bigint; yearsCovered: bigint; livePieces: bigint; status: string };
}

const STATUS = ["none", "pending", "active", "lost", "abandoned"];

export async function runPermanentStory(input: PermanentStoryInput): Promise<PermanentStoryResult> {
  const { chain } = input;
  const p: Progress = input.progress;
  const raw = readFileSync(chain.deploymentFile, "utf8");
  const address = (JSON.parse(raw) as Record<string, string | undefined>)["StrataLocal#PermanentStorage"];
  if (address === undefined) {
    throw new StrataError("DEPLOYMENT_NOT_FOUND", `${chain.deploymentFile} has no PermanentStorage`);
  }
  const client = devAccountWallet(input.clientAccount).connect(chain.provider);
  const perm = PermanentStorage__factory.connect(address, client);
  const config = await perm.config();
  const k = Number(config.dataShards);
  const n = Number(config.totalShards);

  p.step(`A client stores an archive permanently: paid once for ${config.horizonYears} years`);
  const shards = await encode(randomBytes(256 * 1024), k, n - k);
  const span = 1n << BigInt(pieceHeight(shards[0]?.length ?? 64));
  const list = new PieceList(
    shards.map((shard, index) => ({ index, pieceRoot: pieceRoot(shard), span, dataSetId: 0n })),
  );
  const [principal, fee] = await perm.quote(span);
  const paid = principal + fee;
  p.detail(
    `${n} pieces (${k} + ${n - k}) of ${shards[0]?.length ?? 0} bytes; quote: ${principal} base units of principal + ` +
      `${fee} fee, assuming storage costs fall ${Number(config.declineBps) / 100}% a year`,
  );
  await strataCli(chain)(["dev", "mint", "100", "--to", client.address], 0);
  const token = TestStablecoin__factory.connect(chain.addresses.token, client);
  await (await token.approve(address, paid)).wait();
  const receipt = await (await perm.storePermanent(list.root, span, paid)).wait();
  let fileId: bigint | null = null;
  for (const log of receipt?.logs ?? []) {
    const parsed = perm.interface.parseLog(log);
    if (parsed?.name === "FileStored") fileId = parsed.args.fileId as bigint;
  }
  p.check(fileId !== null, "storePermanent emitted no FileStored");
  const s = await perm.solvency(fileId);
  const solvency = {
    principalLeft: s.principalLeft,
    yearsCovered: s.yearsCovered,
    livePieces: s.livePieces,
    status: STATUS[Number(s.status)] ?? String(s.status),
  };
  p.check(s.principalLeft === principal, "the principal held is not the quoted one");
  p.detail(
    `file ${fileId} solvency: principal left ${s.principalLeft} base units, ${s.livePieces} of ${n} pieces live ` +
      `(${solvency.status}: its slots now take provider offers, cheapest first), years covered ${s.yearsCovered}`,
  );
  return { fileId, pieces: n, paid, principal, horizonYears: config.horizonYears, solvency };
}
