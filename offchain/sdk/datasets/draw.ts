// The challenge draw of one provider's period (docs/SPEC.md, "Proofs"; design §4), mirrored bit for bit from the
// market so that the provider agent builds proofs and the proof-verifier worker re-derives them.
//
// EXACT ENCODING (the market must match it; also in the lead's notes):
//   w_j = uint256(keccak256(abi.encode(bytes32 seed, address provider, uint256 period, uint256 j)))
//   i.e. four 32-byte words: seed, the provider left-padded with zeros, period and j as uint256 (big-endian).
//   r = w_j mod W, W = Σ_c frozenCount_c × 2^c (classes ascending, c in 0..47);
//   c = the class with cum_{c-1} <= r < cum_c; r' = r − cum_{c-1}; slot = r' >> c; leaf = r' & (2^c − 1);
//   accept (frozenSlot[c][slot], leaf) when leaf < frozenSpan(that data set), else reject; j = 0, 1, ... while
//   accepted < challengeCount and j < 8 × challengeCount. Fewer than challengeCount may be accepted (never more).
import { AbiCoder, keccak256 } from "ethers";
import { StrataError } from "../errors.js";

const coder = AbiCoder.defaultAbiCoder();

/** Largest size class (c in 0..47). */
export const DRAW_MAX_CLASS = 47;
/** Draw attempts per challenge: the draw stops after 8 × challengeCount words. */
export const DRAWS_PER_CHALLENGE = 8;

/** A data set as frozen for the period: the span and root the proof must answer against. */
export interface FrozenDataSet {
  readonly span: bigint;
  readonly root: string;
}

/** What a provider must prove in one period, frozen when its seed was scheduled (design §3). */
export interface FrozenProviderState {
  /** Per size class c, the dense slot array of data-set ids (its length is the frozen count of the class). */
  readonly classes: ReadonlyMap<number, readonly bigint[]>;
  /** Frozen span and root of every data set named in a slot. */
  readonly dataSets: ReadonlyMap<bigint, FrozenDataSet>;
}

/** One accepted challenge, in draw order. */
export interface DrawnChallenge {
  readonly dataSetId: bigint;
  /** Leaf in the data set (< its frozen span); the answer opens it with exactly `sizeClass` siblings. */
  readonly leaf: bigint;
  /** Class of the data set (= the depth of its frozen tree). */
  readonly sizeClass: number;
  /** Slot of the data set in its class. */
  readonly slot: bigint;
  /** The draw index j that produced this challenge. */
  readonly drawIndex: bigint;
}

/** The draw's inputs besides the frozen state. */
export interface DrawParameters {
  /** The period's seed (bytes32, 0x-hex). */
  readonly seed: string;
  readonly provider: string;
  readonly period: bigint;
  readonly challengeCount: number;
}

/** w_j = uint256(keccak256(abi.encode(bytes32 seed, address provider, uint256 period, uint256 j))). */
export function drawWord(seed: string, provider: string, period: bigint, j: bigint): bigint {
  return BigInt(
    keccak256(coder.encode(["bytes32", "address", "uint256", "uint256"], [seed, provider, period, j])),
  );
}

/** Total frozen weight W = Σ count_c × 2^c leaves. */
export function frozenWeight(state: FrozenProviderState): bigint {
  let total = 0n;
  for (const [c, slots] of state.classes) total += BigInt(slots.length) << BigInt(checkClass(c));
  return total;
}

/**
 * The accepted challenges of `provider` for `period`, in draw order (what `submitProof` must answer, and what the
 * market's `challengesFor(provider)` returns). Empty when nothing is challengeable (W = 0).
 */
export function drawChallenges(parameters: DrawParameters, state: FrozenProviderState): DrawnChallenge[] {
  const { seed, provider, period, challengeCount } = parameters;
  if (!Number.isSafeInteger(challengeCount) || challengeCount < 0) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `challengeCount must be a non-negative integer, got ${challengeCount}`,
    );
  }
  const ascending = [...state.classes.entries()]
    .map(([c, slots]) => ({ c: checkClass(c), slots }))
    .filter((entry) => entry.slots.length > 0)
    .sort((a, b) => a.c - b.c);
  const weight = frozenWeight(state);
  const accepted: DrawnChallenge[] = [];
  if (weight === 0n) return accepted;
  const maxDraws = BigInt(DRAWS_PER_CHALLENGE * challengeCount);
  for (let j = 0n; accepted.length < challengeCount && j < maxDraws; j++) {
    let r = drawWord(seed, provider, period, j) % weight;
    for (const { c, slots } of ascending) {
      const classWeight = BigInt(slots.length) << BigInt(c);
      if (r >= classWeight) {
        r -= classWeight;
        continue;
      }
      const slot = r >> BigInt(c);
      const leaf = r & ((1n << BigInt(c)) - 1n);
      const dataSetId = slots[Number(slot)];
      if (dataSetId === undefined)
        throw new StrataError("INVALID_ARGUMENT", `class ${c} has no slot ${slot}`);
      const frozen = state.dataSets.get(dataSetId);
      if (frozen === undefined) {
        throw new StrataError("INVALID_ARGUMENT", `data set ${dataSetId} in class ${c} has no frozen span`);
      }
      if (leaf < frozen.span) accepted.push({ dataSetId, leaf, sizeClass: c, slot, drawIndex: j });
      break;
    }
  }
  return accepted;
}

function checkClass(c: number): number {
  if (!Number.isInteger(c) || c < 0 || c > DRAW_MAX_CLASS) {
    throw new StrataError("INVALID_ARGUMENT", `size class must be in 0..${DRAW_MAX_CLASS}, got ${c}`);
  }
  return c;
}
