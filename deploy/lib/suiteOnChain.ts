/**
 * Reading a deployed suite back from the chain: its addresses in an Ignition result, every parameter it runs
 * with, and whether governance ended where the modules put it (the timelock, never the deployer).
 */
import { getAddress, id, isError, ZeroHash, type Interface, type Provider } from "ethers";
import { StrataError } from "../../offchain/sdk/errors.js";
import {
  ComputeMarket__factory,
  ProviderRegistry__factory,
  RetrievalChallenges__factory,
  StorageMarket__factory,
  StrataTimelock__factory,
} from "../../typechain-types/index.js";
import {
  constructorInput,
  INTERFACES,
  SCALAR_PARAMETER_NAMES,
  STRUCT_PARAMETER_NAMES,
  uintMax,
  type Governance,
  type ScalarParameter,
  type SuiteContract,
  type SuiteModuleId,
  type SuiteParameters,
} from "./parameters.js";

/** Addresses of a deployed suite. */
export interface SuiteAddresses {
  token: string;
  registry: string;
  market: string;
  retrievalChallenges: string;
  computeMarket: string;
  timelock: string;
}

const FUTURE_IDS = {
  registry: "ProviderRegistry",
  market: "StorageMarket",
  retrievalChallenges: "RetrievalChallenges",
  computeMarket: "ComputeMarket",
  timelock: "StrataTimelock",
} as const;

/** The suite's addresses in the `contracts` of a successful Ignition deployment of `module`. */
export function suiteAddresses(
  module: SuiteModuleId,
  contracts: Record<string, { address: string }>,
): SuiteAddresses {
  const pick = (futureId: string): string => {
    const deployed = contracts[`${module}#${futureId}`];
    if (deployed === undefined) throw new StrataError("DEPLOY_FAILED", `the deployment has no ${futureId}`);
    return getAddress(deployed.address);
  };
  return {
    token: pick(module === "StrataLocal" ? "TestStablecoin" : "PaymentToken"),
    registry: pick(FUTURE_IDS.registry),
    market: pick(FUTURE_IDS.market),
    retrievalChallenges: pick(FUTURE_IDS.retrievalChallenges),
    computeMarket: pick(FUTURE_IDS.computeMarket),
    timelock: pick(FUTURE_IDS.timelock),
  };
}

/**
 * Every parameter of a deployed suite, read from the chain. The three deployment caps have no getter: they are
 * read from the bound error a `setParameters` call from the timelock reverts with when asked for more than the
 * cap (an eth_call: nothing is sent). A cap that cannot be read that way is left out.
 */
export async function readSuiteParameters(
  provider: Provider,
  a: SuiteAddresses,
): Promise<Partial<SuiteParameters>> {
  const timelock = StrataTimelock__factory.connect(a.timelock, provider);
  const registry = ProviderRegistry__factory.connect(a.registry, provider);
  const market = StorageMarket__factory.connect(a.market, provider);
  const retrieval = RetrievalChallenges__factory.connect(a.retrievalChallenges, provider);
  const compute = ComputeMarket__factory.connect(a.computeMarket, provider);
  // Struct results by field name, with the field names of the constructor's struct (the file's keys).
  const struct = (contract: SuiteContract, result: readonly bigint[]): Record<string, bigint> =>
    Object.fromEntries(
      (constructorInput(contract, "params").components ?? []).map((c, i) => [c.name, result[i] ?? -1n]),
    );
  const marketParams = struct("StorageMarket", await market.parameters());
  const computeParams = struct("ComputeMarket", await compute.parameters());
  const out: Partial<SuiteParameters> = {
    timelockDelay: await timelock.getMinDelay(),
    unbondingDelay: await registry.unbondingDelay(),
    provingPeriod: await market.provingPeriod(),
    market: marketParams,
    maxRetrievalBond: await retrieval.maxBond(),
    retrieval: struct("RetrievalChallenges", await retrieval.parameters()),
    compute: computeParams,
  };
  const probe = async (
    contract: "StorageMarket" | "ComputeMarket",
    to: string,
    params: Record<string, bigint>,
    field: string,
  ): Promise<bigint | undefined> => {
    const iface: Interface = INTERFACES[contract];
    const type = constructorInput(contract, "params").components?.find((c) => c.name === field)?.type;
    if (type === undefined) return undefined;
    const data = iface.encodeFunctionData("setParameters", [{ ...params, [field]: uintMax(type) }]);
    try {
      await provider.call({ to, from: a.timelock, data });
    } catch (error) {
      const data = revertData(error);
      const revert = data === undefined ? null : iface.parseError(data);
      if (revert !== null && revert.args[0] === field) return revert.args[3] as bigint;
    }
    return undefined;
  };
  const caps: [ScalarParameter, bigint | undefined][] = [
    ["maxMissedProofPenalty", await probe("StorageMarket", a.market, marketParams, "missedProofPenalty")],
    [
      "maxMissedHeartbeatPenalty",
      await probe("ComputeMarket", a.computeMarket, computeParams, "missedHeartbeatPenalty"),
    ],
    ["maxCloseBounty", await probe("ComputeMarket", a.computeMarket, computeParams, "closeBounty")],
  ];
  for (const [name, value] of caps) if (value !== undefined) out[name] = value;
  return out;
}

/**
 * The revert data of a failed eth_call: ethers puts it on its CALL_EXCEPTION; Hardhat's in-process provider
 * throws its own error carrying `data`.
 */
function revertData(error: unknown): string | undefined {
  if (isError(error, "CALL_EXCEPTION")) return error.data ?? undefined;
  const data = typeof error === "object" && error !== null ? (error as { data?: unknown }).data : undefined;
  return typeof data === "string" && /^0x[0-9a-fA-F]*$/.test(data) ? data : undefined;
}

