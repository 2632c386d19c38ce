/** Stable error codes of the Strata SDK, agent, worker and CLI. Tests assert codes, never message text. */
export type StrataErrorCode =
  | "INVALID_ARGUMENT"
  | "PIECE_TOO_LARGE"
  | "LEAF_OUT_OF_RANGE"
  | "DEPLOYMENT_NOT_FOUND"
  | "WRONG_NETWORK"
  | "CHAIN_REVERT"
  // SDK data path (offchain/sdk/data, commitment/parallel, manifest): encryption, key wrapping, coding, manifests
  | "DECRYPT_FAILED"
  | "WRONG_KEY"
  | "NOT_ENOUGH_PIECES"
  | "FILE_HASH_MISMATCH"
  | "BAD_MANIFEST"
  | "MANIFEST_NOT_FOUND"
  | "MANIFEST_OUTDATED"
  | "COMMIT_WORKER_FAILED"
  // provider agent (offchain/agent): configuration, piece store, database
  | "CONFIG_NOT_FOUND"
  | "CONFIG_PARSE_ERROR"
  | "CONFIG_INVALID"
  | "CONFIG_KEY_MISSING"
  | "CONFIG_DEPLOYMENT_MISMATCH"
  | "PIECE_NOT_FOUND"
  | "PIECE_CORRUPT"
  | "PIECE_SIZE_MISMATCH"
  | "AGENT_DB_ERROR"
  // chain connection, client (store/retrieve/deals) and CLI
  | "RPC_UNREACHABLE"
  | "KEY_MISSING"
  | "KEY_REFUSED"
  | "FILE_NOT_FOUND"
  | "OUTPUT_EXISTS"
  | "INSUFFICIENT_FUNDS"
  | "PROVIDER_UNREACHABLE"
  | "PROVIDER_REJECTED"
  | "PROVIDER_BAD_DATA"
  | "PROVIDER_UNUSABLE"
  | "NOT_ENOUGH_PROVIDERS"
  | "PUBLISH_TIMEOUT"
  | "STORE_INCOMPLETE"
  | "PIECES_UNAVAILABLE"
  // retrieval sampling (offchain/sdk/proofs/sampling.ts)
  | "PROVIDER_TIMEOUT"
  // proof-verifier worker foundation (offchain/worker): database, RPC retries
  | "WORKER_DB_ERROR"
  | "WORKER_DB_MISMATCH"
  | "RPC_TIMEOUT"
  | "RPC_FAILED"
  | "WORKER_UNREACHABLE"
  | "RPC_RESPONSE_TOO_LARGE"
  // compute leases (offchain/sdk/compute, the agent's compute duties, `strata lease`)
  | "WORKLOAD_INVALID"
  | "WORKLOAD_MISMATCH"
  | "ORDER_NOT_FOUND"
  | "BID_NOT_FOUND"
  | "LEASE_NOT_FOUND"
  | "TENANT_AUTH_FAILED"
  | "LEASE_UPDATE_REFUSED"
  // benchmarks and CI gates (scripts/bench, scripts/docs)
  | "BENCH_SETUP_FAILED"
  | "BENCH_PROCESS_FAILED"
  | "BENCH_RESULT_INVALID"
  | "SNAPSHOT_DRIFT"
  | "OVER_LIMIT"
  | "DOCS_STALE"
  // deploying the suite (deploy/lib/parameters.ts, rehearsal.ts, suiteOnChain.ts; scripts/deploy.ts)
  | "PARAMETERS_INVALID"
  | "PARAMETER_OUT_OF_BOUNDS"
  | "REHEARSAL_FAILED"
  | "DEPLOY_CANCELLED"
  | "DEPLOY_FAILED"
  | "DEPLOY_UNVERIFIED"
  // signing many deals at once (offchain/sdk/client/nonces.ts)
  | "NONCES_EXHAUSTED"
  // local chains and processes started by the demo, benchmarks and e2e tests (scripts/lib)
  | "NO_FREE_PORT"
  | "LOCAL_CHAIN_FAILED"
  | "LOCAL_PROCESS_FAILED"
  | "LOCAL_PROCESS_TIMEOUT"
  // the runtime of the long-running programs (offchain/runtime): service loop, SQLite, process lifecycle
  | "SERVICE_STOPPED"
  | "DB_COLUMN_INVALID"
  | "STOP_FAILED"
  // chain events the contracts cannot emit as read (offchain/worker/indexer), an internal invariant broken
  | "EVENT_UNEXPECTED"
  | "INTERNAL_INVARIANT"
  // data sets (offchain/sdk/datasets): replaying the market's events
  | "DATA_SET_NOT_FOUND"
  | "DATA_SET_EVENT_OUT_OF_ORDER"
  // files: the client's catalog, output paths, an interrupted store (offchain/runtime/catalog, cli store/get)
  | "CATALOG_DB_ERROR"
  | "CATALOG_NOT_FOUND"
  | "OUTPUT_NOT_WRITABLE"
  | "OUTPUT_NOT_REWINDABLE"
  | "STORE_INTERRUPTED"
  | "FILE_NOT_HEALTHY"
  // amounts and gas (CLI): an amount outside what the contracts accept, a signer without native currency for gas
  | "AMOUNT_OUT_OF_RANGE"
  | "GAS_FUNDS_MISSING"
  // repairing mandated files (offchain/sdk/repair, the worker's repair duty, `strata repair`)
  | "REPAIR_BRIEF_INVALID"
  | "REPAIR_BRIEF_MISMATCH"
  | "REPAIR_NO_PROVIDER"
  | "REPAIR_FAILED"
  // streaming data path (offchain/sdk/data/chunked.ts, stream.ts; agent uploads)
  | "CHUNK_AUTH_FAILED"
  | "UPLOAD_OFFSET_MISMATCH"
  // the agent configuration's amounts are written for another number of token decimals than the token's
  | "CONFIG_TOKEN_DECIMALS"
  // a sent transaction the node no longer knows, without a receipt (dropped, or its block lost by the node)
  | "TX_DROPPED"
  // a sent transaction still without a receipt when its wait ran out (it may yet be mined)
  | "TX_TIMEOUT"

  // public files (offchain/sdk/files/publicIndex.ts, the agent's /v1/files, `strata get <cid>`)
  | "PUBLIC_INDEX_INVALID"
  | "PUBLIC_FILE_NOT_FOUND"
  | "PUBLIC_FILE_RANGE"
  | "CID_MISMATCH"

  // permanent files (offchain/sdk/durability/permanent.ts, the agent's permanent duty, `strata store --permanent`)
  | "STORE_DECLINED"
  | "PERMANENT_NOT_DEPLOYED"

  // sites (offchain/sdk/sites, the agent's site routes, `strata site`)
  | "SITE_RECORD_INVALID"
  | "SITE_MANIFEST_INVALID"
  | "SITE_NOT_FOUND"
  | "SITE_NOT_SERVED";

/** One typed error family: a stable `code`, a short message, optional details and a cause chain. */
export class StrataError extends Error {
  readonly code: StrataErrorCode;
  readonly details: string | undefined;
  /** Machine-readable figures of the failure (e.g. amounts in base units as `<name>Raw`). */
  readonly data: Readonly<Record<string, string>> | undefined;

  constructor(
    code: StrataErrorCode,
    message: string,
    options: { details?: string; cause?: unknown; data?: Record<string, string> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "StrataError";
    this.code = code;
    this.details = options.details;
    this.data = options.data;
  }
}
