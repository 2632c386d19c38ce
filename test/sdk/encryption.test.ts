import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { decrypt, decryptParts, encrypt, encryptInto } from "../../offchain/sdk/data/encryption.js";
import { deterministicBytes, expectStrataError } from "./helpers/assertions.js";

describe("payload encryption (AES-256-GCM)", function () {
  const key = new Uint8Array(randomBytes(32));

  for (const size of [0, 1, 16, 1000, (4 << 20) + 3]) {
    it(`round-trips ${size} bytes`, function () {
      const plaintext = deterministicBytes(`plain-${size}`, size);
      const sealed = encrypt(plaintext, key);
      expect(sealed.iv).to.have.length(12);
      expect(sealed.tag).to.have.length(16);
      expect(sealed.ciphertext).to.have.length(size);
      expect(decrypt(sealed.ciphertext, key, sealed.iv, sealed.tag).equals(Buffer.from(plaintext))).to.be
        .true;
    });
  }

  it("uses a fresh IV each time", function () {
    const plaintext = deterministicBytes("fresh iv", 64);
    const a = encrypt(plaintext, key);
    const b = encrypt(plaintext, key);
    expect(Buffer.from(a.iv).equals(Buffer.from(b.iv))).to.be.false;
    expect(a.ciphertext.equals(b.ciphertext)).to.be.false;
  });

  it("encrypts into a caller's (shared) buffer, and decrypts split parts as one", function () {
    const plaintext = deterministicBytes("into", 10_000);
    const out = new Uint8Array(new SharedArrayBuffer(10_064));
    const iv = new Uint8Array(randomBytes(12));
    const tag = encryptInto(plaintext, key, iv, out);
    const ciphertext = out.subarray(0, 10_000);
    expect(decrypt(ciphertext, key, iv, tag).equals(Buffer.from(plaintext))).to.be.true;
    const parts = [ciphertext.subarray(0, 3), ciphertext.subarray(3, 7000), ciphertext.subarray(7000)];
    expect(decryptParts(parts, key, iv, tag).equals(Buffer.from(plaintext))).to.be.true;
  });

  it("fails with DECRYPT_FAILED under a wrong key", function () {
    const sealed = encrypt(deterministicBytes("wrong key", 100), key);
    expectStrataError(
      () => decrypt(sealed.ciphertext, new Uint8Array(32), sealed.iv, sealed.tag),
      "DECRYPT_FAILED",
    );
  });

  it("fails with DECRYPT_FAILED when ciphertext, tag or IV is altered", function () {
    const sealed = encrypt(deterministicBytes("tamper", 100), key);
    const ciphertext = Buffer.from(sealed.ciphertext);
    ciphertext[50] = (ciphertext[50] ?? 0) ^ 1;
    expectStrataError(() => decrypt(ciphertext, key, sealed.iv, sealed.tag), "DECRYPT_FAILED");
    const tag = Uint8Array.from(sealed.tag);
    tag[0] = (tag[0] ?? 0) ^ 0x80;
    expectStrataError(() => decrypt(sealed.ciphertext, key, sealed.iv, tag), "DECRYPT_FAILED");
    const iv = Uint8Array.from(sealed.iv);
    iv[11] = (iv[11] ?? 0) ^ 1;
    expectStrataError(() => decrypt(sealed.ciphertext, key, iv, sealed.tag), "DECRYPT_FAILED");
    expectStrataError(
      () => decrypt(sealed.ciphertext, key, sealed.iv, sealed.tag.subarray(0, 12)),
      "DECRYPT_FAILED",
    );
    expectStrataError(
      () => decrypt(sealed.ciphertext.subarray(0, 99), key, sealed.iv, sealed.tag),
      "DECRYPT_FAILED",
    );
  });

  it("rejects a key that is not 32 bytes or an IV that is not 12 bytes with INVALID_ARGUMENT", function () {
    expectStrataError(() => encrypt(new Uint8Array(1), new Uint8Array(16)), "INVALID_ARGUMENT");
    expectStrataError(() => encrypt(new Uint8Array(1), key, new Uint8Array(16)), "INVALID_ARGUMENT");
    expectStrataError(
      () => encryptInto(new Uint8Array(10), key, new Uint8Array(12), new Uint8Array(9)),
      "INVALID_ARGUMENT",
    );
  });
});
