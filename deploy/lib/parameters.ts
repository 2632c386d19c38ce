/**
 * Network parameter files (deploy/parameters/<network>.json): load them and check them before anything is sent.
 *
 * The contracts' bounds are not copied here. These checks (shape, whole numbers that fit their Solidity type,
 * addresses, placeholders) read the constructor ABIs of the compiled contracts; the bounds themselves are enforced
 * by rehearsing the real Ignition module with the file's parameters on an in-process chain (rehearsal.ts), where
 * the contracts reject a value out of bounds with their own custom error.
 */
import { access } from "node:fs/promises";
import { readDeploymentParameters } from "@nomicfoundation/hardhat-ignition/helpers";
import type { DeploymentParameters } from "@nomicfoundation/ignition-core";
import { getAddress, isAddress, ZeroAddress, type ParamType } from "ethers";
import { devAccountWallet, isLocalChain } from "../../offchain/sdk/chain/connect.js";
import { z } from "zod";
import { StrataError } from "../../offchain/sdk/errors.js";
import { fieldProblems } from "../../offchain/sdk/schemas/issues.js";
import { expected } from "../../offchain/sdk/schemas/primitives.js";
import {
  ComputeMarket__factory,
  ProviderRegistry__factory,
  RetrievalChallenges__factory,
  StorageMarket__factory,
  StrataTimelock__factory,
} from "../../typechain-types/index.js";
import StrataLocal from "../modules/StrataLocal.js";
import StrataNetwork from "../modules/StrataNetwork.js";

// ------------------------------------------------------------------ schema (from the contracts' ABIs)

export const INTERFACES = {
  StrataTimelock: StrataTimelock__factory.createInterface(),
  ProviderRegistry: ProviderRegistry__factory.createInterface(),
  StorageMarket: StorageMarket__factory.createInterface(),
  RetrievalChallenges: RetrievalChallenges__factory.createInterface(),
  ComputeMarket: ComputeMarket__factory.createInterface(),
} as const;
export type SuiteContract = keyof typeof INTERFACES;

/** Which constructor argument of which contract each number of a parameter file becomes. */
const SCALAR_PARAMETERS = {
  timelockDelay: ["StrataTimelock", "minDelay"],
  unbondingDelay: ["ProviderRegistry", "unbondingDelay_"],
  provingPeriod: ["StorageMarket", "provingPeriod_"],
  maxMissedProofPenalty: ["StorageMarket", "maxMissedProofPenalty_"],
  maxRetrievalBond: ["RetrievalChallenges", "maxBond_"],
  maxMissedHeartbeatPenalty: ["ComputeMarket", "maxMissedHeartbeatPenalty_"],
  maxCloseBounty: ["ComputeMarket", "maxCloseBounty_"],
} as const satisfies Record<string, readonly [SuiteContract, string]>;

/** Which constructor struct each object of a parameter file becomes (its keys are the struct's fields). */
const STRUCT_PARAMETERS = {
  market: ["StorageMarket", "params"],
  retrieval: ["RetrievalChallenges", "params"],
  compute: ["ComputeMarket", "params"],
} as const satisfies Record<string, readonly [SuiteContract, string]>;

export type ScalarParameter = keyof typeof SCALAR_PARAMETERS;
export type StructParameter = keyof typeof STRUCT_PARAMETERS;
export const SCALAR_PARAMETER_NAMES = Object.keys(SCALAR_PARAMETERS) as ScalarParameter[];
export const STRUCT_PARAMETER_NAMES = Object.keys(STRUCT_PARAMETERS) as StructParameter[];

/** Every number a deployment is configured with, as bigints (struct fields keyed by their Solidity names). */
export type SuiteParameters = Record<ScalarParameter, bigint> &
  Record<StructParameter, Record<string, bigint>>;

/** Who governs a StrataNetwork deployment and which token it uses. */
export interface Governance {
  token: string;
  proposers: string[];
  /** The zero address means anyone may execute a ready operation (OpenZeppelin TimelockController). */
  executors: string[];
  treasury: string;
}

/** The Ignition modules a parameter file can be for (the file's single top-level key). */
export const SUITE_MODULES = { StrataLocal, StrataNetwork } as const;
export type SuiteModuleId = keyof typeof SUITE_MODULES;
const GOVERNANCE_KEYS = ["token", "proposers", "executors", "treasury"] as const;

export interface ParameterFile {
  source: string;
  module: SuiteModuleId;
  /** The file as Ignition reads it: what the rehearsal and the real deployment are given. */
  ignition: DeploymentParameters;
  values: SuiteParameters;
  /** StrataNetwork only (StrataLocal deploys its own token and makes the deployer the proposer). */
  governance?: Governance;
  /** Legal but worth a second look (e.g. a zero timelock delay). */
  warnings: string[];
}

/** One problem found in a parameter file, by parameter path (e.g. `market.proofWindow`, `proposers[0]`). */
export interface ParameterIssue {
  parameter: string;
  problem: string;
}

