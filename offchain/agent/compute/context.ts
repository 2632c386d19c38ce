import { IComputeMarket__factory, type IComputeMarket } from "../../../typechain-types/index.js";
import { decodeRevert } from "../chain.js";
import type { ComputeConfig } from "../config.js";
import type { AgentContext } from "../context.js";
import type { WorkloadSupervisor } from "./workloads.js";

/** What the compute duties and routes need: the agent's context plus the compute market and the workloads. */
export interface ComputeContext extends AgentContext {
  /** The compute market, bound to the provider's signer (send through `chain.execute`). */
  market: IComputeMarket;
  supervisor: WorkloadSupervisor;
  compute: ComputeConfig;
}

/** Database keys of the event scan cursors (last block scanned). */
export const ORDERS_CURSOR_KEY = "compute.orders.scannedBlock";
export const LEASES_CURSOR_KEY = "compute.leases.scannedBlock";

/** Blocks re-read on every scan, so an event in a block replaced by a short reorg is still seen. */
export const REORG_MARGIN = 12;
/** Blocks per log query (public RPCs cap the range of eth_getLogs). */
export const SCAN_STEP = 5_000;
/** Log queries per tick at most: a far-behind cursor catches up over a few ticks. */
export const SCAN_QUERIES_PER_TICK = 20;
/** A fresh agent looks this many blocks back for orders still open. */
export const ORDER_LOOKBACK_BLOCKS = 10_000;

/**
 * Scan `[cursor + 1 - REORG_MARGIN, latest]` in steps with `query`, moving the cursor under `key` as each
 * step completes. `start` is where a fresh cursor begins.
 */
export async function scanBlocks(
  ctx: Pick<AgentContext, "db" | "chain">,
  key: string,
  start: number,
  query: (from: number, to: number) => Promise<void>,
): Promise<void> {
  const latest = await ctx.chain.blockNumber();
  const stored = ctx.db.getKv(key);
  const scanned = stored === undefined ? Math.min(start, latest + 1) - 1 : Number(stored);
  let from = Math.max(0, scanned + 1 - REORG_MARGIN);
  for (let i = 0; i < SCAN_QUERIES_PER_TICK && from <= latest; i++) {
    const to = Math.min(latest, from + SCAN_STEP - 1);
    await query(from, to);
    ctx.db.setKv(key, String(to));
    from = to + 1;
  }
}

const COMPUTE_ERRORS = IComputeMarket__factory.createInterface();

/**
 * The custom error's name in a failed compute-market call: the storage suite's decoder first, then the compute
 * market's own errors (from ethers' decoded `revert` or the raw revert data anywhere in the cause chain).
 */
export function computeRevertName(error: unknown): string | undefined {
  const known = decodeRevert(error)?.name;
  if (known !== undefined) return known;
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): string | undefined => {
    if (depth > 6 || typeof value !== "object" || value === null || seen.has(value)) return undefined;
    seen.add(value);
    const record = value as Record<string, unknown>;
    const revert = record.revert;
    if (
      typeof revert === "object" &&
      revert !== null &&
      typeof (revert as { name?: unknown }).name === "string"
    ) {
      return (revert as { name: string }).name;
    }
    if (typeof record.data === "string" && /^0x[0-9a-fA-F]{8}/.test(record.data)) {
      try {
        const parsed = COMPUTE_ERRORS.parseError(record.data);
        if (parsed) return parsed.name;
      } catch {
        // not a compute-market error
      }
    }
    for (const key of ["error", "info", "cause"]) {
      const found = visit(record[key], depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return visit(error, 0);
}