/** Differences between a file's values and a deployment's, one line each (empty when they match). */
export function diffParameters(expected: SuiteParameters, actual: Partial<SuiteParameters>): string[] {
  const out: string[] = [];
  for (const name of SCALAR_PARAMETER_NAMES) {
    const value = actual[name];
    if (value === undefined) out.push(`${name}: could not be read back`);
    else if (value !== expected[name]) out.push(`${name}: file ${expected[name]}, on chain ${value}`);
  }
  for (const name of STRUCT_PARAMETER_NAMES) {
    for (const [field, want] of Object.entries(expected[name])) {
      const got = actual[name]?.[field];
      if (got !== want) out.push(`${name}.${field}: file ${want}, on chain ${got ?? "missing"}`);
    }
  }
  return out;
}

export const ROLES = {
  DEFAULT_ADMIN_ROLE: ZeroHash,
  PARAMETER_ROLE: id("PARAMETER_ROLE"),
  PAUSER_ROLE: id("PAUSER_ROLE"),
  MARKET_ROLE: id("MARKET_ROLE"),
  RETRIEVAL_ROLE: id("RETRIEVAL_ROLE"),
  PROPOSER_ROLE: id("PROPOSER_ROLE"),
  EXECUTOR_ROLE: id("EXECUTOR_ROLE"),
  CANCELLER_ROLE: id("CANCELLER_ROLE"),
} as const;
export type RoleName = keyof typeof ROLES;

/** One on-chain fact the role handover must satisfy. */
export interface HandoverCheck {
  ok: boolean;
  what: string;
}

/**
 * Check on chain that governance ended where the module puts it: the timelock holds every admin, parameter and
 * pauser role of the registry and the three markets, the deployer holds none of their roles and does not
 * administer the timelock, the markets hold their wiring roles, the treasuries are set, and (StrataNetwork) the
 * file's proposers and executors hold their timelock roles.
 */
export async function checkHandover(
  provider: Provider,
  a: SuiteAddresses,
  deployer: string,
  governance?: Governance,
): Promise<HandoverCheck[]> {
  const checks: HandoverCheck[] = [];
  // Every contract here is an OpenZeppelin AccessControl: the market's ABI carries hasRole for all of them.
  const has = (contract: string, role: RoleName, account: string) =>
    StorageMarket__factory.connect(contract, provider).hasRole(ROLES[role], account);
  const suite: [string, string][] = [
    ["ProviderRegistry", a.registry],
    ["StorageMarket", a.market],
    ["RetrievalChallenges", a.retrievalChallenges],
    ["ComputeMarket", a.computeMarket],
  ];
  const governed: RoleName[] = ["DEFAULT_ADMIN_ROLE", "PARAMETER_ROLE", "PAUSER_ROLE"];
  for (const [name, address] of suite) {
    for (const role of governed) {
      checks.push({ ok: await has(address, role, a.timelock), what: `timelock holds ${role} on ${name}` });
    }
    for (const role of [...governed, "MARKET_ROLE", "RETRIEVAL_ROLE"] as RoleName[]) {
      checks.push({
        ok: !(await has(address, role, deployer)),
        what: `deployer holds no ${role} on ${name}`,
      });
    }
  }
  checks.push(
    {
      ok: await has(a.registry, "MARKET_ROLE", a.market),
      what: "StorageMarket holds MARKET_ROLE on the registry",
    },
    {
      ok: await has(a.registry, "MARKET_ROLE", a.computeMarket),
      what: "ComputeMarket holds MARKET_ROLE on the registry",
    },
    {
      ok: await has(a.market, "RETRIEVAL_ROLE", a.retrievalChallenges),
      what: "RetrievalChallenges holds RETRIEVAL_ROLE on StorageMarket",
    },
    {
      ok: await has(a.timelock, "DEFAULT_ADMIN_ROLE", a.timelock),
      what: "the timelock administers itself",
    },
    {
      ok: !(await has(a.timelock, "DEFAULT_ADMIN_ROLE", deployer)),
      what: "deployer does not administer the timelock",
    },
  );
  const treasury = governance?.treasury ?? a.timelock;
  const market = StorageMarket__factory.connect(a.market, provider);
  const compute = ComputeMarket__factory.connect(a.computeMarket, provider);
  checks.push(
    { ok: (await market.treasury()) === treasury, what: `StorageMarket's treasury is ${treasury}` },
    { ok: (await compute.treasury()) === treasury, what: `ComputeMarket's treasury is ${treasury}` },
    {
      ok: (await ProviderRegistry__factory.connect(a.registry, provider).token()) === a.token,
      what: `the registry uses the token ${a.token}`,
    },
  );
  if (governance !== undefined) {
    for (const p of governance.proposers) {
      checks.push({
        ok: await has(a.timelock, "PROPOSER_ROLE", p),
        what: `${p} may propose on the timelock`,
      });
      checks.push({
        ok: await has(a.timelock, "CANCELLER_ROLE", p),
        what: `${p} may cancel on the timelock`,
      });
    }
    for (const e of governance.executors) {
      checks.push({
        ok: await has(a.timelock, "EXECUTOR_ROLE", e),
        what: `${e} may execute on the timelock`,
      });
    }
    for (const role of ["PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE"] as RoleName[]) {
      const listed = [...governance.proposers, ...governance.executors].includes(deployer);
      if (!listed)
        checks.push({
          ok: !(await has(a.timelock, role, deployer)),
          what: `deployer holds no ${role} on the timelock`,
        });
    }
  }
  return checks;
}