/** A parameter file that cannot be deployed as written; `issues` lists every problem found. */
export class ParameterFileError extends StrataError {
  readonly issues: readonly ParameterIssue[];

  constructor(source: string, issues: readonly ParameterIssue[]) {
    const [first] = issues;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super(
      "PARAMETERS_INVALID",
      `${source}: ${first ? `${first.parameter}: ${first.problem}` : "invalid"}${more}`,
      {
        details: issues.map((i) => `${i.parameter}: ${i.problem}`).join("\n"),
      },
    );
    this.issues = issues;
  }
}

/** The constructor argument `name` of `contract` (its type, and its fields for a struct). */
export function constructorInput(contract: SuiteContract, name: string): ParamType {
  const input = INTERFACES[contract].deploy.inputs.find((i) => i.name === name);
  if (input === undefined) {
    throw new StrataError("INVALID_ARGUMENT", `${contract} has no constructor argument "${name}"`, {
      details: "the parameter table of deploy/lib/parameters.ts no longer matches the compiled contracts",
    });
  }
  return input;
}

/** The largest value a Solidity `uintN` holds. */
export function uintMax(type: string): bigint {
  const match = /^uint(\d*)$/.exec(type);
  if (match === null) throw new StrataError("INVALID_ARGUMENT", `not an unsigned integer type: ${type}`);
  return (1n << BigInt(match[1] === "" || match[1] === undefined ? 256 : Number(match[1]))) - 1n;
}

// ------------------------------------------------------------------ loading and static checks

/** How the shipped testnet files mark an address that must be filled in. */
const PLACEHOLDER_PREFIX = "REPLACE_WITH_";

/**
 * Read a parameter file in Ignition's format (`{ "<module id>": { ... } }`, values above 2^53 as "<digits>n") and
 * check it: exactly one suite module, every parameter present and no unknown one (Ignition would silently use a
 * default or ignore it), whole numbers that fit their Solidity types, well-formed non-zero addresses, and no
 * placeholder left. Throws FILE_NOT_FOUND or PARAMETERS_INVALID (a ParameterFileError listing every issue).
 */
export async function loadParameterFile(source: string): Promise<ParameterFile> {
  try {
    await access(source);
  } catch (cause) {
    throw new StrataError("FILE_NOT_FOUND", `cannot read the parameter file ${source}`, { cause });
  }
  let parsed: unknown;
  try {
    // Ignition's own reader (JSON5, "123n" strings as bigints): the file means here what it means to Ignition.
    parsed = await readDeploymentParameters(source);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ParameterFileError(source, [{ parameter: "(file)", problem: `not valid JSON: ${reason}` }]);
  }
  return parseParameterFile(parsed, source);
}

/** The checks of loadParameterFile on an already parsed file. */
export function parseParameterFile(parsed: unknown, source: string): ParameterFile {
  const envelope = (problem: string): never => {
    throw new ParameterFileError(source, [{ parameter: "(file)", problem }]);
  };
  if (!isRecord(parsed)) return envelope("must be a JSON object keyed by the Ignition module id");
  const modules = Object.keys(parsed);
  const module = modules[0];
  if (modules.length !== 1 || (module !== "StrataLocal" && module !== "StrataNetwork")) {
    return envelope(
      `must have exactly one top-level key, "StrataLocal" or "StrataNetwork" (found ${modules.map((m) => JSON.stringify(m)).join(", ") || "none"})`,
    );
  }
  const result = parameterSchema(module).safeParse(parsed[module]);
  if (!result.success) {
    const issues = fieldProblems(result.error, [module]).map(({ path, problem }) => ({
      // Paths name the parameter inside the module's object: `market.proofWindow`, `proposers[0]`.
      parameter: path.slice(module.length + 1) || module,
      problem,
    }));
    throw new ParameterFileError(source, issues);
  }
  const { governance, values } = result.data;
  const warnings: string[] = [];
  if (values.timelockDelay === 0n)
    warnings.push("timelockDelay is 0: governance changes take effect the moment they are scheduled");
  return {
    source,
    module,
    ignition: parsed as DeploymentParameters,
    values,
    ...(governance === undefined ? {} : { governance }),
    warnings,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ------------------------------------------------------------------ the schema of a module's parameters

const MISSING = "missing: every parameter must be set in the file";

/**
 * A Solidity `uintN` constructor argument: a safe JSON integer, or a bigint (Ignition reads "<digits>n" as
 * one), that fits the type.
 */
function solidityUint(type: string) {
  const max = uintMax(type);
  return z.unknown().transform((value, ctx) => {
    let n: bigint | undefined;
    if (typeof value === "bigint") n = value;
    else if (typeof value === "number" && Number.isSafeInteger(value)) n = BigInt(value);
    if (value === undefined) ctx.addIssue({ code: "custom", message: MISSING });
    else if (n === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `must be a whole number (got ${JSON.stringify(value)}); write values above 2^53 as "<digits>n"`,
      });
    } else if (n < 0n || n > max) {
      ctx.addIssue({ code: "custom", message: `${n} does not fit the contract's ${type} (0 to ${max})` });
    }
    return n ?? 0n;
  });
}

