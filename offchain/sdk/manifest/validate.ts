import type { DealProposal, DealTerms } from "../deals/terms.js";
import { shardSizeFor, MAX_DATA_SHARDS, MAX_PARITY_SHARDS } from "../data/erasure.js";
import { TAG_BYTES } from "../data/encryption.js";
import { KDF_ID } from "../data/fileKey.js";
import { BadManifestError, JsonReader } from "./jsonReader.js";
import {
  CODING_ALGORITHM,
  ENCRYPTION_ALGORITHM,
  MANIFEST_VERSION,
  type Manifest,
  type ManifestCoding,
  type ManifestEncryption,
  type ManifestPiece,
} from "./types.js";

/** Strict validation of a parsed manifest (docs/SPEC-DATA.md §6): exact fields, formats and cross-field rules. */

const MANIFEST_KEYS = [
  "version",
  "fileId",
  "fileName",
  "fileSize",
  "fileHash",
  "createdAt",
  "chainId",
  "market",
  "encryption",
  "coding",
  "pieces",
];
const PIECE_KEYS = ["index", "root", "size", "provider", "endpoint", "dealId", "nonce", "proposal", "deal"];
const PROPOSAL_KEYS = [
  "client",
  "provider",
  "root",
  "size",
  "duration",
  "pricePerSecond",
  "collateral",
  "startDeadline",
  "nonce",
];
const DEAL_KEYS = [
  "id",
  "client",
  "provider",
  "root",
  "size",
  "startPeriod",
  "endPeriod",
  "pricePerSecond",
  "collateral",
];

/** Validate a parsed JSON value as a manifest. */
export function fromJsonValue(value: unknown): Manifest {
  const doc = new JsonReader(value, "").object(MANIFEST_KEYS);
  const versionReader = doc.at("version");
  if (versionReader.value !== MANIFEST_VERSION) {
    throw new BadManifestError("version", `must be ${MANIFEST_VERSION} (this software reads version 1 only)`);
  }
  const fileSize = doc.at("fileSize").integer();
  const encryption = readEncryption(doc.at("encryption"));
  const coding = readCoding(doc.at("coding"), fileSize);
  const pieceReaders = doc.at("pieces").array();
  if (pieceReaders.length !== coding.k + coding.m) {
    throw new BadManifestError(
      "pieces",
      `must list k + m = ${coding.k + coding.m} pieces, found ${pieceReaders.length}`,
    );
  }
  return {
    version: MANIFEST_VERSION,
    fileId: doc.at("fileId").hex(16),
    fileName: readFileName(doc.at("fileName")),
    fileSize,
    fileHash: doc.at("fileHash").hex(32),
    createdAt: readTimestamp(doc.at("createdAt")),
    chainId: positive(doc.at("chainId"), 256),
    market: doc.at("market").address(),
    encryption,
    coding,
    pieces: pieceReaders.map((reader, index) => readPiece(reader, index, coding.shardSize)),
  };
}

/** Check a file name: 1..255 characters, no path separators or control characters (a base name, safe to write). */
export function isValidFileName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !/[/\\\p{Cc}]/u.test(name) && name !== "." && name !== "..";
}

function readFileName(reader: JsonReader): string {
  const name = reader.string();
  if (!isValidFileName(name)) {
    throw new BadManifestError(
      reader.path,
      "must be a base name of 1..255 characters without / \\ or controls",
    );
  }
  return name;
}

function readTimestamp(reader: JsonReader): string {
  const text = reader.string();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(text) || Number.isNaN(Date.parse(text))) {
    throw new BadManifestError(reader.path, "must be an ISO 8601 UTC timestamp");
  }
  return text;
}

function readEncryption(reader: JsonReader): ManifestEncryption {
  reader.object(["algorithm", "iv", "tag", "wrappedKey", "kdf"]);
  const wrapped = reader.at("wrappedKey").object(["iv", "tag", "ciphertext"]);
  return {
    algorithm: reader.at("algorithm").literal(ENCRYPTION_ALGORITHM),
    iv: reader.at("iv").hex(12),
    tag: reader.at("tag").hex(TAG_BYTES),
    wrappedKey: {
      iv: wrapped.at("iv").hex(12),
      tag: wrapped.at("tag").hex(16),
      ciphertext: wrapped.at("ciphertext").hex(32),
    },
    kdf: reader.at("kdf").literal(KDF_ID),
  };
}

