/**
 * The rehearsal that is the dry run: deploy the file's Ignition module with the file's parameters to a fresh
 * in-process chain, so that the contracts themselves validate every value against their hard bounds. A value out
 * of bounds makes a constructor revert with the contract's custom error (e.g.
 * `MarketParameterOutOfBounds("proofWindow", 10, 30, 3600)`), reported as the parameter, its value and the range
 * the contract accepts. A rehearsal that succeeds yields the plan: every transaction with its gas, and who holds
 * every role at the end.
 */
import { HardhatArtifactResolver } from "@nomicfoundation/hardhat-ignition/helpers";
import {
  deploy,
  DeploymentResultType,
  type DeploymentResult,
  type IgnitionModule,
  type IgnitionModuleResult,
  type SuccessfulDeploymentResult,
} from "@nomicfoundation/ignition-core";
import { getAddress, getCreateAddress, toQuantity, ZeroAddress, type Interface, type Provider } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { StrataError } from "../../offchain/sdk/errors.js";
import { TestStablecoin__factory } from "../../typechain-types/index.js";
import {
  INTERFACES,
  SUITE_MODULES,
  type Governance,
  type ParameterFile,
  type SuiteContract,
} from "./parameters.js";
import {
  checkHandover,
  diffParameters,
  readSuiteParameters,
  ROLES,
  suiteAddresses,
  type HandoverCheck,
} from "./suiteOnChain.js";

/** A value the contracts reject, decoded from their custom error. */
export interface BoundViolation {
  /** Path in the parameter file, e.g. `market.proofWindow`. */
  parameter: string;
  value: bigint;
  min: bigint;
  max: bigint;
  /** The contract whose constructor reverted, and its custom error. */
  contract: string;
  error: string;
}

/** The rehearsal found values outside the contracts' hard bounds. */
export class ParameterBoundsError extends StrataError {
  readonly violations: readonly BoundViolation[];

  constructor(source: string, violations: readonly BoundViolation[]) {
    const lines = violations.map(describeViolation);
    const more = lines.length > 1 ? ` (and ${lines.length - 1} more)` : "";
    super("PARAMETER_OUT_OF_BOUNDS", `${source}: ${lines[0] ?? "out of bounds"}${more}`, {
      details: lines.join("\n"),
    });
    this.violations = violations;
  }
}

function describeViolation(v: BoundViolation): string {
  return `${v.parameter} = ${v.value} is out of bounds: ${v.contract} accepts ${v.min} to ${v.max} (${v.error})`;
}

/** One transaction of the rehearsed deployment. */
export interface PlannedTransaction {
  kind: "deploy" | "call";
  /** `StorageMarket` for a deployment, `ProviderRegistry.grantRole(MARKET_ROLE, StorageMarket)` for a call. */
  label: string;
  gasUsed: bigint;
}

/** Who holds a role at the end of the rehearsed deployment (labels: contract names, "deployer", file roles). */
export interface RoleHolding {
  contract: string;
  role: string;
  holders: string[];
}

export interface Rehearsal {
  transactions: PlannedTransaction[];
  totalGas: bigint;
  roles: RoleHolding[];
  /** The handover checks, all passed. */
  handover: HandoverCheck[];
}

/**
 * Deploy the file's module with the file's parameters to a fresh in-process chain of `chainType` (the target's),
 * and report what happened: every transaction with its gas, who holds every role at the end, and the handover
 * checks. For StrataNetwork a token contract is placed at the file's token address first (TestStablecoin's
 * runtime code). Throws PARAMETER_OUT_OF_BOUNDS (ParameterBoundsError) when a contract rejects a value,
 * REHEARSAL_FAILED for any other failure (including a deployment that does not end with the file's values or the
 * handover in place).
 */
