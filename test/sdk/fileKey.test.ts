import { expect } from "chai";
import { hexlify, Wallet } from "ethers";
import {
  deriveKek,
  keyMessage,
  newFileId,
  newFileKey,
  unwrapFileKey,
  unwrapKey,
  wrapFileKey,
  wrapKey,
} from "../../offchain/sdk/data/fileKey.js";
import { expectRejection, expectStrataError } from "./helpers/assertions.js";

/** Hardhat's first dev account; the KEK below was checked with `openssl kdf ... HKDF` (docs/SPEC-DATA.md §4). */
const VECTOR = {
  privateKey: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  fileId: "0x000102030405060708090a0b0c0d0e0f",
  signature:
    "0x370c16d782b1cd6e91bc6036a9f5c2fa94aa095369a30a4dd2a04c6b9383eb1a7681fa94fc5762db6ae1dbbd9a679e8b1252a782f4d5c26f379cbb745c1b6ba41c",
  kek: "0x9bf65dfcc5038633da9ca1e61032f510de6124b34f8af39f5f11af04928a87b6",
};

describe("file keys and key wrapping", function () {
  const owner = new Wallet(VECTOR.privateKey);
  const stranger = Wallet.createRandom();

  it("derives the KEK of the spec's test vector", async function () {
    expect(keyMessage(VECTOR.fileId)).to.equal("Strata file key v1\n0x000102030405060708090a0b0c0d0e0f");
    expect(await owner.signMessage(keyMessage(VECTOR.fileId))).to.equal(VECTOR.signature);
    expect(hexlify(await deriveKek(owner, VECTOR.fileId))).to.equal(VECTOR.kek);
  });

  it("re-derives the same KEK with the same wallet, and another one per wallet and per file", async function () {
    const fileId = newFileId();
    expect(fileId).to.match(/^0x[0-9a-f]{32}$/);
    const kek = hexlify(await deriveKek(owner, fileId));
    expect(hexlify(await deriveKek(owner, fileId))).to.equal(kek);
    expect(hexlify(await deriveKek(stranger, fileId))).to.not.equal(kek);
    expect(hexlify(await deriveKek(owner, newFileId()))).to.not.equal(kek);
  });

  it("wraps and unwraps a random 32-byte file key", async function () {
    const fileId = newFileId();
    const fileKey = newFileKey();
    expect(fileKey).to.have.length(32);
    const wrapped = await wrapFileKey(owner, fileId, fileKey);
    expect(wrapped.iv).to.match(/^0x[0-9a-f]{24}$/);
    expect(wrapped.tag).to.match(/^0x[0-9a-f]{32}$/);
    expect(wrapped.ciphertext).to.match(/^0x[0-9a-f]{64}$/);
    expect(wrapped.ciphertext).to.not.equal(hexlify(fileKey));
    expect(hexlify(await unwrapFileKey(owner, fileId, wrapped))).to.equal(hexlify(fileKey));
  });

  it("refuses another wallet with WRONG_KEY", async function () {
    const fileId = newFileId();
    const wrapped = await wrapFileKey(owner, fileId, newFileKey());
    await expectRejection(() => unwrapFileKey(stranger, fileId, wrapped), "WRONG_KEY");
  });

  it("refuses an altered wrapped key or the wrong file id with WRONG_KEY", async function () {
    const fileId = newFileId();
    const kek = await deriveKek(owner, fileId);
    const wrapped = wrapKey(newFileKey(), kek);
    const flipped = wrapped.ciphertext.slice(0, -1) + (wrapped.ciphertext.endsWith("0") ? "1" : "0");
    expectStrataError(() => unwrapKey({ ...wrapped, ciphertext: flipped }, kek), "WRONG_KEY");
    await expectRejection(() => unwrapFileKey(owner, newFileId(), wrapped), "WRONG_KEY");
  });

  it("rejects malformed file ids, file keys and wrapped-key fields with INVALID_ARGUMENT", async function () {
    await expectRejection(() => deriveKek(owner, "0x1234"), "INVALID_ARGUMENT");
    await expectRejection(() => deriveKek(owner, VECTOR.fileId.toUpperCase()), "INVALID_ARGUMENT");
    const kek = await deriveKek(owner, VECTOR.fileId);
    expectStrataError(() => wrapKey(new Uint8Array(16), kek), "INVALID_ARGUMENT");
    const wrapped = wrapKey(newFileKey(), kek);
    expectStrataError(() => unwrapKey({ ...wrapped, iv: "0x00" }, kek), "INVALID_ARGUMENT");
  });
});
