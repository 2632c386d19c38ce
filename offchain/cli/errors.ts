import { CommanderError } from "commander";
import { Interface, isError } from "ethers";
import {
  IComputeMarket__factory,
  IRetrievalChallenges__factory,
  PermanentStorage__factory,
  ProviderRegistry__factory,
  StorageMarket__factory,
  TestStablecoin__factory,
} from "../../typechain-types/index.js";
import { StrataError, type StrataErrorCode } from "../sdk/errors.js";

/** Exit codes: 1 bad usage or input, 2 chain or provider trouble, 3 data integrity. */
export type ExitCode = 1 | 2 | 3;

/** Code printed for an error that is not a StrataError (a bug, or an unexpected library failure). */
export const INTERNAL = "INTERNAL";

const EXIT_CODES: Record<StrataErrorCode, ExitCode> = {
  INVALID_ARGUMENT: 1,
  PIECE_TOO_LARGE: 1,
  LEAF_OUT_OF_RANGE: 1,
  DEPLOYMENT_NOT_FOUND: 2,
  WRONG_NETWORK: 2,
  CHAIN_REVERT: 2,
  // data path
  DECRYPT_FAILED: 3,
  WRONG_KEY: 1,
  NOT_ENOUGH_PIECES: 3,
  FILE_HASH_MISMATCH: 3,
  BAD_MANIFEST: 1,
  MANIFEST_NOT_FOUND: 1,
  MANIFEST_OUTDATED: 1,
  COMMIT_WORKER_FAILED: 2,
  // agent
  CONFIG_NOT_FOUND: 1,
  CONFIG_PARSE_ERROR: 1,
  CONFIG_INVALID: 1,
  CONFIG_KEY_MISSING: 1,
  CONFIG_DEPLOYMENT_MISMATCH: 2,
  PIECE_NOT_FOUND: 3,
  PIECE_CORRUPT: 3,
  PIECE_SIZE_MISMATCH: 3,
  AGENT_DB_ERROR: 2,
  // chain, client and CLI
  RPC_UNREACHABLE: 2,
  KEY_MISSING: 1,
  KEY_REFUSED: 1,
  FILE_NOT_FOUND: 1,
  OUTPUT_EXISTS: 1,
  INSUFFICIENT_FUNDS: 2,
  PROVIDER_UNREACHABLE: 2,
  PROVIDER_TIMEOUT: 2,
  PROVIDER_REJECTED: 2,
  PROVIDER_BAD_DATA: 2,
  PROVIDER_UNUSABLE: 2,
  NOT_ENOUGH_PROVIDERS: 2,
  PUBLISH_TIMEOUT: 2,
  STORE_INCOMPLETE: 2,
  PIECES_UNAVAILABLE: 2,
  // proof-verifier worker
  WORKER_DB_ERROR: 2,
  WORKER_DB_MISMATCH: 1,
  RPC_TIMEOUT: 2,
  RPC_FAILED: 2,
  RPC_RESPONSE_TOO_LARGE: 2,
  WORKER_UNREACHABLE: 2,
  // compute leases
  WORKLOAD_INVALID: 1,
  WORKLOAD_MISMATCH: 1,
  ORDER_NOT_FOUND: 1,
  BID_NOT_FOUND: 1,
  LEASE_NOT_FOUND: 1,
  TENANT_AUTH_FAILED: 1,
  LEASE_UPDATE_REFUSED: 1,
  // benchmarks and CI gates (scripts only; listed so that every code has an exit code)
  BENCH_SETUP_FAILED: 2,
  BENCH_PROCESS_FAILED: 2,
  BENCH_RESULT_INVALID: 3,
  SNAPSHOT_DRIFT: 1,
  OVER_LIMIT: 1,
  DOCS_STALE: 1,
  // deploying the suite
  PARAMETERS_INVALID: 1,
  PARAMETER_OUT_OF_BOUNDS: 1,
  REHEARSAL_FAILED: 1,
  DEPLOY_CANCELLED: 1,
  DEPLOY_FAILED: 2,
  DEPLOY_UNVERIFIED: 2,
  NONCES_EXHAUSTED: 1,
  // local chains and processes (scripts/lib)
  NO_FREE_PORT: 2,
  LOCAL_CHAIN_FAILED: 2,
  LOCAL_PROCESS_FAILED: 2,
  LOCAL_PROCESS_TIMEOUT: 2,
  // runtime of the long-running programs
  SERVICE_STOPPED: 2,
  DB_COLUMN_INVALID: 2,
  STOP_FAILED: 2,
  EVENT_UNEXPECTED: 2,
  INTERNAL_INVARIANT: 2,
  // data-set event replay
  DATA_SET_NOT_FOUND: 1,
  DATA_SET_EVENT_OUT_OF_ORDER: 2,
  // files: catalog, output paths, interrupted store
  CATALOG_DB_ERROR: 2,
  CATALOG_NOT_FOUND: 1,
  OUTPUT_NOT_WRITABLE: 1,
  OUTPUT_NOT_REWINDABLE: 1,
  STORE_INTERRUPTED: 2,
  FILE_NOT_HEALTHY: 2,
  // amounts and gas
  AMOUNT_OUT_OF_RANGE: 1,
  GAS_FUNDS_MISSING: 2,
  // repairs
  REPAIR_BRIEF_INVALID: 1,
  REPAIR_BRIEF_MISMATCH: 1,
  REPAIR_NO_PROVIDER: 2,
  REPAIR_FAILED: 2,
  CHUNK_AUTH_FAILED: 3,
  UPLOAD_OFFSET_MISMATCH: 2,
  CONFIG_TOKEN_DECIMALS: 1,
  TX_DROPPED: 2,
  TX_TIMEOUT: 2,

  // public files
  PUBLIC_INDEX_INVALID: 3,
  PUBLIC_FILE_NOT_FOUND: 2,
  PUBLIC_FILE_RANGE: 1,
  CID_MISMATCH: 3,

  // permanent files
  STORE_DECLINED: 1,
  PERMANENT_NOT_DEPLOYED: 2,

  // sites
  SITE_RECORD_INVALID: 1,
  SITE_MANIFEST_INVALID: 1,
  SITE_NOT_FOUND: 1,
  SITE_NOT_SERVED: 2,
};

