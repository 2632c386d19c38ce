// The challenge draw of one provider's period (docs/SPEC.md §4.3 and §7.4), mirrored bit for bit from the market
// (`DataSetProving.draw`, `DrawClasses`) so that the provider agent builds proofs and the proof-verifier worker
// re-derives them.
//
// EXACT ENCODING (the market must match it):
//   w_j = uint256(keccak256(abi.encode(bytes32 seed, address provider, uint256 period, uint256 j)))
//   i.e. four 32-byte words: seed, the provider left-padded with zeros, period and j as uint256 (big-endian).
//   Draw classes k = c << 3 | m (c = ceil(log2 span), m its eighth; `drawClassOf`), capacity_k = `drawCapacity(k)`.
//   r = w_j mod W, W = Σ_k frozenCount_k × capacity_k (draw classes ascending);
//   k = the draw class with cum_{k-1} <= r < cum_k; r' = r − cum_{k-1}; slot = r' / capacity_k; leaf = r' mod
//   capacity_k; accept (frozenSlot[k][slot], leaf) when leaf < frozenSpan(that data set), else reject; j = 0, 1, ...
//   while accepted < challengeCount and j < maxDraws(challengeCount). Fewer than challengeCount may be
//   accepted (never more).
import { AbiCoder, keccak256 } from "ethers";
import { StrataError } from "../errors.js";

const coder = AbiCoder.defaultAbiCoder();

/** Largest size class (c in 0..47). */
export const MAX_SIZE_CLASS = 47;
/** Largest draw class (47 << 3 | 7). */
export const DRAW_MAX_CLASS = (MAX_SIZE_CLASS << 3) | 7;
/** Fewest rejected draws a period may take: the draw stops after challengeCount + max(challengeCount, 4) words. */
export const DRAW_MIN_REJECTED = 4;

/** Most words a period's draw reads: challengeCount + max(challengeCount, DRAW_MIN_REJECTED). */
export function maxDraws(challengeCount: number): number {
  return challengeCount + Math.max(challengeCount, DRAW_MIN_REJECTED);
}

/**
 * Draw class of a data set of `span` leaves (> 0): `c << 3 | m` with c = ceil(log2 span) and m the eighth of
 * (2^(c-1), 2^c] that holds it (spans 2^(c-1) + m·2^(c-4) + 1 .. 2^(c-1) + (m+1)·2^(c-4); single spans below class 4).
 * Undefined for an empty data set.
 */
export function drawClassOf(span: bigint): number | undefined {
  if (span < 0n) throw new StrataError("INVALID_ARGUMENT", `span must be >= 0, got ${span}`);
  if (span === 0n) return undefined;
  let c = 0;
  while (1n << BigInt(c) < span) c++;
  if (c > MAX_SIZE_CLASS)
    throw new StrataError("INVALID_ARGUMENT", `span ${span} exceeds 2^${MAX_SIZE_CLASS} leaves`);
  const half = (1n << BigInt(c)) >> 1n;
  const m = Number((span - half - 1n) >> BigInt(c > 4 ? c - 4 : 0));
  return (c << 3) | m;
}

/** Capacity (leaves) of draw class k: the largest span in it, 2^(c-1) + (m+1)·2^(c-4) (2^(c-1) + m + 1 below 4). */
export function drawCapacity(k: number): bigint {
  const c = checkClass(k) >> 3;
  return ((1n << BigInt(c)) >> 1n) + (BigInt((k & 7) + 1) << BigInt(c > 4 ? c - 4 : 0));
}

/** A data set as frozen for the period: the span and root the proof must answer against. */
export interface FrozenDataSet {
  readonly span: bigint;
  readonly root: string;
}

/** What a provider must prove in one period, frozen when its seed was scheduled (design §3). */
export interface FrozenProviderState {
  /** Per draw class k, the dense slot array of data-set ids (its length is the frozen count of the class). */
  readonly classes: ReadonlyMap<number, readonly bigint[]>;
  /** Frozen span and root of every data set named in a slot. */
  readonly dataSets: ReadonlyMap<bigint, FrozenDataSet>;
}

/**
 * The frozen state of data sets with the given spans, in slot order (ids 1, 2, ...; span 0 holds no slot), each in
 * its draw class as the market places it; `rootOf(id)` gives each data set's root. For benchmarks and tests that
 * draw over a layout.
 */
export function frozenStateOf(spans: readonly bigint[], rootOf: (id: bigint) => string): FrozenProviderState {
  const classes = new Map<number, bigint[]>();
  const dataSets = new Map<bigint, FrozenDataSet>();
  spans.forEach((span, index) => {
    const id = BigInt(index + 1);
    const k = drawClassOf(span);
    if (k === undefined) return;
    classes.set(k, [...(classes.get(k) ?? []), id]);
    dataSets.set(id, { span, root: rootOf(id) });
  });
  return { classes, dataSets };
}

/** One accepted challenge, in draw order. */
export interface DrawnChallenge {
  readonly dataSetId: bigint;
  /** Leaf in the data set (< its frozen span); the answer opens it with exactly `sizeClass` siblings. */
  readonly leaf: bigint;
  /** Size class of the data set (= the depth of its frozen tree). */
  readonly sizeClass: number;
  /** Draw class of the data set (`sizeClass << 3 | eighth`). */
  readonly drawClass: number;
  /** Slot of the data set in its draw class. */
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

/** Total frozen weight W = Σ count_k × capacity_k leaves. */
export function frozenWeight(state: FrozenProviderState): bigint {
  let total = 0n;
  for (const [k, slots] of state.classes) total += BigInt(slots.length) * drawCapacity(k);
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
    .map(([k, slots]) => ({ k: checkClass(k), capacity: drawCapacity(k), slots }))
    .filter((entry) => entry.slots.length > 0)
    .sort((a, b) => a.k - b.k);
  const weight = frozenWeight(state);
  const accepted: DrawnChallenge[] = [];
  if (weight === 0n) return accepted;
  const draws = BigInt(maxDraws(challengeCount));
  for (let j = 0n; accepted.length < challengeCount && j < draws; j++) {
    let r = drawWord(seed, provider, period, j) % weight;
    for (const { k, capacity, slots } of ascending) {
      const classWeight = BigInt(slots.length) * capacity;
      if (r >= classWeight) {
        r -= classWeight;
        continue;
      }
      const slot = r / capacity;
      const leaf = r % capacity;
      const dataSetId = slots[Number(slot)];
      if (dataSetId === undefined)
        throw new StrataError("INVALID_ARGUMENT", `draw class ${k} has no slot ${slot}`);
      const frozen = state.dataSets.get(dataSetId);
      if (frozen === undefined) {
        throw new StrataError(
          "INVALID_ARGUMENT",
          `data set ${dataSetId} in draw class ${k} has no frozen span`,
        );
      }
      if (leaf < frozen.span)
        accepted.push({ dataSetId, leaf, sizeClass: k >> 3, drawClass: k, slot, drawIndex: j });
      break;
    }
  }
  return accepted;
}

function checkClass(c: number): number {
  if (!Number.isInteger(c) || c < 0 || c > DRAW_MAX_CLASS) {
    throw new StrataError("INVALID_ARGUMENT", `draw class must be in 0..${DRAW_MAX_CLASS}, got ${c}`);
  }
  return c;
}
