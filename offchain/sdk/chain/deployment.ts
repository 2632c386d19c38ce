import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { StrataError } from "../errors.js";
import { address } from "../schemas/primitives.js";

/** Addresses of one deployed storage suite. */
export interface StrataDeployment {
  /** The payment token (TestStablecoin locally, the network's ERC-20 elsewhere). */
  token: string;
  registry: string;
  market: string;
  /**
   * The retrieval-challenge contract. Absent in deployment files written before it existed; features that
   * need it (answering or opening retrieval challenges) are then unavailable.
   */
  retrievalChallenges?: string;
  /**
   * The compute market (orders, bids, leases). Absent in deployment files written before it existed;
   * compute leases are then unavailable.
   */
  computeMarket?: string;
  /** Ignition module the addresses come from. */
  module: DeploymentModule;
  /** File the addresses were read from. */
  source: string;
}

/** The Ignition modules in deploy/modules and the future ids of the suite's contracts. */
export const DEPLOYMENT_MODULES = {
  StrataLocal: {
    token: "TestStablecoin",
    registry: "ProviderRegistry",
    market: "StorageMarket",
    retrievalChallenges: "RetrievalChallenges",
    computeMarket: "ComputeMarket",
  },
  StrataNetwork: {
    token: "PaymentToken",
    registry: "ProviderRegistry",
    market: "StorageMarket",
    retrievalChallenges: "RetrievalChallenges",
    computeMarket: "ComputeMarket",
  },
} as const;

export type DeploymentModule = keyof typeof DEPLOYMENT_MODULES;

/** The repository root, found from this file's location (offchain/sdk/chain/). */
export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
}

/** Where Ignition writes the addresses of a deployment on `chainId`. */
export function defaultDeploymentPath(chainId: bigint, root: string = repoRoot()): string {
  return join(root, "deploy", "deployments", `chain-${chainId}`, "deployed_addresses.json");
}

/**
 * Read the suite's addresses from an Ignition `deployed_addresses.json` (`file`, or the default path for
 * `chainId`). Throws DEPLOYMENT_NOT_FOUND when the file is missing, unreadable or lacks the suite.
 */
export async function loadDeployment(options: { chainId: bigint; file?: string }): Promise<StrataDeployment> {
  const source = options.file ?? defaultDeploymentPath(options.chainId);
  let text: string;
  try {
    text = await readFile(source, "utf8");
  } catch (cause) {
    throw new StrataError("DEPLOYMENT_NOT_FOUND", `no Strata deployment for chain ${options.chainId}`, {
      details: deployHint(options.chainId, source, options.file !== undefined),
      cause,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new StrataError("DEPLOYMENT_NOT_FOUND", `${source} is not valid JSON`, {
      details: deployHint(options.chainId, source, true),
      cause,
    });
  }
  return parseDeployment(json, source);
}

/** Pick the suite's addresses out of a parsed `deployed_addresses.json` object. */
export function parseDeployment(json: unknown, source: string): StrataDeployment {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new StrataError("DEPLOYMENT_NOT_FOUND", `${source} is not an Ignition deployed_addresses.json`);
  }
  const entries = json as Record<string, unknown>;
  for (const module of Object.keys(DEPLOYMENT_MODULES) as DeploymentModule[]) {
    const ids = DEPLOYMENT_MODULES[module];
    const read = (id: string): string | undefined => {
      const parsed = address.safeParse(entries[`${module}#${id}`]);
      return parsed.success ? parsed.data : undefined;
    };
    const token = read(ids.token);
    const registry = read(ids.registry);
    const market = read(ids.market);
    if (token !== undefined && registry !== undefined && market !== undefined) {
      const retrievalChallenges = read(ids.retrievalChallenges);
      const computeMarket = read(ids.computeMarket);
      return {
        token,
        registry,
        market,
        ...(retrievalChallenges === undefined ? {} : { retrievalChallenges }),
        ...(computeMarket === undefined ? {} : { computeMarket }),
        module,
        source,
      };
    }
  }
  throw new StrataError("DEPLOYMENT_NOT_FOUND", `${source} does not contain a Strata storage suite`, {
    details:
      'expected the keys "StrataLocal#TestStablecoin", "StrataLocal#ProviderRegistry" and ' +
      '"StrataLocal#StorageMarket" (or the StrataNetwork#PaymentToken/ProviderRegistry/StorageMarket equivalents)',
  });
}

function deployHint(chainId: bigint, source: string, explicit: boolean): string {
  if (explicit) return `check the --deployment path (${source})`;
  if (chainId === 31337n) {
    return `looked for ${source}; deploy the suite first: start a node with "npm run node", then run "npm run deploy:local"`;
  }
  return `looked for ${source}; deploy the suite to this chain first, or pass --deployment <deployed_addresses.json>`;
}
