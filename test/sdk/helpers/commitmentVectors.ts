import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PieceTree, toHex } from "../../../offchain/sdk/commitment/merkle.js";

/**
 * Shared commitment test vectors (test/vectors/commitment.json): small deterministic pieces with their PieceTree
 * root and one opened leaf. Regenerate with `npx tsx test/sdk/helpers/commitmentVectors.ts` (only needed if the
 * list below changes: the commitment scheme itself must never change).
 */

export const VECTORS_PATH = fileURLToPath(new URL("../../vectors/commitment.json", import.meta.url));

export interface CommitmentVector {
  name: string;
  size: number;
  data: string;
  root: string;
  depth: number;
  leafIndex: number;
  leaf: [string, string];
  path: string[];
}

export interface CommitmentVectorFile {
  description: string;
  leafSize: number;
  vectors: CommitmentVector[];
}

/** [name, size, leaf index to open, fill] — sizes around the leaf and power-of-two boundaries. */
const CASES: [string, number, number, "stream" | "zero"][] = [
  ["one byte", 1, 0, "stream"],
  ["one short leaf", 63, 0, "stream"],
  ["one full leaf", 64, 0, "stream"],
  ["two leaves, second of 1 byte", 65, 1, "stream"],
  ["two full leaves", 128, 0, "stream"],
  ["four leaves, last partial", 200, 3, "stream"],
  ["three leaves padded to four", 150, 2, "stream"],
  ["sixteen leaves, last partial", 1000, 9, "stream"],
  ["sixty-four full leaves", 4096, 63, "stream"],
  ["one byte past 64 leaves", 4097, 64, "stream"],
  ["all zero bytes", 300, 4, "zero"],
];

/** Deterministic bytes: sha256("strata-commitment-vectors" || name || counter) blocks. */
function streamBytes(name: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let counter = 0, offset = 0; offset < size; counter++, offset += 32) {
    const block = createHash("sha256").update(`strata-commitment-vectors/${name}/${counter}`).digest();
    out.set(block.subarray(0, Math.min(32, size - offset)), offset);
  }
  return out;
}

export function generateVectors(): CommitmentVectorFile {
  return {
    description:
      "Strata piece commitments (docs/SPEC.md §7.1, docs/SPEC-DATA.md §2): SHA-256 Merkle tree over 64-byte leaves, " +
      "zero-padded to 64 * 2^depth bytes. Each vector opens one leaf; `path` lists siblings bottom-up.",
    leafSize: 64,
    vectors: CASES.map(([name, size, leafIndex, fill]) => {
      const data = fill === "zero" ? new Uint8Array(size) : streamBytes(name, size);
      const tree = PieceTree.build(data);
      return {
        name,
        size,
        data: toHex(data),
        root: tree.root,
        depth: tree.depth,
        leafIndex,
        leaf: tree.leaf(leafIndex),
        path: tree.path(leafIndex),
      };
    }),
  };
}

export function readVectors(): CommitmentVectorFile {
  return JSON.parse(readFileSync(VECTORS_PATH, "utf8")) as CommitmentVectorFile;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  // Formatted as `prettier --check` expects, with the repository's configuration.
  const prettier = await import("prettier");
  const options = await prettier.resolveConfig(VECTORS_PATH);
  const text = await prettier.format(JSON.stringify(generateVectors()), {
    ...options,
    filepath: VECTORS_PATH,
  });
  writeFileSync(VECTORS_PATH, text);
  console.log(`wrote ${VECTORS_PATH}`);
}
