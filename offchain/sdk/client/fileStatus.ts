// The health of a stored file, piece by piece (docs/SPEC.md, "Data sets"): is the piece's data set live and does
// the chain hold the state that added it, is its provider proving, how long does the escrow pay, does the agent
// answer. A file is at risk when fewer than k of its pieces are healthy.
import type { Manifest, ManifestPiece } from "../manifest/manifest.js";
import type { AgentClient } from "./agentClient.js";
import {
  dataSetFunding,
  provingHealth,
  readDataSet,
  type DataSetFunding,
  type DataSetInfo,
  type DataSetReader,
  type ProvingHealth,
} from "./dataSets.js";

/** ok: nothing to do; at-risk: still held but something needs attention; lost: the chain no longer holds it. */
export type PieceHealthName = "ok" | "at-risk" | "lost";

export interface PieceStatus {
  piece: number;
  provider: string;
  endpoint: string;
  dataSetId: bigint;
  offset: number;
  dataSet: DataSetInfo | null;
  /** The chain shows the state that added the piece (version >= addedInVersion). */
  applied: boolean;
  proving: ProvingHealth;
  funding: DataSetFunding | null;
  /** Unix seconds until which the escrow pays the data set's current span (null when nothing is billed). */
  paidUntil: bigint | null;
  reachable: boolean | null;
  health: PieceHealthName;
  /** Why the piece is not ok, in words. */
  reasons: string[];
}

export interface FileStatus {
  pieces: PieceStatus[];
  k: number;
  healthy: number;
  /** Pieces still held (ok or at risk) that answer: enough to rebuild the file now. */
  retrievable: boolean;
  /** Fewer than k pieces are healthy. */
  atRisk: boolean;
}

export interface FileStatusDeps {
  market: DataSetReader;
  agentFor: (endpoint: string) => Pick<AgentClient, "health">;
  /** Chain time, unix seconds. */
  now: bigint;
}

export async function fileStatus(manifest: Manifest, deps: FileStatusDeps): Promise<FileStatus> {
  const provingPeriod = await deps.market.provingPeriod();
  const pieces = await Promise.all(manifest.pieces.map((piece) => pieceStatus(piece, provingPeriod, deps)));
  const k = manifest.coding.k;
  const healthy = pieces.filter((p) => p.health === "ok").length;
  const held = pieces.filter((p) => p.health !== "lost" && p.reachable === true).length;
  return { pieces, k, healthy, retrievable: held >= k, atRisk: healthy < k };
}

async function pieceStatus(
  piece: ManifestPiece,
  provingPeriod: bigint,
  deps: FileStatusDeps,
): Promise<PieceStatus> {
  const reasons: string[] = [];
  const [dataSet, proving, reachable] = await Promise.all([
    readDataSet(deps.market, piece.dataSetId).catch(() => null),
    provingHealth(deps.market, piece.provider),
    deps
      .agentFor(piece.endpoint)
      .health()
      .then((h) => h.ok && h.provider.toLowerCase() === piece.provider.toLowerCase())
      .catch(() => false),
  ]);
  let lost = false;
  let funding: DataSetFunding | null = null;
  let paidUntil: bigint | null = null;
  if (dataSet?.provider.toLowerCase() !== piece.provider.toLowerCase()) {
    lost = true;
    reasons.push(`data set ${piece.dataSetId} is not on chain with this provider`);
  } else {
    if (dataSet.status === "finalized") {
      lost = true;
      reasons.push(`data set ${piece.dataSetId} has ended`);
    } else if (dataSet.status === "ending") {
      reasons.push(`data set ${piece.dataSetId} ends at period ${dataSet.endPeriod}`);
    }
    if (dataSet.version < piece.addedInVersion) {
      reasons.push(
        `the chain shows version ${dataSet.version}, the piece was added in ${piece.addedInVersion}`,
      );
    }
    if (dataSet.missedFaults + dataSet.declaredFaults > 0n) {
      reasons.push(`${dataSet.missedFaults} missed and ${dataSet.declaredFaults} declared faults`);
    }
    if (!lost) {
      funding = await dataSetFunding(deps.market, dataSet);
      if (funding.fundedSeconds !== null) {
        paidUntil = deps.now + funding.fundedSeconds;
        if (funding.available < funding.lockup) {
          reasons.push("the escrow no longer covers the notice: anyone may end the data set (strata renew)");
        } else if (funding.fundedSeconds < (dataSet.noticePeriods + 3n) * provingPeriod) {
          reasons.push("the escrow runs out soon (strata renew)");
        }
      }
    }
  }
  if (proving.behind > 1n)
    reasons.push(`the provider has not proven the last ${proving.behind - 1n} period(s)`);
  if (!reachable) reasons.push("the provider's agent does not answer");
  const health: PieceHealthName = lost ? "lost" : reasons.length > 0 ? "at-risk" : "ok";
  return {
    piece: piece.index,
    provider: piece.provider,
    endpoint: piece.endpoint,
    dataSetId: piece.dataSetId,
    offset: piece.offset,
    dataSet,
    applied: dataSet !== null && dataSet.version >= piece.addedInVersion,
    proving,
    funding,
    paidUntil,
    reachable,
    health,
    reasons,
  };
}
