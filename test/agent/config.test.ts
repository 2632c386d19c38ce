import { expect } from "chai";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { configToFile, defaultConfig, loadConfig, parseConfig } from "../../offchain/agent/config.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { removeTempDirs, tempDataDir } from "./helpers.js";

const DEPLOYMENT = {
  market: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  registry: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  token: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof StrataError ? error.code : "not a StrataError";
  }
  return undefined;
}

describe("agent configuration", function () {
  after(removeTempDirs);

  it("fills defaults, checksums addresses and resolves dataDir against the file's folder", async function () {
    const dir = await tempDataDir();
    const path = join(dir, "agent.json");
    await writeFile(path, JSON.stringify({ ...defaultConfig(), deployment: DEPLOYMENT, dataDir: "./data" }));
    const config = await loadConfig(path);
    expect(config.dataDir).to.equal(join(dir, "data"));
    expect(config.deployment.market).to.equal("0x5FbDB2315678afecb367f032d93F642f64180aa3");
    expect(config.policy.pricePerTiBMonth).to.equal(2_500_000n); // 2.5 tokens of 6 decimals per TiB-month
    expect(config.policy.collateralPerTiB).to.equal(50_000_000n); // 50 tokens per TiB (docs/ECONOMICS.md)
    expect(config.policy.noticePeriods).to.equal(24);
    expect(config.updateBatchSize).to.equal(50);
    expect(config.tickMs).to.equal(2000);
    expect(config.autoRegister).to.equal(null);
    expect(configToFile(config).policy.maxPieceSize).to.equal(String(1n << 30n));
  });

  it("applies overrides over the file (nested objects merge, key sources replace)", function () {
    const config = parseConfig(
      { deployment: DEPLOYMENT, key: { account: 1 }, listen: { port: 7100 } },
      {
        overrides: {
          listen: { host: "0.0.0.0" },
          key: { env: "MY_KEY" },
          autoRegister: { capacityBytes: "1099511627776", stake: "5000000" },
          policy: { collateralPerTiB: "3" },
        },
      },
    );
    expect(config.listen).to.deep.equal({ host: "0.0.0.0", port: 7100 });
    expect(config.key).to.deep.equal({ env: "MY_KEY" });
    expect(config.autoRegister).to.deep.equal({ capacityBytes: 1n << 40n, stake: 5_000_000n });
    expect(config.policy.collateralPerTiB).to.equal(3n);
    expect(config.policy.pricePerTiBMonth).to.equal(2_500_000n);
  });

  it("reports every invalid field under CONFIG_INVALID", function () {
    let error: unknown;
    try {
      parseConfig({
        deployment: { market: "0x1234", registry: DEPLOYMENT.registry },
        listen: { host: "127.0.0.1", port: 70_000 },
        policy: { maxPieceSize: "-1" },
        tickMs: "fast",
        key: { file: "key.txt" },
        retries: 3,
      });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(StrataError);
    const strata = error as StrataError;
    expect(strata.code).to.equal("CONFIG_INVALID");
    const problems = strata.details?.split("\n") ?? [];
    expect(problems).to.have.length(7); // market, token, port, maxPieceSize, key, tickMs, unknown field
    // Each problem starts with its field's path.
    expect(problems.map((p) => p.split(":")[0]).sort()).to.deep.equal(
      [
        "deployment.market",
        "deployment.token",
        "listen.port",
        "policy.maxPieceSize",
        "key",
        "tickMs",
        "retries",
      ].sort(),
    );
    expect(problems.filter((p) => p.includes("not a known field"))).to.deep.equal([
      "retries: is not a known field",
    ]);
  });

  it("refuses an offer the market cannot hold: a zero price, a notice above uint32", function () {
    const base = { deployment: DEPLOYMENT };
    expect(codeOf(() => parseConfig({ ...base, policy: { pricePerTiBMonth: "0" } }))).to.equal(
      "CONFIG_INVALID",
    );
    expect(codeOf(() => parseConfig({ ...base, policy: { noticePeriods: 2 ** 32 } }))).to.equal(
      "CONFIG_INVALID",
    );
    expect(codeOf(() => parseConfig({ ...base, updateBatchSize: 101 }))).to.equal("CONFIG_INVALID");
    expect(parseConfig({ ...base, policy: { noticePeriods: 0 } }).policy.noticePeriods).to.equal(0);
  });

  it("rejects the template until the deployment is filled in", function () {
    expect(codeOf(() => parseConfig(defaultConfig()))).to.equal("CONFIG_INVALID");
    expect(codeOf(() => parseConfig("not an object"))).to.equal("CONFIG_INVALID");
  });

  it("says CONFIG_NOT_FOUND for a missing file and CONFIG_PARSE_ERROR for bad JSON", async function () {
    const dir = await tempDataDir();
    const missing = await loadConfig(join(dir, "nope.json")).catch((e: unknown) => e);
    expect(missing).to.have.property("code", "CONFIG_NOT_FOUND");
    await writeFile(join(dir, "bad.json"), "{ nope");
    const bad = await loadConfig(join(dir, "bad.json")).catch((e: unknown) => e);
    expect(bad).to.have.property("code", "CONFIG_PARSE_ERROR");
  });
});