export async function rehearseDeployment(
  hre: HardhatRuntimeEnvironment,
  file: ParameterFile,
  options: { chainType?: "l1" | "op" | "generic" } = {},
): Promise<Rehearsal> {
  const connection = await hre.network.create({ network: "default", chainType: options.chainType ?? "l1" });
  try {
    const provider = connection.ethers.provider;
    const accounts = (await connection.provider.request({ method: "eth_accounts" })) as string[];
    const [, tokenDeployer] = await connection.ethers.getSigners();
    if (tokenDeployer === undefined || accounts[0] === undefined)
      throw new StrataError("REHEARSAL_FAILED", "the in-process chain has too few accounts", {
        details: "the rehearsal needs two accounts: the deployer and a stand-in token deployer",
      });
    const deployer = getAddress(accounts[0]);
    if (file.governance !== undefined) {
      const token = file.governance.token;
      const standIn = await new TestStablecoin__factory(tokenDeployer).deploy(deployer);
      await standIn.waitForDeployment();
      const code = await provider.getCode(await standIn.getAddress());
      await connection.provider.request({ method: "hardhat_setCode", params: [token, code] });
      // A token made on a local node by Hardhat's account 0 sits where the rehearsal's deployer (the same
      // account) would create a contract: start the rehearsal's deployer past that nonce.
      let nonce = 0;
      for (let n = 0; n < 256; n++)
        if (getCreateAddress({ from: deployer, nonce: n }) === token) nonce = n + 1;
      if (nonce > 0)
        await connection.provider.request({
          method: "hardhat_setNonce",
          params: [deployer, toQuantity(nonce)],
        });
    }
    const firstBlock = (await provider.getBlockNumber()) + 1;
    const ignitionModule: IgnitionModule<string, string, IgnitionModuleResult<string>> = SUITE_MODULES[
      file.module
    ];
    const result = await deploy({
      config: { ...hre.config.ignition, requiredConfirmations: 1, blockPollingInterval: 50 },
      artifactResolver: new HardhatArtifactResolver(hre.artifacts),
      provider: connection.provider,
      ignitionModule,
      deploymentParameters: file.ignition,
      accounts,
    });
    if (result.type !== DeploymentResultType.SUCCESSFUL_DEPLOYMENT) throw rehearsalError(file, result);

    const addresses = suiteAddresses(file.module, result.contracts);
    const names = new Map<string, string>();
    for (const [futureId, c] of Object.entries(result.contracts))
      names.set(getAddress(c.address), futureId.split("#")[1] ?? futureId);
    const labels = addressLabels(names, deployer, file.governance);

    const read = await readSuiteParameters(provider, addresses);
    const diff = diffParameters(file.values, read);
    if (diff.length > 0)
      throw new StrataError("REHEARSAL_FAILED", "the rehearsed deployment does not have the file's values", {
        details: diff.join("\n"),
      });
    const handover = await checkHandover(provider, addresses, deployer, file.governance);
    const failed = handover.filter((c) => !c.ok);
    if (failed.length > 0)
      throw new StrataError("REHEARSAL_FAILED", "the rehearsed deployment did not hand governance over", {
        details: failed.map((c) => `not true: ${c.what}`).join("\n"),
      });

    const transactions = await listTransactions(provider, firstBlock, names, labels);
    const roles = await roleHolders(provider, firstBlock, names, labels);
    return {
      transactions,
      totalGas: transactions.reduce((sum, t) => sum + t.gasUsed, 0n),
      roles,
      handover,
    };
  } finally {
    await connection.close();
  }
}

function addressLabels(
  names: Map<string, string>,
  deployer: string,
  governance: Governance | undefined,
): (address: string) => string {
  const labels = new Map<string, string[]>();
  const add = (address: string, label: string) =>
    labels.set(address, [...(labels.get(address) ?? []), label]);
  add(deployer, "deployer");
  if (governance !== undefined) {
    governance.proposers.forEach((p) => add(p, `proposer ${p}`));
    governance.executors.forEach((e) => add(e, e === ZeroAddress ? "anyone" : `executor ${e}`));
    add(governance.treasury, `treasury ${governance.treasury}`);
  }
  return (address: string) => {
    const a = getAddress(address);
    return names.get(a) ?? labels.get(a)?.join(" / ") ?? a;
  };
}

const ROLE_NAMES = new Map<string, string>(Object.entries(ROLES).map(([name, hash]) => [hash, name]));

async function listTransactions(
  provider: Provider,
  firstBlock: number,
  names: Map<string, string>,
  label: (address: string) => string,
): Promise<PlannedTransaction[]> {
  const out: PlannedTransaction[] = [];
  const last = await provider.getBlockNumber();
  for (let n = firstBlock; n <= last; n++) {
    const block = await provider.getBlock(n, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      const receipt = await provider.getTransactionReceipt(tx.hash);
      if (receipt === null) continue;
      if (tx.to === null) {
        const created = receipt.contractAddress === null ? "contract" : label(receipt.contractAddress);
        out.push({ kind: "deploy", label: created, gasUsed: receipt.gasUsed });
        continue;
      }
      const target = names.get(getAddress(tx.to));
      const iface =
        target !== undefined && target in INTERFACES ? INTERFACES[target as SuiteContract] : undefined;
      const call = iface?.parseTransaction({ data: tx.data });
      const args =
        call?.fragment.inputs.map((input, i) => {
          const value: unknown = call.args[i];
          if (input.type === "bytes32" && typeof value === "string") return ROLE_NAMES.get(value) ?? value;
          if (input.type === "address" && typeof value === "string") return label(value);
          return String(value);
        }) ?? [];
      out.push({
        kind: "call",
        label: `${target ?? tx.to}.${call?.name ?? tx.data.slice(0, 10)}(${args.join(", ")})`,
        gasUsed: receipt.gasUsed,
      });
    }
  }
  return out;
}

