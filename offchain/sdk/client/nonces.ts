import { randomBytes } from "node:crypto";
import { StrataError } from "../errors.js";

/**
 * Proposal nonces. The market spends a client's nonces in a bitmap of 256-bit words, so a file's proposals
 * (first attempts and retries alike) take consecutive nonces from one random base aligned to 256: they share
 * one bitmap word (cheaper publishing), and two runs of the client, on any machine, collide with probability
 * 2^-56 without any local nonce file to keep or lose. Extensions use the same scheme with one nonce.
 */
export const NONCES_PER_BASE = 256;

/** A random nonce base: 56 random bits shifted left by 8, so base + i (i < 256) is a uint64 in one word. */
export function randomNonceBase(): bigint {
  return BigInt("0x" + randomBytes(7).toString("hex")) << 8n;
}

/** Hands out base, base + 1, ... up to 256 nonces. */
export class NonceSequence {
  private used = 0;

  constructor(readonly base: bigint = randomNonceBase()) {}

  next(): bigint {
    if (this.used >= NONCES_PER_BASE)
      throw new StrataError(
        "NONCES_EXHAUSTED",
        `all ${NONCES_PER_BASE} nonces of base ${this.base} are used`,
        {
          details: "take a new NonceSequence (a new random base) for more proposals",
        },
      );
    return this.base + BigInt(this.used++);
  }

  /** Nonces handed out so far. */
  get count(): number {
    return this.used;
  }
}
