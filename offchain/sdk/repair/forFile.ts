// A stored file's repair mandate (docs/SPEC.md §16.1): its piece list and brief from the manifest, the mandate
// factory of a deployment, opening a mandate (sign + fund), and a JSON-file journal for repairs run by hand.
import { readFile, rename, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Signer } from "ethers";
import type { RepairMandateFactory } from "../../../typechain-types/index.js";
import type { StrataDeployment } from "../chain/deployment.js";
import { pieceHeight } from "../datasets/placement.js";
import { StrataError } from "../errors.js";
import type { Manifest } from "../manifest/types.js";
import { encodeRepairBrief, parseRepairBrief, type RepairBrief } from "./brief.js";
import type { RepairJournal, RepairRecord } from "./driver.js";
import { signMandate, type MandateTerms } from "./mandate.js";
import { PieceList, type ListedPiece } from "./pieceList.js";
import { confirmTransaction } from "../chain/confirm.js";

/** The file's pieces as a mandate lists them: each piece's commitment, span and the data set first holding it. */
export function manifestPieces(manifest: Manifest): ListedPiece[] {
  return [...manifest.pieces]
    .sort((a, b) => a.index - b.index)
    .map((p) => ({
      index: p.index,
      pieceRoot: p.root,
      span: 1n << BigInt(pieceHeight(manifest.coding.shardSize)),
      dataSetId: p.dataSetId,
    }));
}

/** The repair brief of `manifest`'s file under the mandate at `mandate`. */
export function briefFromManifest(manifest: Manifest, mandate: string): RepairBrief {
  refusePublic(manifest);
  return parseRepairBrief(
    encodeRepairBrief({
      version: 1,
      chainId: manifest.chainId,
      mandate,
      k: manifest.coding.k,
      m: manifest.coding.m,
      pieceSize: manifest.coding.shardSize,
      pieces: manifestPieces(manifest),
    }),
  );
}

/**
 * Repairs rebuild a lost piece by Reed-Solomon from k others (docs/SPEC.md §16.1); a public payload's pieces are
 * full replicas (docs/SPEC-DATA.md §10.1), which this repair does not rebuild yet: refused up front, before any
 * token moves, rather than mandating repairs that would fail.
 */
function refusePublic(manifest: Manifest): void {
  if (manifest.public !== true) return;
  throw new StrataError(
    "INVALID_ARGUMENT",
    `${manifest.fileName} is public (replicas): repair mandates cover encrypted, erasure-coded payloads only`,
    {
      details: "store it with more --replicas instead",
    },
  );
}

/** Where `strata mandate` writes a file's repair brief by default: next to its manifest. */
export function defaultBriefPath(manifestPath: string): string {
  return resolve(manifestPath).replace(/(\.strata)?\.json$/, "") + ".repair.json";
}

/** The RepairMandateFactory deployed with the suite (`<module>#RepairMandateFactory` in its Ignition file), or null. */
export async function mandateFactoryAddress(deployment: Pick<StrataDeployment, "source" | "module">) {
  try {
    const json = JSON.parse(await readFile(deployment.source, "utf8")) as Record<string, unknown>;
    const address = json[`${deployment.module}#RepairMandateFactory`];
    return typeof address === "string" ? address : null;
  } catch {
    return null;
  }
}

/** What opening a mandate needs besides the file. */
export interface OpenMandateRequest {
  manifest: Manifest;
  owner: Signer;
  factory: RepairMandateFactory;
  /** Approve the factory to pull `budget` from the owner (the token bound to the owner). */
  approve: (spender: string, amount: bigint) => Promise<void>;
  terms: Omit<MandateTerms, "owner" | "piecesRoot" | "pieceCount" | "nonce" | "deadline">;
  /** Chain time, for the signature's deadline. */
  now: bigint;
}

/** Sign the mandate's terms, approve its budget and open it; returns its address, terms and brief. */
export async function openMandateForFile(
  request: OpenMandateRequest,
): Promise<{ mandate: string; terms: MandateTerms; brief: RepairBrief; txHash: string }> {
  const { manifest, owner, factory } = request;
  refusePublic(manifest);
  const list = new PieceList(manifestPieces(manifest));
  const ownerAddress = await owner.getAddress();
  let nonce = BigInt(Date.now());
  while (await factory.nonceUsed(ownerAddress, nonce)) nonce++;
  const terms: MandateTerms = {
    ...request.terms,
    owner: ownerAddress,
    piecesRoot: list.root,
    pieceCount: list.pieces.length,
    nonce,
    deadline: request.now + 3600n,
  };
  const factoryAddress = await factory.getAddress();
  const signature = await signMandate(owner, manifest.chainId, factoryAddress, terms);
  if (terms.budget > 0n) await request.approve(factoryAddress, terms.budget);
  const mandate = await factory.mandateAddress(ownerAddress, nonce);
  const tx = await factory.openMandate(terms, signature);
  const receipt = await confirmTransaction(tx);
  return { mandate, terms, brief: briefFromManifest(manifest, mandate), txHash: receipt.hash };
}

/** A repair journal in a JSON file (for `strata repair`): one record per mandate and piece, rewritten atomically. */
export function fileJournal(path: string): RepairJournal {
  const key = (mandate: string, index: number) => `${mandate.toLowerCase()}/${index}`;
  const read = async (): Promise<Record<string, Record<string, string | number | null>>> => {
    try {
      return JSON.parse(await readFile(path, "utf8")) as Record<
        string,
        Record<string, string | number | null>
      >;
    } catch {
      return {};
    }
  };
  return {
    async load(mandate, index) {
      const row = (await read())[key(mandate, index)];
      if (row === undefined || row.stage === "claimed" || row.stage === "cancelled") return null;
      return {
        mandate: String(row.mandate),
        index: Number(row.index),
        stage: String(row.stage) as RepairRecord["stage"],
        repairId: BigInt(String(row.repairId)),
        provider: String(row.provider),
        endpoint: String(row.endpoint),
        dataSetId: row.dataSetId === null ? null : BigInt(String(row.dataSetId)),
      };
    },
    async save(record) {
      const all = await read();
      all[key(record.mandate, record.index)] = {
        ...record,
        repairId: record.repairId.toString(),
        dataSetId: record.dataSetId === null ? null : record.dataSetId.toString(),
      };
      await writeFile(`${path}.tmp`, `${JSON.stringify(all, null, 2)}\n`);
      await rename(`${path}.tmp`, path);
    },
  };
}
