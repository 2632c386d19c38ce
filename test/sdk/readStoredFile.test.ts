import { expect } from "chai";
import { Wallet } from "ethers";
import { readStoredFile } from "../../offchain/sdk/client/readStoredFile.js";
import { prepareFile, type PreparedFile } from "../../offchain/sdk/data/prepare.js";
import { packFiles } from "../../offchain/sdk/files/bundle.js";
import { completeManifest, type Manifest, type ManifestFile } from "../../offchain/sdk/manifest/manifest.js";
import { deterministicBytes, expectRejection } from "./helpers/assertions.js";

const owner = new Wallet("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const CHUNK = 4096;

describe("readStoredFile: one packed file through ranged piece reads", function () {
  const files = [
    { name: "big-before.bin", bytes: deterministicBytes("before", 600_000) },
    { name: "small.txt", bytes: deterministicBytes("small", 5_000) },
    { name: "big-after.bin", bytes: deterministicBytes("after", 600_000) },
  ];
  const packed = packFiles(files);
  let prepared: PreparedFile;
  let manifest: Manifest;
  let entries: ManifestFile[];

  before(async function () {
    prepared = await prepareFile(packed.bytes, {
      k: 2,
      m: 1,
      signer: owner,
      fileName: "bundle",
      chunkSize: CHUNK,
    });
    entries = packed.entries.map((e) => ({ ...e, id: "bafkqaaa", public: false }));
    manifest = completeManifest(
      { ...prepared.manifestDraft, files: entries },
      { chainId: 31337n, market: "0x" + "11".repeat(20) },
      prepared.pieces.map((p) => ({
        provider: "0x" + String(p.index + 1).repeat(40),
        endpoint: `http://agent-${p.index}`,
        dataSetId: BigInt(p.index + 1),
        offset: 0,
        addedInVersion: 1n,
      })),
    );
  });

  function agents(opts: { tamper?: number; missing?: number } = {}) {
    const log: { piece: number; start: number; end: number }[] = [];
    const agentFor = (endpoint: string) => ({
      downloadRange(root: string, start: number, end: number): Promise<Uint8Array> {
        const piece = prepared.pieces.find((p) => p.root === root);
        if (piece === undefined || endpoint !== `http://agent-${piece.index}`) {
          return Promise.reject(new Error("unknown piece"));
        }
        log.push({ piece: piece.index, start, end });
        if (opts.missing === piece.index) return Promise.reject(new Error("gone"));
        const copy = Uint8Array.from(piece.data.subarray(start, end));
        if (opts.tamper === piece.index && copy.length > 0) copy[0] = (copy[0] ?? 0) ^ 1;
        return Promise.resolve(copy);
      },
    });
    return { log, agentFor };
  }
  const fetched = (log: readonly { start: number; end: number }[]) =>
    log.reduce((sum, r) => sum + (r.end - r.start), 0);

  it("streams a file into a sink as it is decrypted, chunk by chunk, instead of returning it", async function () {
    const big = entries[2];
    if (big === undefined) throw new Error("no entry");
    const { agentFor } = agents();
    const parts: Uint8Array[] = [];
    const read = await readStoredFile(manifest, big, { signer: owner, agentFor }, undefined, {
      write: (bytes) => {
        parts.push(Uint8Array.from(bytes));
        return Promise.resolve();
      },
      restart: () => Promise.reject(new Error("an encrypted read never restarts")),
    });
    expect(read.bytes.length).to.equal(0);
    expect(read.length).to.equal(big.size);
    // One write per decrypted chunk (4 KiB here): the file never sits whole in memory.
    expect(parts.length).to.be.at.least(Math.floor(big.size / CHUNK));
    expect(Buffer.concat(parts).equals(Buffer.from(files[2]?.bytes ?? []))).to.equal(true);
  });

  it("fetches only the sealed chunks that hold the file, not the payload", async function () {
    const small = entries[1];
    if (small === undefined) throw new Error("no entry");
    const { log, agentFor } = agents();
    const read = await readStoredFile(manifest, small, { signer: owner, agentFor });
    expect(Buffer.from(read.bytes).equals(Buffer.from(files[1]?.bytes ?? []))).to.equal(true);
    // 5,000 bytes span at most 3 chunks of 4,096 (+16 tag): never more than those sealed bytes, from data pieces.
    expect(fetched(log)).to.be.at.most(3 * (CHUNK + 16));
    expect(fetched(log)).to.be.below(manifest.coding.payloadSize / 100);
    expect(log.every((r) => r.piece < manifest.coding.k)).to.equal(true);
    expect(read.used).to.deep.equal([0, 1]);
  });

  it("reads a sub-range of a file with only the chunk that holds it", async function () {
    const big = entries[2];
    if (big === undefined) throw new Error("no entry");
    const { log, agentFor } = agents();
    const read = await readStoredFile(
      manifest,
      big,
      { signer: owner, agentFor },
      { start: 300_000, end: 300_100 },
    );
    expect(
      Buffer.from(read.bytes).equals(Buffer.from(files[2]?.bytes.subarray(300_000, 300_100) ?? [])),
    ).to.equal(true);
    expect(fetched(log)).to.be.at.most(2 * (CHUNK + 16));
  });

  it("reads through parity when a data piece is gone, and detects a tampered piece", async function () {
    const small = entries[1];
    if (small === undefined) throw new Error("no entry");
    const gone = agents({ missing: 0 });
    const read = await readStoredFile(manifest, small, { signer: owner, agentFor: gone.agentFor });
    expect(Buffer.from(read.bytes).equals(Buffer.from(files[1]?.bytes ?? []))).to.equal(true);
    expect(read.used).to.deep.equal([1, 2]);
    expect(read.failures.map((f) => f.piece)).to.deep.equal([0]);
    const tampered = agents({ tamper: 0 });
    const again = await readStoredFile(manifest, small, { signer: owner, agentFor: tampered.agentFor });
    expect(Buffer.from(again.bytes).equals(Buffer.from(files[1]?.bytes ?? []))).to.equal(true);
    expect(again.failures.map((f) => f.piece)).to.include(0);
  });

  it("refuses a file whose recorded sha256 does not match, and a range outside the file", async function () {
    const small = entries[1];
    if (small === undefined) throw new Error("no entry");
    const { agentFor } = agents();
    await expectRejection(
      () =>
        readStoredFile(manifest, { ...small, sha256: "0x" + "00".repeat(32) }, { signer: owner, agentFor }),
      "FILE_HASH_MISMATCH",
    );
    await expectRejection(
      () => readStoredFile(manifest, small, { signer: owner, agentFor }, { start: 10, end: small.size + 1 }),
      "INVALID_ARGUMENT",
    );
  });
});