/** A governance address: no placeholder left, well-formed (checksum when mixed case), non-zero unless allowed. */
function governanceAddress(zeroAllowed: boolean) {
  return z
    .string(expected("must be an address string"))
    .trim()
    .superRefine((value, ctx) => {
      const text: string = value;
      const problem = text.startsWith(PLACEHOLDER_PREFIX)
        ? `placeholder "${text}" must be replaced by a real address (see docs/DEPLOYING.md)`
        : !isAddress(value)
          ? `"${text}" is not an address (or its checksum is wrong)`
          : !zeroAllowed && getAddress(value) === ZeroAddress
            ? "must not be the zero address"
            : undefined;
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    })
    .transform((value) => getAddress(value));
}

function addressList(zeroAllowed: boolean) {
  return z
    .array(governanceAddress(zeroAllowed), expected("must be a non-empty list of addresses"))
    .min(1, "must be a non-empty list of addresses");
}

/** A key StrataLocal refuses: it deploys its own test token and governs with the deployer. */
const notForLocal = z
  .undefined(
    "StrataLocal deploys its own test token and governs with the deployer; use StrataNetwork for this",
  )
  .optional();

/**
 * The parameters of one suite module, built from the contracts' constructor ABIs: every scalar and struct field
 * present, no unknown one (Ignition would silently use a default or ignore it), each fitting its Solidity type;
 * StrataNetwork also names its governance.
 */
function parameterSchema(module: SuiteModuleId) {
  const scalars = Object.fromEntries(
    SCALAR_PARAMETER_NAMES.map((name) => {
      const [contract, input] = SCALAR_PARAMETERS[name];
      return [name, solidityUint(constructorInput(contract, input).type)];
    }),
  );
  const structs = Object.fromEntries(
    STRUCT_PARAMETER_NAMES.map((name) => {
      const [contract, input] = STRUCT_PARAMETERS[name];
      const fields = constructorInput(contract, input).components ?? [];
      const shape = Object.fromEntries(fields.map((field) => [field.name, solidityUint(field.type)]));
      return [
        name,
        z.strictObject(shape, {
          error: (issue) => (issue.input === undefined ? MISSING : "must be an object"),
        }),
      ];
    }),
  );
  const governance =
    module === "StrataNetwork"
      ? {
          token: governanceAddress(false),
          proposers: addressList(false),
          executors: addressList(true),
          treasury: governanceAddress(false),
        }
      : Object.fromEntries(GOVERNANCE_KEYS.map((key) => [key, notForLocal]));
  return z
    .strictObject({ ...scalars, ...structs, ...governance }, expected("must be an object of parameters"))
    .transform((body: Record<string, unknown>) => ({
      values: Object.fromEntries(
        [...SCALAR_PARAMETER_NAMES, ...STRUCT_PARAMETER_NAMES].map((name) => [name, body[name]]),
      ) as SuiteParameters,
      governance:
        module === "StrataNetwork"
          ? ({
              token: body.token,
              proposers: body.proposers,
              executors: body.executors,
              treasury: body.treasury,
            } as Governance)
          : undefined,
    }));
}

/**
 * Checks that need the target network: no Hardhat development account (their keys are public) governs a
 * deployment outside a local chain, the token is a contract there, and StrataLocal (a token anyone holding the
 * deployer key can mint) is only deployed to a local chain.
 */
export async function checkAgainstNetwork(
  file: ParameterFile,
  target: { chainId: bigint; getCode: (address: string) => Promise<string> },
): Promise<void> {
  const issues: ParameterIssue[] = [];
  const local = isLocalChain(target.chainId);
  if (file.module === "StrataLocal" && !local) {
    issues.push({
      parameter: "(file)",
      problem: `StrataLocal (test token, deployer-governed) is for local chains; chain ${target.chainId} needs a StrataNetwork file`,
    });
  }
  const g = file.governance;
  if (g !== undefined) {
    if (!local) {
      const dev = new Set(Array.from({ length: 20 }, (_, i) => devAccountWallet(i).address));
      const roles: [string, string][] = [
        ["token", g.token],
        ["treasury", g.treasury],
        ...g.proposers.map((a, i): [string, string] => [`proposers[${i}]`, a]),
        ...g.executors.map((a, i): [string, string] => [`executors[${i}]`, a]),
      ];
      for (const [parameter, address] of roles) {
        if (dev.has(address))
          issues.push({
            parameter,
            problem: `${address} is a Hardhat development account: its key is public`,
          });
      }
    }
    if ((await target.getCode(g.token)) === "0x")
      issues.push({ parameter: "token", problem: `no contract at ${g.token} on chain ${target.chainId}` });
  }
  if (issues.length > 0) throw new ParameterFileError(file.source, issues);
}
