/** Stable error codes of the Strata SDK, agent, worker and CLI. Tests assert codes, never message text. */
export type StrataErrorCode =
  | "INVALID_ARGUMENT"
  | "PIECE_TOO_LARGE"
  | "LEAF_OUT_OF_RANGE"
  | "DEPLOYMENT_NOT_FOUND"
  | "WRONG_NETWORK"
  | "CHAIN_REVERT";

/** One typed error family: a stable `code`, a short message, optional details and a cause chain. */
export class StrataError extends Error {
  readonly code: StrataErrorCode;
  readonly details: string | undefined;

  constructor(code: StrataErrorCode, message: string, options: { details?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "StrataError";
    this.code = code;
    this.details = options.details;
  }
}
