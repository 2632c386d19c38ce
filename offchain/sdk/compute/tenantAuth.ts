/**
 * What a tenant signs to act on its lease at the provider's agent (EIP-191 personal messages, so any wallet
 * can sign them), and how the agent checks them. Every message names the chain, the compute market and the
 * lease, so a signature cannot be replayed on another chain, market or lease:
 * - a manifest update names the new version and the manifest's hash; the agent accepts only a version above
 *   the current one, so an old update cannot be replayed;
 * - an access grant (logs, events, volume backups) names its scope and an expiry; the agent refuses expired
 *   grants and grants expiring too far ahead (MAX_ACCESS_SECONDS), so a leaked grant is short-lived.
 */
import { verifyMessage, type Signer } from "ethers";
import { StrataError } from "../errors.js";

/** Longest lifetime of an access grant the agent accepts, in seconds. */
export const MAX_ACCESS_SECONDS = 3600;
/** Header carrying an access grant: `<expiresAt>.<signature>`. */
export const ACCESS_HEADER = "x-strata-tenant-auth";

export type AccessScope = "logs" | "events" | "backup";

export interface LeaseTarget {
  chainId: bigint;
  market: string;
  leaseId: bigint;
}

export function leaseUpdateMessage(target: LeaseTarget, version: number, manifestHash: string): string {
  return [
    "Strata lease manifest update",
    `chain: ${target.chainId}`,
    `market: ${target.market.toLowerCase()}`,
    `lease: ${target.leaseId}`,
    `version: ${version}`,
    `manifest: ${manifestHash.toLowerCase()}`,
  ].join("\n");
}

export function leaseAccessMessage(target: LeaseTarget, scope: AccessScope, expiresAt: number): string {
  return [
    "Strata lease access",
    `chain: ${target.chainId}`,
    `market: ${target.market.toLowerCase()}`,
    `lease: ${target.leaseId}`,
    `scope: ${scope}`,
    `expires: ${expiresAt}`,
  ].join("\n");
}

/** Sign an access grant valid for `seconds` (at most MAX_ACCESS_SECONDS); the header value to send. */
export async function signLeaseAccess(
  signer: Signer,
  target: LeaseTarget,
  scope: AccessScope,
  nowSeconds: number,
  seconds = 300,
): Promise<string> {
  const expiresAt = nowSeconds + Math.min(seconds, MAX_ACCESS_SECONDS);
  const signature = await signer.signMessage(leaseAccessMessage(target, scope, expiresAt));
  return `${expiresAt}.${signature}`;
}

export type AccessCheck =
  { ok: true } | { ok: false; code: "AUTH_REQUIRED" | "AUTH_EXPIRED" | "AUTH_INVALID"; message: string };

/** Check an access grant header against the lease's tenant. */
export function checkLeaseAccess(
  header: string | undefined,
  target: LeaseTarget,
  scope: AccessScope,
  tenant: string,
  nowSeconds: number,
): AccessCheck {
  if (header === undefined || header === "") {
    return {
      ok: false,
      code: "AUTH_REQUIRED",
      message: `send ${ACCESS_HEADER}: <expiresAt>.<signature> signed by the tenant`,
    };
  }
  const match = /^([0-9]{1,12})\.(0x[0-9a-fA-F]{130})$/.exec(header);
  if (!match)
    return {
      ok: false,
      code: "AUTH_INVALID",
      message: `${ACCESS_HEADER} must be <expiresAt>.<65-byte signature>`,
    };
  const expiresAt = Number(match[1]);
  if (expiresAt < nowSeconds)
    return { ok: false, code: "AUTH_EXPIRED", message: `the grant expired at ${expiresAt}` };
  if (expiresAt > nowSeconds + MAX_ACCESS_SECONDS + 60) {
    return { ok: false, code: "AUTH_INVALID", message: `a grant may last at most ${MAX_ACCESS_SECONDS} s` };
  }
  if (!signedBy(leaseAccessMessage(target, scope, expiresAt), match[2] ?? "", tenant)) {
    return { ok: false, code: "AUTH_INVALID", message: "the grant is not signed by the lease's tenant" };
  }
  return { ok: true };
}

/** True when `signature` over `message` recovers to `address`. */
export function signedBy(message: string, signature: string, address: string): boolean {
  try {
    return verifyMessage(message, signature).toLowerCase() === address.toLowerCase();
  } catch {
    return false;
  }
}

/** TENANT_AUTH_FAILED for a refused grant (the CLI's view of the agent's 401/403). */
export function tenantAuthError(message: string): StrataError {
  return new StrataError("TENANT_AUTH_FAILED", message);
}
