import { expect } from "chai";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startAgentFromConfigFile } from "../../offchain/agent/main.js";
import { silentLogger } from "../../offchain/runtime/logger.js";
import { RpcProvider } from "../../offchain/runtime/rpc/provider.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { startRpcBridge } from "../cli/helpers/inProcessChain.js";
import type { TestServer } from "../cli/helpers/httpServer.js";
import { deployStorage, registerProvider, type StorageFixture } from "../helpers/fixture.js";
import { removeTempDirs, tempDataDir } from "./helpers.js";

describe("agent process entry (startAgentFromConfigFile)", function () {
  this.timeout(60_000);
  let f: StorageFixture;
  let rpc: TestServer;

  beforeEach(async function () {
    f = await deployStorage();
    await registerProvider(f, f.provider);
    rpc = await startRpcBridge(f);
  });

  afterEach(async function () {
    await rpc.close();
  });

  after(removeTempDirs);

  async function configFile(key: unknown, extra: Record<string, unknown> = {}): Promise<string> {
    const dataDir = await tempDataDir();
    const path = join(dataDir, "agent.json");
    await writeFile(
      path,
      JSON.stringify({
        rpcUrl: rpc.url,
        deployment: {
          market: await f.market.getAddress(),
          registry: await f.registry.getAddress(),
          token: await f.token.getAddress(),
        },
        key,
        dataDir,
        listen: { host: "127.0.0.1", port: 0 },
        publicEndpoint: "http://127.0.0.1:7999",
        logLevel: "silent",
        ...extra,
      }),
    );
    return path;
  }

  it("runs on the runtime's size-capped, retrying transport with the dev account allowed on chain 31337", async function () {
    const started = await startAgentFromConfigFile(await configFile({ account: 2 }), {
      logger: silentLogger(),
    });
    try {
      expect(started.provider).to.be.instanceOf(RpcProvider);
      expect(started.agent.address()).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(started.agent.context.chain.me).to.equal(f.provider.address);
    } finally {
      await started.stop();
    }
    const error = await started.agent.start().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StrataError).with.property("code", "SERVICE_STOPPED");
  });

  it("KEY_MISSING when the configured key variable is unset (the runtime's key rule)", async function () {
    const path = await configFile({ env: "STRATA_TEST_AGENT_KEY" });
    const error = await startAgentFromConfigFile(path, { logger: silentLogger(), env: {} }).catch(
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(StrataError).with.property("code", "KEY_MISSING");
  });

  it("reads a configuration without tokenDecimals in the token's decimals from the chain", async function () {
    const path = await configFile({ account: 2 }, { policy: { pricePerTiBMonth: "3.25" } });
    const started = await startAgentFromConfigFile(path, { logger: silentLogger() });
    try {
      const { config } = started.agent.context;
      expect(config.tokenDecimals).to.equal(Number(await f.token.decimals()));
      expect(config.policy.pricePerTiBMonth).to.equal(3_250_000n);
    } finally {
      await started.stop();
    }
  });

  it("CONFIG_TOKEN_DECIMALS when the token's decimals cannot be read", async function () {
    const path = await configFile({ account: 2 });
    // An address without code answers decimals() with nothing.
    const error = await startAgentFromConfigFile(path, {
      logger: silentLogger(),
      overrides: { deployment: { token: f.others[0]?.address ?? "" } },
    }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StrataError).with.property("code", "CONFIG_TOKEN_DECIMALS");
  });

  it("CONFIG_TOKEN_DECIMALS when the amounts are written for other decimals than the token's", async function () {
    // "2.5" tokens of 18 decimals would be 2.5e18 base units of the 6-decimal stablecoin: refused, not misread.
    const path = await configFile({ account: 2 }, { tokenDecimals: 18 });
    const error = await startAgentFromConfigFile(path, { logger: silentLogger() }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StrataError).with.property("code", "CONFIG_TOKEN_DECIMALS");
    expect((error as StrataError).details).to.include('"tokenDecimals": 6');
  });
});
