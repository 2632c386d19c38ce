import { hkdfSync, randomBytes } from "node:crypto";
import { getBytes, hexlify, Signature, type Signer } from "ethers";
import { StrataError } from "../errors.js";
import { decrypt, encrypt, IV_BYTES, KEY_BYTES, TAG_BYTES } from "./encryption.js";

/**
 * File keys and their wrapping (docs/SPEC-DATA.md §4). A file key is 32 random bytes; the manifest stores it only
 * wrapped: AES-256-GCM under a key-encryption key (KEK) that the client's wallet re-derives at will:
 *
 *   signature = personal_sign("Strata file key v1\n" + fileId)   (EIP-191, normalised to r || s || v, v in {27, 28})
 *   KEK       = HKDF-SHA256(ikm = signature bytes, salt = fileId bytes, info = "strata-kek", length = 32)
 *
 * This relies on the wallet signing deterministically (RFC 6979, as ethers and hardware wallets do). A wallet
 * other than the one that stored the file derives another KEK, and unwrapping fails with WRONG_KEY.
 */

/** Identifier of this derivation in the manifest (`encryption.kdf`). */
export const KDF_ID = "HKDF-SHA256/personal_sign-v1";
/** Text the wallet signs, followed by the file id. */
export const KEY_MESSAGE_PREFIX = "Strata file key v1\n";
/** HKDF `info` of the KEK. */
export const KEK_INFO = "strata-kek";
/** A file id is 16 random bytes, written as 0x + 32 lowercase hex digits. */
export const FILE_ID_BYTES = 16;

/** The wrapped file key as stored in the manifest (0x-hex fields). */
export interface WrappedKey {
  iv: string;
  tag: string;
  ciphertext: string;
}

/** A fresh random 32-byte file key. */
export function newFileKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_BYTES));
}

/** A fresh random file id (0x + 32 lowercase hex digits). */
export function newFileId(): string {
  return hexlify(randomBytes(FILE_ID_BYTES));
}

/** The exact text the wallet signs for `fileId`. */
export function keyMessage(fileId: string): string {
  return KEY_MESSAGE_PREFIX + fileId;
}

/** Derive the KEK of `fileId` with `signer` (one personal_sign request). */
export async function deriveKek(signer: Signer, fileId: string): Promise<Uint8Array> {
  const salt = fileIdBytes(fileId);
  const signature = await signer.signMessage(keyMessage(fileId));
  // Normalise (v = 27/28, canonical s) so that wallets that differ only in encoding derive the same KEK.
  const ikm = getBytes(Signature.from(signature).serialized);
  return new Uint8Array(hkdfSync("sha256", ikm, salt, KEK_INFO, KEY_BYTES));
}

/** Wrap `fileKey` under `kek` (AES-256-GCM, fresh IV). */
export function wrapKey(fileKey: Uint8Array, kek: Uint8Array): WrappedKey {
  if (fileKey.length !== KEY_BYTES) {
    throw new StrataError("INVALID_ARGUMENT", `a file key is ${KEY_BYTES} bytes, got ${fileKey.length}`);
  }
  const sealed = encrypt(fileKey, kek);
  return { iv: hexlify(sealed.iv), tag: hexlify(sealed.tag), ciphertext: hexlify(sealed.ciphertext) };
}

/** Unwrap a file key; a KEK other than the wrapping one throws WRONG_KEY. */
export function unwrapKey(wrapped: WrappedKey, kek: Uint8Array): Uint8Array {
  const iv = hexField(wrapped.iv, IV_BYTES, "wrappedKey.iv");
  const tag = hexField(wrapped.tag, TAG_BYTES, "wrappedKey.tag");
  const ciphertext = hexField(wrapped.ciphertext, KEY_BYTES, "wrappedKey.ciphertext");
  try {
    return new Uint8Array(decrypt(ciphertext, kek, iv, tag));
  } catch (cause) {
    throw new StrataError(
      "WRONG_KEY",
      "cannot unwrap the file key: use the wallet that stored this file (or the manifest's key was altered)",
      { cause },
    );
  }
}

/** Wrap `fileKey` for `fileId` with the KEK of `signer`. */
export async function wrapFileKey(signer: Signer, fileId: string, fileKey: Uint8Array): Promise<WrappedKey> {
  return wrapKey(fileKey, await deriveKek(signer, fileId));
}

/** Recover the file key of `fileId` with `signer`; WRONG_KEY if it is not the storing wallet. */
export async function unwrapFileKey(
  signer: Signer,
  fileId: string,
  wrapped: WrappedKey,
): Promise<Uint8Array> {
  return unwrapKey(wrapped, await deriveKek(signer, fileId));
}

function fileIdBytes(fileId: string): Uint8Array {
  if (!/^0x[0-9a-f]{32}$/.test(fileId)) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `a file id is 0x + 32 lowercase hex digits, got ${fileId.slice(0, 40)}`,
    );
  }
  return getBytes(fileId);
}

function hexField(hex: string, bytes: number, name: string): Uint8Array {
  if (!new RegExp(`^0x[0-9a-f]{${bytes * 2}}$`).test(hex)) {
    throw new StrataError("INVALID_ARGUMENT", `${name} must be 0x + ${bytes * 2} lowercase hex digits`);
  }
  return getBytes(hex);
}
