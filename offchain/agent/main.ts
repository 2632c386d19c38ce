/**
 * Runnable entry of the provider agent. `strata agent start` calls `startAgentFromConfigFile`; running this
 * file directly (`tsx offchain/agent/main.ts <config.json>`) does the same and stops on SIGINT/SIGTERM.
 */
import { loadSigner, keySourceFromConfig } from "../runtime/keys.js";
import { exitOnStartupError, exitWithUsage, isEntryPoint, stopOnSignals } from "../runtime/lifecycle.js";
import { createLogger, type Logger } from "../runtime/logger.js";
import { openRpcProvider } from "../runtime/rpc/connect.js";
import { RPC_URL_ENV } from "../runtime/rpc/endpoint.js";
import { MAX_RESPONSE_BYTES, type RpcProvider } from "../runtime/rpc/provider.js";
import { createAgent, type Agent } from "./agent.js";
import { loadConfig, type ConfigOverrides } from "./config.js";

export interface StartedAgent {
  agent: Agent;
  logger: Logger;
  provider: RpcProvider;
  /** Stop the agent and the RPC provider. */
  stop(): Promise<void>;
}

/**
 * Load the configuration, connect to the RPC with the configured key, start the agent. The agent runs on the
 * runtime's transport: size-capped responses and reads retried on network trouble (a missed proof costs
 * collateral, so a flaky endpoint must not make the prover give up).
 */
export async function startAgentFromConfigFile(
  path: string,
  options: { overrides?: ConfigOverrides; logger?: Logger; env?: NodeJS.ProcessEnv } = {},
): Promise<StartedAgent> {
  // $STRATA_RPC_URL overrides the file's rpcUrl (flag > environment > file > default), as for every tool.
  const envRpc = (options.env ?? process.env)[RPC_URL_ENV]?.trim();
  const overrides: ConfigOverrides = {
    ...(envRpc === undefined || envRpc === "" ? {} : { rpcUrl: envRpc }),
    ...options.overrides,
  };
  const config = await loadConfig(path, overrides);
  const logger = options.logger ?? createLogger({ name: "strata-agent", level: config.logLevel });
  const { chainId, provider } = await openRpcProvider({
    url: config.rpcUrl,
    retryReads: true,
    pollingIntervalMs: 1000,
    // The agent's log queries are narrow (by id or provider, bounded ranges) and not split on a size error:
    // the general cap applies to them too.
    maxLogsResponseBytes: MAX_RESPONSE_BYTES,
    logger,
  });
  try {
    const signer = loadSigner(keySourceFromConfig(config.key), {
      chainId,
      provider,
      env: options.env ?? process.env,
    });
    const agent = await createAgent({ config, signer, provider, logger });
    await agent.start();
    return {
      agent,
      logger,
      provider,
      async stop() {
        await agent.stop();
        provider.destroy();
      },
    };
  } catch (error) {
    provider.destroy();
    throw error;
  }
}

if (isEntryPoint(import.meta.url)) {
  const path = process.argv[2];
  if (path === undefined) {
    exitWithUsage("tsx offchain/agent/main.ts <agent-config.json>");
  }
  startAgentFromConfigFile(path).then(stopOnSignals, exitOnStartupError);
}
