import { expect } from "chai";
import { createCipheriv, createHash } from "node:crypto";
import { StrataError, type StrataErrorCode } from "../../../offchain/sdk/errors.js";

/** Assert that `action` throws a StrataError of `code` and return it (tests assert codes, never message text). */
export function expectStrataError(action: () => unknown, code: StrataErrorCode): StrataError {
  try {
    action();
  } catch (error) {
    return checkCode(error, code);
  }
  return expect.fail(`expected a StrataError ${code}, but nothing was thrown`);
}

/** Assert that `action` rejects with a StrataError of `code` and return it. */
export async function expectRejection(
  action: () => Promise<unknown>,
  code: StrataErrorCode,
): Promise<StrataError> {
  try {
    await action();
  } catch (error) {
    return checkCode(error, code);
  }
  return expect.fail(`expected a StrataError ${code}, but the promise resolved`);
}

function checkCode(error: unknown, code: StrataErrorCode): StrataError {
  if (!(error instanceof StrataError)) throw new Error(`expected StrataError ${code}`, { cause: error });
  expect(error.code).to.equal(code);
  return error;
}

/** Deterministic pseudo-random bytes: the AES-256-CTR keystream under key sha256(label), zero IV. */
export function deterministicBytes(label: string, size: number): Uint8Array {
  const key = createHash("sha256").update(label).digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  return new Uint8Array(Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]));
}
