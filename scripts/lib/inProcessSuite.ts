/**
 * The storage and compute suite deployed on an in-process Hardhat network, with the helpers that drive it
 * (register, fund, sign data-set terms and states, enter proof windows, answer challenges). Used by the gas
 * benchmark (scripts/bench) and, through test/helpers/fixture.ts, by the tests. Deploys only contracts the
 * local deployment ships (no mocks).
 */
import { network } from "hardhat";
import {
  DEFAULT_MAX_RETRIEVAL_BOND,
  LOCAL_MARKET_PARAMETERS,
  LOCAL_RETRIEVAL_PARAMETERS,
} from "../../deploy/lib/storageSuite.js";
import {
  DEFAULT_MAX_CLOSE_BOUNTY,
  DEFAULT_MAX_MISSED_HEARTBEAT_PENALTY,
  LOCAL_COMPUTE_PARAMETERS,
} from "../../deploy/lib/computeSuite.js";
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkHelpers } from "@nomicfoundation/hardhat-network-helpers/types";
import { createHash, randomBytes } from "node:crypto";
import type {
  ComputeMarket,
  ProviderRegistry,
  RetrievalChallenges,
  StorageMarket,
  TestStablecoin,
} from "../../typechain-types/index.js";
import type { IComputeMarket } from "../../typechain-types/interfaces/IComputeMarket.js";
import type { IRetrievalChallenges } from "../../typechain-types/interfaces/IRetrievalChallenges.js";
import type { IStorageMarket } from "../../typechain-types/interfaces/IStorageMarket.js";
import { PieceTree } from "../../offchain/sdk/commitment/merkle.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import {
  CREATE_DATA_SET_TYPES,
  DATA_SET_STATE_TYPES,
  dataSetDomain,
} from "../../offchain/sdk/datasets/eip712.js";

export const USDC = 1_000_000n;
export const PERIOD = 3600n;

export type MarketParameters = IStorageMarket.ParametersStruct;
export type RetrievalParameters = IRetrievalChallenges.ParametersStruct;
export type ComputeParameters = IComputeMarket.ParametersStruct;

export function defaultParameters(
  overrides: Partial<Record<keyof MarketParameters, bigint>> = {},
): MarketParameters {
  // The local deployment's parameters, so tests exercise what `npm run demo` deploys.
  return {
    ...LOCAL_MARKET_PARAMETERS,
    ...overrides,
  };
}

/** The local deployment's compute parameters with `overrides` applied. */
export function defaultComputeParameters(
  overrides: Partial<Record<keyof ComputeParameters, bigint>> = {},
): ComputeParameters {
  return { ...LOCAL_COMPUTE_PARAMETERS, ...overrides };
}

export interface StorageFixture {
  ethers: HardhatEthers;
  helpers: NetworkHelpers;
  token: TestStablecoin;
  registry: ProviderRegistry;
  market: StorageMarket;
  /** Retrieval challenges on `market`'s data sets (holds the market's RETRIEVAL_ROLE). */
  retrievalChallenges: RetrievalChallenges;
  /** The compute market on the same registry (holds MARKET_ROLE there too). */
  compute: ComputeMarket;
  admin: HardhatEthersSigner;
  treasury: HardhatEthersSigner;
  provider: HardhatEthersSigner;
  provider2: HardhatEthersSigner;
  client: HardhatEthersSigner;
  client2: HardhatEthersSigner;
  watcher: HardhatEthersSigner;
  others: HardhatEthersSigner[];
  chainId: bigint;
}

/** Deploy the storage suite with the deployer as admin (governance goes through the timelock in deploy/). */
export interface DeployOptions {
  params?: MarketParameters;
  provingPeriod?: bigint;
  unbondingDelay?: bigint;
  /** Retrieval-challenge parameters (default: the local deployment's). */
  retrievalParams?: RetrievalParameters;
  /** Deployment cap on the retrieval bond (default: the deployment module's). */
  maxRetrievalBond?: bigint;
  /** Compute-market parameters (default: the local deployment's). */
  computeParams?: ComputeParameters;
  /** Deploy on a new network instead of restoring the cached deployment (for tests that need two chains). */
  fresh?: boolean;
  /**
   * Genesis time of the in-process network (default: now). The gas benchmark fixes it so that block hashes,
   * and so the challenge seeds drawn from them, are the same in every run.
   */
  initialDate?: string;
}

const deployments = new Map<string, { fixture: StorageFixture; restore: () => Promise<void> }>();

/**
 * The storage suite with the deployer as admin (governance goes through the timelock in deploy/). Each set
 * of options is deployed once per test process; later calls restore a snapshot taken right after that
 * deployment, so every caller starts from the same fresh state at a fraction of the cost.
 */