async function roleHolders(
  provider: Provider,
  firstBlock: number,
  names: Map<string, string>,
  label: (address: string) => string,
): Promise<RoleHolding[]> {
  const iface: Interface = INTERFACES.StorageMarket;
  const granted = iface.getEvent("RoleGranted");
  const revoked = iface.getEvent("RoleRevoked");
  if (granted === null || revoked === null)
    throw new StrataError("REHEARSAL_FAILED", "AccessControl events missing from the ABI");
  const logs = await provider.getLogs({
    fromBlock: firstBlock,
    topics: [[granted.topicHash, revoked.topicHash]],
  });
  const holders = new Map<string, { contract: string; role: string; holders: Set<string> }>();
  for (const log of logs) {
    const parsed = iface.parseLog(log);
    if (parsed === null) continue;
    const contract = names.get(getAddress(log.address)) ?? log.address;
    const role = ROLE_NAMES.get(parsed.args[0] as string) ?? (parsed.args[0] as string);
    const key = `${contract}|${role}`;
    const entry = holders.get(key) ?? { contract, role, holders: new Set<string>() };
    const account = label(parsed.args[1] as string);
    if (parsed.name === "RoleGranted") entry.holders.add(account);
    else entry.holders.delete(account);
    holders.set(key, entry);
  }
  const order = [
    "StrataTimelock",
    "ProviderRegistry",
    "StorageMarket",
    "RetrievalChallenges",
    "ComputeMarket",
  ];
  const rank = (contract: string) => (order.includes(contract) ? order.indexOf(contract) : order.length);
  return [...holders.values()]
    .sort((x, y) => rank(x.contract) - rank(y.contract))
    .map((h) => ({ contract: h.contract, role: h.role, holders: [...h.holders].sort() }));
}

const BOUND_ERRORS: Record<string, (name: string | undefined) => string> = {
  MarketParameterOutOfBounds: (name) =>
    name === "provingPeriod" ? "provingPeriod" : `market.${name ?? "?"}`,
  RetrievalParameterOutOfBounds: (name) =>
    name === "maxBond" ? "maxRetrievalBond" : `retrieval.${name ?? "?"}`,
  ComputeParameterOutOfBounds: (name) => `compute.${name ?? "?"}`,
  RegistryParameterOutOfBounds: () => "unbondingDelay",
};

/** Turn a failed Ignition rehearsal into PARAMETER_OUT_OF_BOUNDS (decoded bounds) or REHEARSAL_FAILED. */
function rehearsalError(file: ParameterFile, result: Exclude<DeploymentResult, SuccessfulDeploymentResult>) {
  if (result.type === DeploymentResultType.EXECUTION_ERROR) {
    const violations: BoundViolation[] = [];
    const other: string[] = [];
    for (const failure of result.failed) {
      const contract = failure.futureId.split("#")[1] ?? failure.futureId;
      const decoded = parseIgnitionCustomError(failure.error);
      const toPath = decoded === undefined ? undefined : BOUND_ERRORS[decoded.name];
      if (decoded === undefined || toPath === undefined) {
        other.push(`${contract}: ${failure.error}`);
        continue;
      }
      // RegistryParameterOutOfBounds(value, min, max) has no name; the others start with the parameter's name.
      const named = typeof decoded.args[0] === "string";
      const [value, min, max] = (named ? decoded.args.slice(1) : decoded.args).map((x) =>
        typeof x === "bigint" ? x : 0n,
      );
      violations.push({
        parameter: toPath(named ? (decoded.args[0] as string) : undefined),
        value: value ?? 0n,
        min: min ?? 0n,
        max: max ?? 0n,
        contract,
        error: decoded.name,
      });
    }
    if (violations.length > 0 && other.length === 0) return new ParameterBoundsError(file.source, violations);
    return new StrataError("REHEARSAL_FAILED", `${file.source}: the rehearsal deployment failed`, {
      details: [...violations.map(describeViolation), ...other].join("\n"),
    });
  }
  const errors = "errors" in result ? Object.entries(result.errors) : [];
  return new StrataError(
    "REHEARSAL_FAILED",
    `${file.source}: Ignition rejected the deployment (${result.type})`,
    {
      details: errors.flatMap(([future, list]) => list.map((e) => `${future}: ${e}`)).join("\n"),
    },
  );
}

/**
 * Ignition reports a revert it decoded as `... Reverted with custom error Name("text", 12, 34)` (see
 * ignition-core's formatCustomError): the name and the arguments, strings quoted and integers in decimal.
 */
export function parseIgnitionCustomError(
  message: string,
): { name: string; args: (string | bigint)[] } | undefined {
  const match = /custom error (\w+)\((.*)\)\s*$/s.exec(message);
  if (match?.[1] === undefined) return undefined;
  const args: (string | bigint)[] = [];
  for (const token of (match[2] ?? "").matchAll(/"([^"]*)"|(-?\d+)|([^,\s][^,]*)/g)) {
    if (token[1] !== undefined) args.push(token[1]);
    else if (token[2] !== undefined) args.push(BigInt(token[2]));
    else if (token[3] !== undefined) args.push(token[3].trim());
  }
  return { name: match[1], args };
}
