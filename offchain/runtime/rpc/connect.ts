/**
 * Opening the RPC connection of a long-running program: the chain id is probed (with retries, so a service
 * started before its node waits for it), then the provider is built on the bounded, size-capped transport
 * with that chain id fixed (ethers must not retry network detection forever while the RPC is down).
 */
import { Network } from "ethers";
import { pollingIntervalFor, probeChainId } from "../../sdk/chain/connect.js";
import { StrataError } from "../../sdk/errors.js";
import type { Logger } from "../logger.js";
import { RpcProvider, type RpcProviderOptions } from "./provider.js";
import { DEFAULT_RETRY, withRetry, type RetryOptions, type RetrySettings } from "./retry.js";

export interface OpenRpcOptions {
  url: string;
  /** Retries of the chain-id probe, and the per-try timeout of every request. */
  retry?: RetrySettings;
  /** Also retry reads inside the transport (the agent); the worker retries around its own calls. */
  retryReads?: boolean;
  /** How often ethers polls for new blocks (at most 250 ms on a local development chain: pollingIntervalFor). */
  pollingIntervalMs: number;
  /**
   * Size cap of an eth_getLogs answer (default MAX_LOGS_RESPONSE_BYTES, tight because the worker's indexer
   * halves its block range past it; a program that does not split ranges passes MAX_RESPONSE_BYTES).
   */
  maxLogsResponseBytes?: number;
  logger: Logger;
  fetch?: typeof fetch;
  /** Injected for tests. */
  sleep?: RetryOptions["sleep"];
}

export interface OpenedRpc {
  chainId: bigint;
  provider: RpcProvider;
}

/** Probe the endpoint's chain id (retrying while it is unreachable) and build the provider. */
export async function openRpcProvider(options: OpenRpcOptions): Promise<OpenedRpc> {
  const chainId = await waitForChainId(options);
  return { chainId, provider: createRpcProvider(options, chainId) };
}

/** The endpoint's chain id, retried while the endpoint does not answer (RPC_UNREACHABLE once tries run out). */
export async function waitForChainId(
  options: Pick<OpenRpcOptions, "url" | "retry" | "logger" | "fetch" | "sleep">,
): Promise<bigint> {
  const retry = options.retry ?? DEFAULT_RETRY;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const { logger } = options;
  return withRetry(() => probeChainId(options.url, fetchFn, retry.timeoutMs), {
    ...retry,
    label: `eth_chainId at ${options.url}`,
    ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
    onError: (error, info) => {
      if (info.delayMs === null) return;
      const message = error instanceof Error ? error.message : String(error);
      logger.warn(
        { attempt: info.attempt, retryInMs: info.delayMs, error: message },
        "RPC not reachable yet",
      );
    },
  }).catch((error: unknown) => {
    // At start-up the probe's own error (RPC_UNREACHABLE, with its hint) says more than "tries exhausted".
    throw error instanceof StrataError && error.cause instanceof StrataError ? error.cause : error;
  });
}

/** The provider on the runtime's transport for a chain whose id is known. */
export function createRpcProvider(
  options: Pick<
    OpenRpcOptions,
    "url" | "retry" | "retryReads" | "pollingIntervalMs" | "maxLogsResponseBytes" | "fetch" | "sleep"
  >,
  chainId: bigint,
): RpcProvider {
  const retry = options.retry ?? DEFAULT_RETRY;
  const providerOptions: RpcProviderOptions = {
    staticNetwork: true,
    // No stale block numbers: a local chain mines and is read right away.
    cacheTimeout: -1,
    pollingInterval: pollingIntervalFor(chainId, options.pollingIntervalMs),
    fetch: options.fetch ?? globalThis.fetch,
    timeoutMs: retry.timeoutMs,
    ...(options.maxLogsResponseBytes === undefined
      ? {}
      : { maxLogsResponseBytes: options.maxLogsResponseBytes }),
    ...(options.retryReads === true
      ? { retry: { ...retry, ...(options.sleep === undefined ? {} : { sleep: options.sleep }) } }
      : {}),
  };
  return new RpcProvider(options.url, Network.from(chainId), providerOptions);
}
