import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { Response as LightMyRequestResponse } from "light-my-request";
import { createAgent, type Agent } from "../../offchain/agent/agent.js";
import { parseConfig, type AgentConfig, type ConfigOverrides } from "../../offchain/agent/config.js";
import { createLogger, silentLogger } from "../../offchain/runtime/logger.js";
import {
  createDataSetSchema,
  dataSetStateSchema,
  type SizedPlacedPiece,
} from "../../offchain/sdk/api/datasets.js";
import {
  layoutSpan,
  pieceHeight,
  placePiece,
  removePiece,
  type DataSetLayout,
} from "../../offchain/sdk/datasets/placement.js";
import { dataSetRoot } from "../../offchain/sdk/datasets/tree.js";
import { formatTokens } from "../../offchain/agent/configSchema.js";
import {
  makeTerms,
  marketDomain,
  need,
  STATE_TYPES,
  USDC,
  type PieceData,
  type StorageFixture,
} from "../helpers/fixture.js";

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

/** A validated agent configuration for the fixture's deployment (its offer = makeTerms' defaults). */
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
      policy: {
        // In tokens, as the file takes them (the fixture's stablecoin has 6 decimals).
        pricePerTiBMonth: formatTokens((5n * USDC) / 2n, 6),
        collateralPerTiB: formatTokens(100n * USDC, 6),
        noticePeriods: 2,
      },
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

/** POST the client's signed creation terms (fixture defaults = the test agent's offer); returns the data set id. */
export async function openDataSetOverHttp(
  agent: Agent,
  f: StorageFixture,
  opts: Parameters<typeof makeTerms>[1] = {},
): Promise<bigint> {
  const { terms, signature } = await makeTerms(f, opts);
  const response = await agent.app.inject({
    method: "POST",
    url: "/v1/datasets",
    payload: { terms: createDataSetSchema.encode(terms), signature },
  });
  if (response.statusCode !== 201)
    throw new Error(`POST /v1/datasets: ${response.statusCode} ${response.body}`);
  return BigInt(response.json<{ dataSetId: string }>().dataSetId);
}

export async function putPiece(
  agent: Agent,
  id: bigint,
  root: string,
  data: Uint8Array,
): Promise<InjectedResponse> {
  return agent.app.inject({
    method: "PUT",
    url: `/v1/datasets/${id}/pieces/${root}`,
    headers: { "content-type": "application/octet-stream" },
    payload: Buffer.from(data),
  });
}

/** The client's view of one data set it keeps with the test agent: its layout and version. */
export interface ClientDataSet {
  id: bigint;
  layout: SizedPlacedPiece[];
  version: bigint;
}

/** The next signed state of `set` with `add` appended and the pieces at `remove` taken out (not yet sent). */
export async function nextState(
  f: StorageFixture,
  set: ClientDataSet,
  change: { add?: PieceData[]; remove?: number[] },
  signer: HardhatEthersSigner = f.client,
) {
  let layout: DataSetLayout = { pieces: set.layout };
  for (const offset of change.remove ?? []) layout = removePiece(layout, offset);
  const added: SizedPlacedPiece[] = [];
  for (const piece of change.add ?? []) {
    const placed = placePiece(layout, piece.tree.root, pieceHeight(piece.data.length));
    layout = placed.layout;
    added.push({ ...placed.piece, size: piece.data.length });
  }
  const sized = layout.pieces.map((p) =>
    need(
      set.layout.find((q) => q.offset === p.offset) ?? added.find((q) => q.offset === p.offset),
      `piece at ${p.offset}`,
    ),
  );
  const state = {
    dataSetId: set.id,
    version: set.version + 1n,
    root: dataSetRoot(layout),
    span: BigInt(layoutSpan(layout)),
  };
  const signature = await signer.signTypedData(await marketDomain(f), STATE_TYPES, state);
  return { state, signature, add: added, remove: change.remove ?? [], layout: sized };
}

/** Sign, POST and (on success) adopt the next state of `set`. */
export async function postState(
  agent: Agent,
  f: StorageFixture,
  set: ClientDataSet,
  change: { add?: PieceData[]; remove?: number[] },
  signer?: HardhatEthersSigner,
): Promise<InjectedResponse> {
  const next = await nextState(f, set, change, signer);
  const response = await agent.app.inject({
    method: "POST",
    url: `/v1/datasets/${set.id}/state`,
    payload: {
      state: dataSetStateSchema.encode(next.state),
      signature: next.signature,
      ...(signer === undefined || signer === f.client ? {} : { signer: signer.address }),
      add: next.add,
      remove: next.remove,
    },
  });
  if (response.statusCode === 200) {
    set.layout = next.layout;
    set.version = next.state.version;
  }
  return response;
}

/** Upload `pieces` and POST the state adding them; asserts both succeeded. */
export async function storePieces(
  agent: Agent,
  f: StorageFixture,
  set: ClientDataSet,
  pieces: PieceData[],
): Promise<void> {
  for (const piece of pieces) {
    const put = await putPiece(agent, set.id, piece.tree.root, piece.data);
    if (put.statusCode !== 201 && put.statusCode !== 200)
      throw new Error(`PUT piece: ${put.statusCode} ${put.body}`);
  }
  const posted = await postState(agent, f, set, { add: pieces });
  if (posted.statusCode !== 200) throw new Error(`POST state: ${posted.statusCode} ${posted.body}`);
}

export function errorCode(response: InjectedResponse): string | undefined {
  return response.json<{ error?: { code?: string } }>().error?.code;
}