function readCoding(reader: JsonReader, fileSize: number): ManifestCoding {
  reader.object(["algorithm", "k", "m", "shardSize", "payloadSize"]);
  const algorithm = reader.at("algorithm").literal(CODING_ALGORITHM);
  const k = reader.at("k").integer(1, MAX_DATA_SHARDS);
  const m = reader.at("m").integer(0, MAX_PARITY_SHARDS);
  const payloadSize = reader.at("payloadSize").integer();
  if (payloadSize !== fileSize + TAG_BYTES) {
    throw new BadManifestError(
      "coding.payloadSize",
      `must be fileSize + ${TAG_BYTES} = ${fileSize + TAG_BYTES}`,
    );
  }
  const shardSize = reader.at("shardSize").integer(1);
  const expected = shardSizeFor(payloadSize, k);
  if (shardSize !== expected) {
    throw new BadManifestError(
      "coding.shardSize",
      `must be ${expected} for payloadSize ${payloadSize} and k ${k}`,
    );
  }
  return { algorithm, k, m, shardSize, payloadSize };
}

function readPiece(reader: JsonReader, index: number, shardSize: number): ManifestPiece {
  reader.object(PIECE_KEYS);
  if (reader.at("index").integer() !== index) {
    throw new BadManifestError(
      `pieces[${index}].index`,
      `must be ${index} (pieces are listed in index order)`,
    );
  }
  const size = reader.at("size").integer();
  if (size !== shardSize) throw new BadManifestError(`pieces[${index}].size`, `must equal coding.shardSize`);
  const piece = {
    index,
    root: reader.at("root").hex(32),
    size,
    provider: reader.at("provider").address(),
    endpoint: readEndpoint(reader.at("endpoint")),
    dealId: reader.at("dealId").isNull() ? null : reader.at("dealId").decimal(64),
    nonce: reader.at("nonce").decimal(64),
    proposal: readProposal(reader.at("proposal")),
    deal: reader.at("deal").isNull() ? null : readDeal(reader.at("deal")),
  };
  const path = `pieces[${index}]`;
  const { proposal, deal } = piece;
  same(proposal.root, piece.root, `${path}.proposal.root`, "root");
  same(proposal.size, BigInt(size), `${path}.proposal.size`, "size");
  same(proposal.provider, piece.provider, `${path}.proposal.provider`, "provider");
  same(proposal.nonce, piece.nonce, `${path}.proposal.nonce`, "nonce");
  if (deal !== null) {
    if (piece.dealId === null)
      throw new BadManifestError(`${path}.dealId`, "must be set when deal terms are");
    same(deal.id, piece.dealId, `${path}.deal.id`, "dealId");
    same(deal.root, piece.root, `${path}.deal.root`, "root");
    same(deal.size, BigInt(size), `${path}.deal.size`, "size");
    same(deal.provider, piece.provider, `${path}.deal.provider`, "provider");
    same(deal.client, proposal.client, `${path}.deal.client`, "proposal.client");
  }
  return piece;
}

function readEndpoint(reader: JsonReader): string {
  const text = reader.string();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BadManifestError(reader.path, "must be an http(s) URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new BadManifestError(reader.path, "must be an http(s) URL");
  }
  return text;
}

function readProposal(reader: JsonReader): DealProposal {
  reader.object(PROPOSAL_KEYS);
  return {
    client: reader.at("client").address(),
    provider: reader.at("provider").address(),
    root: reader.at("root").hex(32),
    size: reader.at("size").decimal(64),
    duration: reader.at("duration").decimal(64),
    pricePerSecond: reader.at("pricePerSecond").decimal(128),
    collateral: reader.at("collateral").decimal(128),
    startDeadline: reader.at("startDeadline").decimal(64),
    nonce: reader.at("nonce").decimal(64),
  };
}

function readDeal(reader: JsonReader): DealTerms {
  reader.object(DEAL_KEYS);
  return {
    id: reader.at("id").decimal(64),
    client: reader.at("client").address(),
    provider: reader.at("provider").address(),
    root: reader.at("root").hex(32),
    size: reader.at("size").decimal(64),
    startPeriod: reader.at("startPeriod").decimal(32),
    endPeriod: reader.at("endPeriod").decimal(32),
    pricePerSecond: reader.at("pricePerSecond").decimal(128),
    collateral: reader.at("collateral").decimal(128),
  };
}

function positive(reader: JsonReader, bits: number): bigint {
  const value = reader.decimal(bits);
  if (value === 0n) throw new BadManifestError(reader.path, "must not be 0");
  return value;
}

function same<T extends string | bigint>(actual: T, expected: T, field: string, what: string): void {
  if (actual !== expected) throw new BadManifestError(field, `must match the piece's ${what}`);
}
