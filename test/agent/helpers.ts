import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { Response as LightMyRequestResponse } from "light-my-request";
import { createAgent, type Agent } from "../../offchain/agent/agent.js";
import { proposalToJson } from "../../offchain/agent/codec.js";
import { parseConfig, type AgentConfig, type ConfigOverrides } from "../../offchain/agent/config.js";
import { createLogger, silentLogger } from "../../offchain/runtime/logger.js";
import type { DealProposal } from "../../offchain/sdk/deals/terms.js";
import type { StorageFixture } from "../helpers/fixture.js";

/** Agent logs are silent unless STRATA_TEST_LOG names a level (e.g. STRATA_TEST_LOG=debug). */
const testLogger = () =>
  process.env.STRATA_TEST_LOG
    ? createLogger({ name: "strata-agent", level: process.env.STRATA_TEST_LOG })
    : silentLogger();

const dataDirs: string[] = [];

export async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "strata-agent-test-"));
  dataDirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  for (const dir of dataDirs.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** A validated agent configuration for the fixture's deployment (policy loose enough for makeProposal). */
export async function agentConfig(
  f: StorageFixture,
  overrides: ConfigOverrides = {},
  dataDir?: string,
): Promise<AgentConfig> {
  return parseConfig(
    {
      deployment: {
        market: await f.market.getAddress(),
        registry: await f.registry.getAddress(),
        token: await f.token.getAddress(),
      },
      key: { account: 2 },
      dataDir: dataDir ?? (await tempDataDir()),
      listen: { host: "127.0.0.1", port: 0 },
      publicEndpoint: "http://127.0.0.1:7999",
      policy: { collateralPerGiB: String(10n ** 18n), minStartDeadlineSeconds: 60 },
      settleEveryPeriods: 1,
      logLevel: "silent",
    },
    { overrides },
  );
}

/** An agent for `signer` (the fixture's provider by default) on the fixture's chain. */
export async function startTestAgent(
  f: StorageFixture,
  options: { config?: AgentConfig; overrides?: ConfigOverrides; signer?: HardhatEthersSigner } = {},
): Promise<Agent> {
  const config = options.config ?? (await agentConfig(f, options.overrides));
  return createAgent({
    config,
    signer: options.signer ?? f.provider,
    provider: f.ethers.provider,
    logger: testLogger(),
  });
}

/** What `app.inject()` resolves to (fastify's own injection library). */
export type InjectedResponse = LightMyRequestResponse;

export async function postProposal(
  agent: Agent,
  proposal: DealProposal,
  signature: string,
): Promise<InjectedResponse> {
  return agent.app.inject({
    method: "POST",
    url: "/v1/deals",
    payload: { proposal: proposalToJson(proposal), signature },
  });
}

export async function putBytes(agent: Agent, uploadId: string, data: Uint8Array): Promise<InjectedResponse> {
  return agent.app.inject({
    method: "PUT",
    url: `/v1/uploads/${uploadId}`,
    headers: { "content-type": "application/octet-stream" },
    payload: Buffer.from(data),
  });
}

/** POST a proposal and PUT its bytes; returns the upload id (asserting both succeeded). */
export async function storeOverHttp(
  agent: Agent,
  signed: { proposal: DealProposal; signature: string; piece: { data: Uint8Array } },
): Promise<string> {
  const created = await postProposal(agent, signed.proposal, signed.signature);
  if (created.statusCode !== 201) throw new Error(`POST /v1/deals: ${created.statusCode} ${created.body}`);
  const { uploadId } = created.json<{ uploadId: string }>();
  const put = await putBytes(agent, uploadId, signed.piece.data);
  if (put.statusCode !== 202) throw new Error(`PUT upload: ${put.statusCode} ${put.body}`);
  return uploadId;
}

export function errorCode(response: InjectedResponse): string | undefined {
  return response.json<{ error?: { code?: string } }>().error?.code;
}
