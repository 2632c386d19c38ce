import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { StrataError } from "../errors.js";

/** AES-256-GCM parameters of the Strata data format (docs/SPEC-DATA.md §3). */
export const KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

/**
 * Data is fed to the cipher this many bytes at a time. node:crypto returns a new Buffer per update; 256 KiB
 * outputs are recycled by the allocator and still in cache when copied, which measured ~2 GB/s against
 * ~0.7 GB/s for one update over the whole payload (page faults on a fresh output buffer) and ~1.2 GB/s at 4 MiB.
 */
const CHUNK_BYTES = 256 << 10;

export interface Sealed {
  iv: Uint8Array;
  ciphertext: Buffer;
  tag: Uint8Array;
}

/** Encrypt a whole payload with AES-256-GCM under `key` and a fresh random 12-byte IV. */
export function encrypt(
  plaintext: Uint8Array,
  key: Uint8Array,
  iv: Uint8Array = randomBytes(IV_BYTES),
): Sealed {
  const ciphertext = Buffer.allocUnsafe(plaintext.length);
  const tag = encryptInto(plaintext, key, iv, ciphertext);
  return { iv, ciphertext, tag };
}

/**
 * Encrypt `plaintext` into `out` (at least plaintext.length bytes; a SharedArrayBuffer view is fine) and return the
 * 16-byte tag. Lets prepareFile write the ciphertext straight into the shard buffer.
 */
export function encryptInto(
  plaintext: Uint8Array,
  key: Uint8Array,
  iv: Uint8Array,
  out: Uint8Array,
): Uint8Array {
  checkKey(key, iv);
  if (out.length < plaintext.length) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `output of ${out.length} bytes cannot hold ${plaintext.length}`,
    );
  }
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  let written = 0;
  for (let offset = 0; offset < plaintext.length; offset += CHUNK_BYTES) {
    const part = cipher.update(plaintext.subarray(offset, Math.min(plaintext.length, offset + CHUNK_BYTES)));
    out.set(part, written);
    written += part.length;
  }
  const rest = cipher.final();
  out.set(rest, written);
  return new Uint8Array(cipher.getAuthTag());
}

/**
 * Decrypt and authenticate. Any failure of the GCM check (wrong key, wrong IV, altered ciphertext or tag) throws
 * DECRYPT_FAILED; no plaintext is returned unless the tag verifies.
 */
export function decrypt(ciphertext: Uint8Array, key: Uint8Array, iv: Uint8Array, tag: Uint8Array): Buffer {
  return decryptParts([ciphertext], key, iv, tag);
}

/** decrypt() of the concatenation of `parts`, without joining them (restore decrypts straight from the shards). */
export function decryptParts(
  parts: readonly Uint8Array[],
  key: Uint8Array,
  iv: Uint8Array,
  tag: Uint8Array,
): Buffer {
  checkKey(key, iv);
  if (tag.length !== TAG_BYTES) {
    throw new StrataError("DECRYPT_FAILED", `the GCM tag must be ${TAG_BYTES} bytes, got ${tag.length}`);
  }
  const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  const plaintext = Buffer.allocUnsafe(parts.reduce((sum, part) => sum + part.length, 0));
  let written = 0;
  try {
    for (const part of parts) {
      for (let offset = 0; offset < part.length; offset += CHUNK_BYTES) {
        const chunk = decipher.update(part.subarray(offset, Math.min(part.length, offset + CHUNK_BYTES)));
        written += chunk.copy(plaintext, written);
      }
    }
    decipher.final().copy(plaintext, written);
  } catch (cause) {
    // Never leak unauthenticated plaintext.
    plaintext.fill(0);
    throw new StrataError("DECRYPT_FAILED", "AES-256-GCM authentication failed: wrong key or altered data", {
      cause,
    });
  }
  return plaintext;
}

function checkKey(key: Uint8Array, iv: Uint8Array): void {
  if (key.length !== KEY_BYTES) {
    throw new StrataError("INVALID_ARGUMENT", `an AES-256 key is ${KEY_BYTES} bytes, got ${key.length}`);
  }
  if (iv.length !== IV_BYTES) {
    throw new StrataError("INVALID_ARGUMENT", `a GCM IV here is ${IV_BYTES} bytes, got ${iv.length}`);
  }
}
