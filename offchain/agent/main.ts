/**
 * Runnable entry of the provider agent. `strata agent start` calls `startAgentFromConfigFile`; running this
 * file directly (`tsx offchain/agent/main.ts <config.json>`) does the same and stops on SIGINT/SIGTERM.
 */
import { TestStablecoin__factory } from "../../typechain-types/index.js";
import { loadSigner, keySourceFromConfig } from "../runtime/keys.js";
import { StrataError } from "../sdk/errors.js";
import { exitOnStartupError, exitWithUsage, isEntryPoint, stopOnSignals } from "../runtime/lifecycle.js";
import { createLogger, silentLogger, type Logger } from "../runtime/logger.js";
import { openRpcProvider } from "../runtime/rpc/connect.js";
import { RPC_URL_ENV } from "../runtime/rpc/endpoint.js";
import { MAX_RESPONSE_BYTES, type RpcProvider } from "../runtime/rpc/provider.js";
import { createAgent, type Agent } from "./agent.js";
import { loadConfigWithChainDecimals, type ConfigOverrides } from "./config.js";

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
  // Amounts are read in the token's own decimals when the file does not state them (never a guessed default).
  const { config, decimalsFrom } = await loadConfigWithChainDecimals(path, overrides, (where) =>
    readTokenDecimals(where, options.logger ?? silentLogger()),
  );
  const logger = options.logger ?? createLogger({ name: "strata-agent", level: config.logLevel });
  if (decimalsFrom === "chain") {
    logger.info(
      { token: config.deployment.token, tokenDecimals: config.tokenDecimals },
      "the configuration does not state tokenDecimals: its amounts are read in the token's decimals",
    );
  }
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

/** The decimals of the payment token at `token`, asked of the node at `rpcUrl` (CONFIG_TOKEN_DECIMALS if it cannot say). */
async function readTokenDecimals(where: { token: string; rpcUrl: string }, logger: Logger): Promise<number> {
  const { provider } = await openRpcProvider({
    url: where.rpcUrl,
    retryReads: true,
    pollingIntervalMs: 1000,
    logger,
  });
  try {
    return Number(await TestStablecoin__factory.connect(where.token, provider).decimals());
  } catch (cause) {
    throw new StrataError(
      "CONFIG_TOKEN_DECIMALS",
      `cannot read the decimals of the payment token ${where.token} at ${where.rpcUrl}`,
      {
        cause,
        details: `check rpcUrl and deployment.token, or state the token's decimals in the configuration ("tokenDecimals": 6 for a USDC-like token)`,
      },
    );
  } finally {
    provider.destroy();
  }
}

if (isEntryPoint(import.meta.url)) {
  const path = process.argv[2];
  if (path === undefined) {
    exitWithUsage("tsx offchain/agent/main.ts <agent-config.json>");
  }
  startAgentFromConfigFile(path).then(stopOnSignals, exitOnStartupError);
}