export function exitCodeFor(code: string): ExitCode {
  return (EXIT_CODES as Record<string, ExitCode | undefined>)[code] ?? 1;
}

/** What the CLI prints for a failure. */
export interface CliFailure {
  code: string;
  message: string;
  details?: string;
  /** Figures of the failure (amounts in base units as `<name>Raw`), printed under --json. */
  data?: Readonly<Record<string, string>>;
  exitCode: ExitCode;
}

const revertInterfaces: Interface[] = [
  StorageMarket__factory.createInterface(),
  ProviderRegistry__factory.createInterface(),
  TestStablecoin__factory.createInterface(),
  IRetrievalChallenges__factory.createInterface(),
  IComputeMarket__factory.createInterface(),
  PermanentStorage__factory.createInterface(),
];

/** Any thrown value as a CLI failure: StrataErrors keep their code; ethers errors become chain errors. */
export function toFailure(error: unknown): CliFailure {
  if (error instanceof StrataError) {
    return {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
      ...(error.data === undefined ? {} : { data: error.data }),
      exitCode: exitCodeFor(error.code),
    };
  }
  if (error instanceof CommanderError) {
    return { code: "INVALID_ARGUMENT", message: error.message.replace(/^error:\s*/, ""), exitCode: 1 };
  }
  if (isError(error, "CALL_EXCEPTION")) {
    return {
      code: "CHAIN_REVERT",
      message: `the transaction reverted: ${describeRevert(error)}`,
      exitCode: 2,
    };
  }
  if (isError(error, "INSUFFICIENT_FUNDS") || lacksGasFunds(error)) {
    return {
      code: "GAS_FUNDS_MISSING",
      message: "the signing account has no native currency (ETH) to pay for gas",
      details:
        "send ETH to the signing account (on a local chain from a funded dev account, e.g. with --account 0), " +
        "or sign with another key (--key-env <VAR>)",
      exitCode: 2,
    };
  }
  if (isError(error, "INVALID_ARGUMENT") && /out-of-bounds|overflow/i.test(shortMessage(error))) {
    const { argument, value } = error as { argument?: unknown; value?: unknown };
    return {
      code: "AMOUNT_OUT_OF_RANGE",
      message:
        `a value is too large for the contract` +
        (typeof argument === "string" && argument !== "" ? ` (argument ${argument}` : " (") +
        `${typeof value === "bigint" || typeof value === "number" ? `, ${value}` : ""})`,
      details: "pass a smaller amount or size",
      exitCode: 1,
    };
  }
  if (isError(error, "NUMERIC_FAULT")) {
    return {
      code: "AMOUNT_OUT_OF_RANGE",
      message: `a value is out of range: ${shortMessage(error)}`,
      details: "pass a smaller amount or size",
      exitCode: 1,
    };
  }
  if (
    isError(error, "NETWORK_ERROR") ||
    isError(error, "SERVER_ERROR") ||
    isError(error, "TIMEOUT") ||
    (error instanceof Error && /ECONNREFUSED|ECONNRESET|fetch failed/.test(error.message))
  ) {
    return {
      code: "RPC_UNREACHABLE",
      message: `the RPC endpoint failed: ${shortMessage(error)}`,
      exitCode: 2,
    };
  }
  return { code: INTERNAL, message: shortMessage(error), exitCode: 1 };
}

