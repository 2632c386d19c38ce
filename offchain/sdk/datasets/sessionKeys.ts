// Whether a session key may sign a data-set state (docs/SPEC.md, "Data sets"; design §2): pure, so the provider
// agent can refuse an out-of-scope state before it folds it into an update the market would reject.
import { ZeroAddress } from "ethers";
import type { SessionKeyScope } from "./eip712.js";

/** Why a session key may not sign a state; stable codes (tests and callers compare these, not messages). */
export type SessionKeyRefusal = "REVOKED" | "EXPIRED" | "WRONG_CLIENT" | "WRONG_PROVIDER" | "SPAN_OVER_CAP";

/** The data set and state a session key wants to sign, and the time to judge it at. */
export interface SessionKeyUse {
  /** The data set's client and provider. */
  readonly client: string;
  readonly provider: string;
  /** The span the signed state sets. */
  readonly span: bigint;
  /** Unix time (seconds) of the check (the market uses block.timestamp). */
  readonly now: bigint;
  /** True when the client revoked the key (revocation is immediate). */
  readonly revoked?: boolean;
}

/** The outcome of a scope check. */
export type SessionKeyCheck =
  { readonly allowed: true } | { readonly allowed: false; readonly refusal: SessionKeyRefusal };

/**
 * Check a session-key use against its scope: not revoked, `now < expiry`, the data set is the scope client's,
 * the provider matches unless the scope's provider is the zero address (any), and `span <= maxSpan`.
 */
export function checkSessionKeyScope(scope: SessionKeyScope, use: SessionKeyUse): SessionKeyCheck {
  if (use.revoked === true) return refuse("REVOKED");
  if (use.now >= scope.expiry) return refuse("EXPIRED");
  if (!sameAddress(scope.client, use.client)) return refuse("WRONG_CLIENT");
  if (!sameAddress(scope.provider, ZeroAddress) && !sameAddress(scope.provider, use.provider)) {
    return refuse("WRONG_PROVIDER");
  }
  if (use.span > scope.maxSpan) return refuse("SPAN_OVER_CAP");
  return { allowed: true };
}

function refuse(refusal: SessionKeyRefusal): SessionKeyCheck {
  return { allowed: false, refusal };
}

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
