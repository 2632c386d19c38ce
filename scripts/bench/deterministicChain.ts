/**
 * What makes the gas benchmark repeat to the unit. Gas depends on calldata bytes (zero bytes are cheaper), on
 * which deals a proof's challenges hit (a second hit on the same deal reads warm storage) and so on the seed,
 * which is a block hash. With random pieces and wall-clock block times all of these moved by a few to a few
 * thousand gas between runs. Here: piece bytes come from a fixed-key stream, the in-process network starts at
 * a fixed genesis time and every block is one second after the one before it unless a script moves time on
 * purpose (time.increase / increaseTo / setNextBlockTimestamp).
 */
import { createCipheriv, createHash } from "node:crypto";
import type { HookManager, NetworkHooks } from "hardhat/types/hooks";
import { StrataError } from "../../offchain/sdk/errors.js";

/** Genesis time of every benchmark network (any fixed date works; this one is far from period boundaries). */
export const BENCH_GENESIS = "2030-01-01T00:00:00.000Z";

/** `size` pseudo-random bytes, the same for the same `label` in every run (AES-256-CTR keystream, ~1 GB/s). */
export function seededBytes(size: number, label: string): Uint8Array {
  const key = createHash("sha256").update(`strata bench ${label}`).digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  const out = new Uint8Array(size);
  const chunk = 1 << 24;
  for (let at = 0; at < size; at += chunk) {
    const n = Math.min(chunk, size - at);
    out.set(cipher.update(Buffer.alloc(n)), at);
  }
  return out;
}

/** A 32-byte private key derived from `label` (for benchmark accounts that must be the same every run). */
export function seededKey(label: string): string {
  return "0x" + createHash("sha256").update(`strata bench key ${label}`).digest("hex");
}

/** JSON-RPC methods that mine a block (automine). */
const MINING = new Set(["eth_sendTransaction", "eth_sendRawTransaction", "evm_mine", "hardhat_mine"]);

/**
 * Make every block mined on any in-process network of this runtime one second after its parent, unless the
 * caller set the next block's time itself. Returns a function that removes the rule.
 */
export function fixBlockTimes(hooks: HookManager): () => void {
  // Connections whose next block time the caller has set (evm_setNextBlockTimestamp) and not yet used.
  const timeSet = new WeakSet<object>();
  const handlers: Partial<NetworkHooks> = {
    onRequest: async (context, connection, request, next) => {
      const { method } = request;
      if (method === "evm_setNextBlockTimestamp") {
        const response = await next(context, connection, request);
        timeSet.add(connection);
        return response;
      }
      if (method === "evm_revert") {
        timeSet.delete(connection);
        return next(context, connection, request);
      }
      const explicitTime =
        method === "evm_mine" && Array.isArray(request.params) && request.params.length > 0;
      if (MINING.has(method) && !explicitTime && !timeSet.has(connection)) {
        const latest: unknown = await connection.provider.request({
          method: "eth_getBlockByNumber",
          params: ["latest", false],
        });
        if (typeof latest !== "object" || latest === null || !("timestamp" in latest)) {
          throw new StrataError("BENCH_SETUP_FAILED", "the network returned no latest block");
        }
        await connection.provider.request({
          method: "evm_setNextBlockTimestamp",
          params: ["0x" + (BigInt(String(latest.timestamp)) + 1n).toString(16)],
        });
      }
      if (MINING.has(method)) timeSet.delete(connection);
      return next(context, connection, request);
    },
  };
  hooks.registerHandlers("network", handlers);
  return () => {
    hooks.unregisterHandlers("network", handlers);
  };
}
