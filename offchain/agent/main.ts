/**
 * Runnable entry of the provider agent. `strata agent start` calls `startAgentFromConfigFile`; running this
 * file directly (`tsx offchain/agent/main.ts <config.json>`) does the same and stops on SIGINT/SIGTERM.
 */
import { JsonRpcProvider } from "ethers";
import { createAgent, type Agent } from "./agent.js";
import { loadConfig, type ConfigOverrides } from "./config.js";
import { signerFromKeySource } from "./keys.js";
import { createLogger, type Logger } from "./logger.js";
import { exitOnStartupError, isEntryPoint, stopOnSignals } from "../sdk/process/lifecycle.js";

export interface StartedAgent {
  agent: Agent;
  logger: Logger;
  provider: JsonRpcProvider;
  /** Stop the agent and the RPC provider. */
  stop(): Promise<void>;
}

/** Load the configuration, connect to the RPC with the configured key, start the agent. */
export async function startAgentFromConfigFile(
  path: string,
  options: { overrides?: ConfigOverrides; logger?: Logger; env?: NodeJS.ProcessEnv } = {},
): Promise<StartedAgent> {
  const config = await loadConfig(path, options.overrides);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  // cacheTimeout -1: a local chain mines and is read right away; stale block numbers would mislead duties.
  const provider = new JsonRpcProvider(config.rpcUrl, undefined, { cacheTimeout: -1, pollingInterval: 1000 });
  try {
    const signer = await signerFromKeySource(config.key, provider, options.env);
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
    console.error("usage: tsx offchain/agent/main.ts <agent-config.json>");
    process.exit(2);
  }
  startAgentFromConfigFile(path).then(stopOnSignals, exitOnStartupError);
}
