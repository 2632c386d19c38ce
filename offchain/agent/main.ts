/**
 * Runnable entry of the provider agent. `strata agent start` calls `startAgentFromConfigFile`; running this
 * file directly (`tsx offchain/agent/main.ts <config.json>`) does the same and stops on SIGINT/SIGTERM.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { JsonRpcProvider } from "ethers";
import { createAgent, type Agent } from "./agent.js";
import { loadConfig, type ConfigOverrides } from "./config.js";
import { signerFromKeySource } from "./keys.js";
import { createLogger, type Logger } from "./logger.js";

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

/** Stop gracefully on the first SIGINT/SIGTERM; a second one exits at once. */
export function stopOnSignals(started: StartedAgent): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    started.logger.info({ signal }, "stopping");
    started.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        started.logger.error({ err: error }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const path = process.argv[2];
  if (path === undefined) {
    console.error("usage: tsx offchain/agent/main.ts <agent-config.json>");
    process.exit(2);
  }
  startAgentFromConfigFile(path).then(stopOnSignals, (error: unknown) => {
    const code = (error as { code?: string }).code ?? "ERROR";
    console.error(`${code}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