export async function deployStorage(options: DeployOptions = {}): Promise<StorageFixture> {
  const key = JSON.stringify({ ...options, fresh: undefined }, (_k, v: unknown) =>
    typeof v === "bigint" ? v.toString() : v,
  );
  const cached = options.fresh === true ? undefined : deployments.get(key);
  if (cached) {
    await cached.restore();
    return cached.fixture;
  }
  const fixture = await deployStorageFresh(options);
  const snapshot = await fixture.helpers.takeSnapshot();
  if (options.fresh !== true) deployments.set(key, { fixture, restore: () => snapshot.restore() });
  return fixture;
}

async function deployStorageFresh(options: DeployOptions): Promise<StorageFixture> {
  const { ethers, networkHelpers } = await network.create(
    options.initialDate === undefined ? undefined : { override: { initialDate: options.initialDate } },
  );
  const [admin, treasury, provider, provider2, client, client2, watcher, ...others] =
    await ethers.getSigners();
  if (!admin || !treasury || !provider || !provider2 || !client || !client2 || !watcher) {
    throw new StrataError("INTERNAL_INVARIANT", "not enough signers");
  }
  const token = await ethers.deployContract("TestStablecoin", [admin.address]);
  const registry = await ethers.deployContract("ProviderRegistry", [
    await token.getAddress(),
    admin.address,
    options.unbondingDelay ?? 86_400n,
  ]);
  const market = await deployMarket(ethers, {
    registry: await registry.getAddress(),
    token: await token.getAddress(),
    admin: admin.address,
    treasury: treasury.address,
    provingPeriod: options.provingPeriod ?? PERIOD,
    params: options.params ?? defaultParameters(),
  });
  await registry.grantRole(await registry.MARKET_ROLE(), await market.getAddress());
  const retrievalChallenges = await ethers.deployContract("RetrievalChallenges", [
    await market.getAddress(),
    admin.address,
    options.maxRetrievalBond ?? DEFAULT_MAX_RETRIEVAL_BOND,
    options.retrievalParams ?? LOCAL_RETRIEVAL_PARAMETERS,
  ]);
  await market.grantRole(await market.RETRIEVAL_ROLE(), await retrievalChallenges.getAddress());
  const compute = await deployComputeMarket(ethers, {
    registry: await registry.getAddress(),
    token: await token.getAddress(),
    admin: admin.address,
    treasury: treasury.address,
    params: options.computeParams ?? defaultComputeParameters(),
  });
  await registry.grantRole(await registry.MARKET_ROLE(), await compute.getAddress());
  const chainId = (await ethers.provider.getNetwork()).chainId;
  return {
    ethers,
    helpers: networkHelpers,
    token,
    registry,
    market,
    retrievalChallenges,
    compute,
    admin,
    treasury,
    provider,
    provider2,
    client,
    client2,
    watcher,
    others,
    chainId,
  };
}

export async function deployMarket(
  ethers: HardhatEthers,
  args: {
    registry: string;
    token: string;
    admin: string;
    treasury: string;
    provingPeriod: bigint;
    params: MarketParameters;
    maxMissedProofPenalty?: bigint;
  },
): Promise<StorageMarket> {
  const libraries = await deployMarketLibraries(ethers);
  const factory = await ethers.getContractFactory("StorageMarket", { libraries });
  const market = await factory.deploy(
    args.registry,
    args.token,
    args.admin,
    args.treasury,
    args.provingPeriod,
    args.maxMissedProofPenalty ?? 100n * USDC,
    args.params,
  );
  await market.waitForDeployment();
  return market;
}

/** Deploy a compute market (and its linked parameter library); the caller grants it MARKET_ROLE. */
export async function deployComputeMarket(
  ethers: HardhatEthers,
  args: {
    registry: string;
    token: string;
    admin: string;
    treasury: string;
    params: ComputeParameters;
    maxMissedHeartbeatPenalty?: bigint;
    maxCloseBounty?: bigint;
  },
): Promise<ComputeMarket> {
  const lib = await ethers.deployContract("ComputeParams");
  const factory = await ethers.getContractFactory("ComputeMarket", {
    libraries: { ComputeParams: await lib.getAddress() },
  });
  const compute = await factory.deploy(
    args.registry,
    args.token,
    args.admin,
    args.treasury,
    args.maxMissedHeartbeatPenalty ?? DEFAULT_MAX_MISSED_HEARTBEAT_PENALTY,
    args.maxCloseBounty ?? DEFAULT_MAX_CLOSE_BOUNTY,
    args.params,
  );
  await compute.waitForDeployment();
  return compute;
}

export async function deployMarketLibraries(ethers: HardhatEthers): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  // Every library stands alone (libraries inline each other's internal helpers), so they deploy side by side.
  for (const name of [
    "StorageParams",
    "DataSetAccrual",
    "ProviderEpochs",
    "DataSetProving",
    "DataSetClosing",
    "MarketViews",
    "DataSetUpdates",
    "ProofBond",
  ]) {
    out[name] = await (await ethers.deployContract(name)).getAddress();
  }
  return out;
}

