// Helpers of the agent's compute tests (test/agent/compute*.test.ts) and the `strata lease` CLI tests.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { Agent } from "../../offchain/agent/agent.js";
import type { ConfigOverrides } from "../../offchain/agent/config.js";
import { formatTokens } from "../../offchain/agent/configSchema.js";
import {
  requestToChain,
  type ComputeResources,
  type OrderRequest,
} from "../../offchain/sdk/compute/orders.js";
import {
  canonicalJson,
  workloadHash,
  type WorkloadDescription,
} from "../../offchain/sdk/compute/workload.js";
import { registerProvider, USDC, type StorageFixture } from "../helpers/fixture.js";
import { agentConfig, startTestAgent, type InjectedResponse } from "./helpers.js";

export const HEARTBEAT = 60n;
export const COLLATERAL = 5n * USDC;
/** Order resources of the tests: cost 250 × 0.01 + 256 × 0.001 = 2.756 -> 3/s, bid 3 × 1.2 = 3.6 -> 4/s. */
export const RESOURCES: ComputeResources = {
  cpuMillicores: 250,
  memoryMiB: 256,
  storageGiB: 0,
  gpuCount: 0,
  gpuModel: "",
  region: "",
};
export const BID_PRICE = 4n;

/** A node workload that prints a line every 100 ms until stopped. */
export const ALIVE: WorkloadDescription = {
  version: 2,
  services: {
    main: {
      run: { kind: "node", script: "setInterval(() => console.log('alive'), 100);" },
      resources: { cpuMillicores: 250, memoryMiB: 256 },
      restart: "on-failure",
    },
  },
};

/** Agent configuration overrides enabling compute on the fixture's compute market. */
export async function computeOverrides(
  f: StorageFixture,
  compute: NonNullable<ConfigOverrides["compute"]> = {},
): Promise<ConfigOverrides> {
  return {
    deployment: { computeMarket: await f.compute.getAddress() },
    compute: {
      enabled: true,
      pricePerMillicoreSecond: "0.00000001",
      pricePerMiBSecond: "0.000000001",
      pricePerStorageGiBSecond: "0",
      minMarginBps: 2000,
      collateralPerLease: formatTokens(COLLATERAL, 6),
      noticeWindowSeconds: 120,
      maxConcurrentLeases: 4,
      capacity: { cpuMillicores: 2000, memoryMiB: 4096, storageGiB: 10, gpus: {} },
      minFundedSeconds: 60,
      settleEverySeconds: 60,
      ...compute,
      runtime: { stopGraceMs: 500, sampleMs: 200, ...compute.runtime },
    },
  };
}

/** A compute agent for `signer` (the fixture's provider by default), not started: tests call `tick()`. */
export async function startComputeAgent(
  f: StorageFixture,
  options: {
    signer?: HardhatEthersSigner;
    compute?: NonNullable<ConfigOverrides["compute"]>;
    dataDir?: string;
  } = {},
): Promise<Agent> {
  const config = await agentConfig(f, await computeOverrides(f, options.compute), options.dataDir);
  return startTestAgent(f, { config, ...(options.signer ? { signer: options.signer } : {}) });
}

/** Register and stake the fixture's providers; give the client tokens approved to the compute market. */
export async function computeParties(f: StorageFixture): Promise<void> {
  await registerProvider(f, f.provider);
  await registerProvider(f, f.provider2);
  await f.token.mint(f.client.address, 1_000n * USDC);
  await f.token.connect(f.client).approve(await f.compute.getAddress(), 1_000n * USDC);
}

/** An order request for `workload` (defaults: RESOURCES, max 10/s, deposit = bounty + 1 hour at max). */
export async function makeOrder(
  f: StorageFixture,
  workload: WorkloadDescription,
  overrides: Partial<Omit<OrderRequest, "resources">> & { resources?: Partial<ComputeResources> } = {},
): Promise<OrderRequest> {
  const closeBounty = (await f.compute.parameters()).closeBounty;
  const now = BigInt(await f.helpers.time.latest());
  const { resources, ...rest } = overrides;
  return {
    resources: { ...RESOURCES, ...resources },
    workloadHash: workloadHash(workload),
    maxPricePerSecond: 10n,
    deposit: closeBounty + 10n * 3600n,
    duration: 0n,
    expiresAt: now + 3600n,
    minCollateral: 0n,
    minNoticeWindow: 0n,
    ...rest,
  };
}

/** Post an order as `tenant` (default: the fixture client); returns its id. */
export async function postOrder(
  f: StorageFixture,
  request: OrderRequest,
  tenant: HardhatEthersSigner = f.client,
): Promise<bigint> {
  await (await f.compute.connect(tenant).createOrder(requestToChain(request))).wait();
  return f.compute.lastOrderId();
}

export async function putWorkload(
  agent: Agent,
  workload: unknown,
  hash = workloadHash(workload as WorkloadDescription),
): Promise<InjectedResponse> {
  return agent.app.inject({
    method: "PUT",
    url: `/v1/workloads/${hash}`,
    headers: { "content-type": "application/json" },
    payload: typeof workload === "string" ? workload : canonicalJson(workload),
  });
}

export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}
