/**
 * Custom errors out of failed calls: the market's, the registry's, the token's and the retrieval-challenge
 * contract's errors decoded by name from whatever ethers / the node put into the error object.
 */
import { Interface } from "ethers";
import {
  IComputeMarket__factory,
  IRetrievalChallenges__factory,
  ProviderRegistry__factory,
  StorageMarket__factory,
  TestStablecoin__factory,
} from "../../../typechain-types/index.js";
import { StrataError } from "../errors.js";

/** A decoded custom error (or Error(string) / Panic). */
export interface Revert {
  name: string;
  args: unknown[];
}

const ERRORS = (() => {
  const seen = new Set<string>();
  const fragments = [
    ...StorageMarket__factory.abi,
    ...ProviderRegistry__factory.abi,
    ...TestStablecoin__factory.abi,
    ...IRetrievalChallenges__factory.abi,
    ...IComputeMarket__factory.abi,
  ].filter((f) => {
    if (f.type !== "error") return false;
    const key = `${f.name}(${f.inputs.map((i) => i.type).join(",")})`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return new Interface(fragments);
})();

/** A CHAIN_REVERT StrataError carrying the decoded revert (if any) as `revert`. */
export class ChainRevertError extends StrataError {
  readonly revert: Revert | undefined;

  constructor(message: string, revert: Revert | undefined, cause: unknown) {
    super("CHAIN_REVERT", revert ? `${message}: ${revert.name}` : message, { cause });
    this.revert = revert;
  }
}

/** Wrap `error` (a failed simulation, send or receipt) as a ChainRevertError with its decoded revert. */
export function chainRevert(message: string, error: unknown): ChainRevertError {
  return new ChainRevertError(message, decodeRevert(error), error);
}

/** The custom error inside an ethers / Hardhat error, found by searching its `data` fields. */
export function decodeRevert(error: unknown): Revert | undefined {
  if (error instanceof ChainRevertError) return error.revert;
  for (const data of revertData(error, 0)) {
    try {
      const parsed = ERRORS.parseError(data);
      if (parsed) return { name: parsed.name, args: [...parsed.args] };
    } catch {
      // not one of ours
    }
    if (data.startsWith("0x08c379a0") || data.startsWith("0x4e487b71")) {
      const name = data.startsWith("0x08c379a0") ? "Error" : "Panic";
      try {
        const decoded = new Interface([
          `error ${name}(${name === "Error" ? "string" : "uint256"})`,
        ]).parseError(data);
        return { name, args: decoded ? [...decoded.args] : [] };
      } catch {
        return { name, args: [] };
      }
    }
  }
  return undefined;
}

function revertData(error: unknown, depth: number): string[] {
  if (depth > 5 || typeof error !== "object" || error === null) return [];
  const found: string[] = [];
  const record = error as Record<string, unknown>;
  for (const key of ["data", "error", "info", "cause", "revert", "receipt"]) {
    const value = record[key];
    if (typeof value === "string" && /^0x[0-9a-fA-F]{8}/.test(value)) found.push(value);
    else if (typeof value === "object" && value !== null) found.push(...revertData(value, depth + 1));
  }
  return found;
}

/** The revert's name, if `error` is a chain revert. */
export function revertName(error: unknown): string | undefined {
  return decodeRevert(error)?.name;
}