/**
 * Whether a node refused a transaction because the sender cannot pay for gas. Nodes word it differently
 * (geth and Anvil "insufficient funds for gas * price + value", Hardhat "Sender doesn't have enough funds to
 * send tx"), and ethers does not always recognise it ("could not coalesce error"), so the whole cause chain
 * is searched.
 */
export function lacksGasFunds(error: unknown): boolean {
  return errorMessages(error, 0).some((m) =>
    /insufficient funds for (gas|intrinsic)|doesn't have enough funds to send tx|sender balance.*too low/i.test(
      m,
    ),
  );
}

function errorMessages(value: unknown, depth: number): string[] {
  if (depth > 5 || value === null || typeof value !== "object") return [];
  const record = value as Record<string, unknown>;
  const own = ["message", "shortMessage"].flatMap((k) => {
    const m = record[k];
    return typeof m === "string" ? [m] : [];
  });
  return [...own, ...["error", "info", "cause", "data"].flatMap((k) => errorMessages(record[k], depth + 1))];
}

function describeRevert(error: {
  revert?: { name: string; args: readonly unknown[] } | null;
  data?: string | null;
}): string {
  if (error.revert) return `${error.revert.name}(${error.revert.args.map(String).join(", ")})`;
  const data = error.data ?? null;
  if (data !== null && data.length >= 10) {
    for (const iface of revertInterfaces) {
      const parsed = iface.parseError(data);
      if (parsed) return `${parsed.name}(${parsed.args.map(String).join(", ")})`;
    }
    return `unknown error ${data.slice(0, 10)}`;
  }
  return "no reason given";
}

function shortMessage(error: unknown): string {
  if (error instanceof Error) {
    const short = (error as { shortMessage?: unknown }).shortMessage;
    return typeof short === "string" ? short : error.message;
  }
  return String(error);
}

/** One line for a human: `strata: <message> — <what to do> (CODE)`. */
export function formatFailure(failure: CliFailure): string {
  const first = failure.details?.split("\n")[0] ?? "";
  // Some errors repeat in `details` what the message says (e.g. the manifest field at fault): print it once.
  const details = first === "" || failure.message.includes(first) ? "" : ` — ${first}`;
  return `strata: ${failure.message}${details} (${failure.code})`;
}