/** Register `who` as a provider and stake `amount`. */
export async function registerProvider(f: StorageFixture, who: HardhatEthersSigner, amount = 10_000n * USDC) {
  await f.registry
    .connect(who)
    .register(who.address, `http://127.0.0.1:9000/${who.address}`, 1n << 40n, 2n * USDC);
  await f.token.mint(who.address, amount);
  await f.token.connect(who).approve(await f.registry.getAddress(), amount);
  await f.registry.connect(who).stake(who.address, amount);
}

/** Give `client` tokens and approve the market. */
export async function fundClient(f: StorageFixture, client: HardhatEthersSigner, amount = 1_000_000n * USDC) {
  await f.token.mint(client.address, amount);
  await f.token.connect(client).approve(await f.market.getAddress(), amount);
}

export interface PieceData {
  data: Uint8Array;
  tree: PieceTree;
}

export function randomPiece(size: number): PieceData {
  const data = Uint8Array.from(randomBytes(size));
  return { data, tree: PieceTree.build(data) };
}

let nonceCounter = 1n;

/** The market's EIP-712 domain (the SDK's definition, so tests sign exactly what clients sign). */
export async function marketDomain(f: StorageFixture) {
  return dataSetDomain(f.chainId, await f.market.getAddress());
}

export { CREATE_DATA_SET_TYPES as CREATE_TYPES, DATA_SET_STATE_TYPES as STATE_TYPES };

export type CreateTerms = IStorageMarket.CreateDataSetStruct & {
  client: string;
  provider: string;
  pricePerTiBMonth: bigint;
  collateralPerTiB: bigint;
  noticePeriods: bigint;
  nonce: bigint;
  deadline: bigint;
};

/** Signed creation terms (defaults: 2.5 tokens per TiB-month, 100 tokens collateral per TiB, 2 periods notice). */
export async function makeTerms(
  f: StorageFixture,
  opts: {
    client?: HardhatEthersSigner;
    provider?: HardhatEthersSigner;
    pricePerTiBMonth?: bigint;
    collateralPerTiB?: bigint;
    noticePeriods?: bigint;
    nonce?: bigint;
    deadline?: bigint;
  } = {},
): Promise<{ terms: CreateTerms; signature: string }> {
  const client = opts.client ?? f.client;
  const now = BigInt(await f.helpers.time.latest());
  const terms: CreateTerms = {
    client: client.address,
    provider: (opts.provider ?? f.provider).address,
    pricePerTiBMonth: opts.pricePerTiBMonth ?? (5n * USDC) / 2n,
    collateralPerTiB: opts.collateralPerTiB ?? 100n * USDC,
    noticePeriods: opts.noticePeriods ?? 2n,
    nonce: opts.nonce ?? nonceCounter++,
    deadline: opts.deadline ?? now + 3600n,
  };
  const signature = await client.signTypedData(await marketDomain(f), CREATE_DATA_SET_TYPES, terms);
  return { terms, signature };
}

/** Create a data set; returns its id. */
export async function createDataSet(
  f: StorageFixture,
  opts: Parameters<typeof makeTerms>[1] = {},
): Promise<bigint> {
  const provider = opts.provider ?? f.provider;
  const { terms, signature } = await makeTerms(f, opts);
  await (await f.market.connect(provider).createDataSet(terms, signature)).wait();
  return await f.market.dataSetCount();
}

/** A signed state for `id`. */
export async function signState(
  f: StorageFixture,
  signer: HardhatEthersSigner,
  state: { dataSetId: bigint; version: bigint; root: string; span: bigint },
): Promise<IStorageMarket.SignedStateStruct> {
  const signature = await signer.signTypedData(await marketDomain(f), DATA_SET_STATE_TYPES, state);
  return { state, signer: signer.address, signature };
}

/**
 * A data set tree whose leaves in [0, span) all hold the same 64 bytes (`fill`) and whose leaves beyond the span are
 * zero, as the data set commitment pads them: its root and paths are real SHA-256 Merkle paths at the real depth,
 * computed over uniform and zero subtrees in O(depth) without materialising the leaves.
 */
export class UniformTree {
  readonly depth: number;
  readonly root: string;
  private readonly uniform: Buffer[] = [];
  private readonly zero: Buffer[] = [];
  private readonly memo = new Map<string, Buffer>();

  constructor(
    readonly span: bigint,
    readonly fill: Buffer,
  ) {
    if (fill.length !== 64) throw new StrataError("INVALID_ARGUMENT", "a leaf is 64 bytes");
    let depth = 0;
    while (1n << BigInt(depth) < span) depth++;
    this.depth = depth;
    this.uniform.push(sha256(fill));
    this.zero.push(sha256(Buffer.alloc(64)));
    for (let i = 0; i < depth; i++) {
      const u = need(this.uniform[i], "level");
      const z = need(this.zero[i], "level");
      this.uniform.push(sha256(Buffer.concat([u, u])));
      this.zero.push(sha256(Buffer.concat([z, z])));
    }
    this.root = span === 0n ? ethersZeroHash : "0x" + this.node(depth, 0n).toString("hex");
  }

  /** A fresh tree with `span` leaves of a random fill. */
  static random(span: bigint): UniformTree {
    return new UniformTree(span, randomBytes(64));
  }

  node(level: number, index: bigint): Buffer {
    const start = index << BigInt(level);
    const end = start + (1n << BigInt(level));
    if (end <= this.span) return need(this.uniform[level], "level");
    if (start >= this.span) return need(this.zero[level], "level");
    const key = `${level}:${index}`;
    const hit = this.memo.get(key);
    if (hit) return hit;
    const out = sha256(
      Buffer.concat([this.node(level - 1, 2n * index), this.node(level - 1, 2n * index + 1n)]),
    );
    this.memo.set(key, out);
    return out;
  }

  /** The 64-byte leaf as two words. */
  leaf(index: bigint): [string, string] {
    const bytes = index < this.span ? this.fill : Buffer.alloc(64);
    return ["0x" + bytes.subarray(0, 32).toString("hex"), "0x" + bytes.subarray(32).toString("hex")];
  }

  /** Sibling hashes of leaf `index`, bottom up. */
  path(index: bigint): string[] {
    const out: string[] = [];
    for (let level = 0; level < this.depth; level++) {
      out.push("0x" + this.node(level, (index >> BigInt(level)) ^ 1n).toString("hex"));
    }
    return out;
  }
}

const ethersZeroHash = "0x" + "00".repeat(32);

/** `value`, or a thrown error naming what was missing. */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new StrataError("INTERNAL_INVARIANT", `missing ${what}`);
  return value;
}

function sha256(data: Buffer): Buffer {
  return createHash("sha256").update(data).digest();
}

const versions = new Map<bigint, bigint>();

/** Sign (by the client, or `signer`) and submit the next version of `id` holding `tree`. */
export async function putState(
  f: StorageFixture,
  id: bigint,
  tree: UniformTree,
  opts: { provider?: HardhatEthersSigner; signer?: HardhatEthersSigner; version?: bigint } = {},
) {
  const version = opts.version ?? (await f.market.dataSet(id)).version + 1n;
  versions.set(id, version);
  const signed = await signState(f, opts.signer ?? f.client, {
    dataSetId: id,
    version,
    root: tree.root,
    span: tree.span,
  });
  return f.market.connect(opts.provider ?? f.provider).updateDataSets([signed]);
}

/** Add `amount` to `id`'s escrow from `from`'s allowance. */
export async function topUp(
  f: StorageFixture,
  id: bigint,
  amount: bigint,
  from: HardhatEthersSigner = f.client,
) {
  await f.token.mint(from.address, amount);
  await f.token.connect(from).approve(await f.market.getAddress(), amount);
  await (await f.market.connect(from).topUp(id, amount)).wait();
}

/** Move time into the proof window of `period` and mine enough blocks for the seed. */
export async function enterProofWindow(f: StorageFixture, period: bigint) {
  const end = await f.market.periodStart(period + 1n);
  const window = (await f.market.parameters()).proofWindow;
  const now = BigInt(await f.helpers.time.latest());
  if (now < end - window) await f.helpers.time.increaseTo(end - window);
  await f.helpers.mine(3);
}

/** Build the answers to `provider`'s current challenges from the trees it holds. */
export async function buildAnswers(
  f: StorageFixture,
  provider: string,
  trees: Map<bigint, UniformTree>,
): Promise<IStorageMarket.ChallengeAnswerStruct[]> {
  const drawn = await f.market.challengesFor(provider);
  return drawn.map((c) => {
    if (c.declared) return { leaf: [ethersZeroHash, ethersZeroHash], path: [] };
    const tree = trees.get(c.dataSetId);
    if (!tree) throw new StrataError("INTERNAL_INVARIANT", `no tree for challenged data set ${c.dataSetId}`);
    return { leaf: tree.leaf(c.leaf), path: tree.path(c.leaf) };
  });
}

/** Prove `provider`'s next period with the trees it holds (the frozen ones). */
export async function proveNext(
  f: StorageFixture,
  provider: HardhatEthersSigner,
  trees: Map<bigint, UniformTree>,
) {
  const period = (await f.market.proofState(provider.address)).nextPeriod;
  await enterProofWindow(f, period);
  const answers = await buildAnswers(f, provider.address, trees);
  return f.market.connect(provider).submitProof(period, answers);
}
