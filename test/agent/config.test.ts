import { expect } from "chai";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  configToFile,
  defaultConfig,
  loadConfig,
  loadConfigWithChainDecimals,
  parseConfig,
} from "../../offchain/agent/config.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { removeTempDirs, tempDataDir } from "./helpers.js";

const DEPLOYMENT = {
  market: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  registry: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  token: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
};

function problems(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (error) {
    expect(error).to.have.property("code", "CONFIG_INVALID");
    return (error as StrataError).details?.split("\n") ?? [];
  }
  return [];
}

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
          autoRegister: { capacityBytes: "1099511627776", stake: "5" },
          policy: { collateralPerTiB: "0.000003" },
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

  it("reads every amount in tokens of tokenDecimals and writes them back the same way", function () {
    const input = {
      deployment: DEPLOYMENT,
      tokenDecimals: 18,
      policy: { pricePerTiBMonth: "2.5", collateralPerTiB: "50" },
      autoRegister: { capacityBytes: "1024", stake: "1000.000000000000000001" },
      compute: { collateralPerLease: "10", pricePerMillicoreSecond: "0.00000001" },
    };
    const config = parseConfig(input);
    expect(config.tokenDecimals).to.equal(18);
    expect(config.policy.pricePerTiBMonth).to.equal(25n * 10n ** 17n);
    expect(config.policy.collateralPerTiB).to.equal(50n * 10n ** 18n);
    expect(config.autoRegister?.stake).to.equal(1000n * 10n ** 18n + 1n);
    expect(config.compute.collateralPerLease).to.equal(10n * 10n ** 18n);
    // 1e-8 tokens of 18 decimals = 1e10 base units, in billionths of a base unit.
    expect(config.compute.prices.perMillicoreSecond).to.equal(10n ** 19n);
    const file = configToFile(config);
    expect(file.policy).to.include({ pricePerTiBMonth: "2.5", collateralPerTiB: "50" });
    expect(file.autoRegister?.stake).to.equal("1000.000000000000000001");
    expect(file.compute.pricePerMillicoreSecond).to.equal("0.00000001");
    expect(parseConfig(file)).to.deep.equal(config);
    // The same text means other base units with other decimals.
    expect(parseConfig({ ...input, tokenDecimals: 6, autoRegister: null }).policy.pricePerTiBMonth).to.equal(
      2_500_000n,
    );
  });

  it("refuses amounts finer than a base unit, negative or not decimal, and bad tokenDecimals", function () {
    const base = { deployment: DEPLOYMENT };
    expect(problems({ ...base, policy: { pricePerTiBMonth: "0.0000001" } })).to.have.length(1); // 7 decimals
    expect(problems({ ...base, policy: { collateralPerTiB: "-1" } })).to.have.length(1);
    expect(problems({ ...base, policy: { collateralPerTiB: "1e6" } })).to.have.length(1);
    expect(problems({ ...base, policy: { collateralPerTiB: 50 } })).to.have.length(1); // a string, not a number
    expect(problems({ ...base, compute: { pricePerMiBSecond: "0.0000000000000001" } })).to.have.length(1);
    expect(problems({ ...base, tokenDecimals: 37 })[0]).to.match(/^tokenDecimals:/);
    expect(problems({ ...base, tokenDecimals: "6" })[0]).to.match(/^tokenDecimals:/);
    // With 0 decimals the defaults "2.5" per TiB-month (storage and permanent offers) and 3e-11 per GiB-second are
    // finer than a base unit.
    expect(problems({ ...base, tokenDecimals: 0 }).map((p) => p.split(":")[0])).to.deep.equal([
      "policy.pricePerTiBMonth",
      "compute.pricePerStorageGiBSecond",
      "permanent.pricePerTiBMonth",
    ]);
    const whole = { pricePerTiBMonth: "3" };
    const coarse = { pricePerStorageGiBSecond: "0.00000003" };
    expect(
      problems({ ...base, tokenDecimals: 0, policy: whole, compute: coarse, permanent: whole }),
    ).to.deep.equal([]);
  });

  it("permanent offers need the PermanentStorage address and a price in tokens", function () {
    const base = { deployment: DEPLOYMENT };
    expect(problems({ ...base, permanent: { enabled: true } }).map((p) => p.split(":")[0])).to.deep.equal([
      "permanent.enabled",
    ]);
    expect(problems({ ...base, permanent: { pricePerTiBMonth: "0" } })).to.have.length(1);
    expect(problems({ ...base, permanent: { maxPieceBytes: "63" } })).to.have.length(1);
    expect(problems({ ...base, permanent: { offerEverything: true } })).to.have.length(1);
    const config = parseConfig({
      ...base,
      deployment: { ...DEPLOYMENT, permanentStorage: "0x00000000000000000000000000000000000000aa" },
      permanent: { enabled: true, pricePerTiBMonth: "1.75" },
    });
    expect(config.permanent.pricePerTiBMonth).to.equal(1_750_000n);
    expect(config.deployment.permanentStorage).to.equal("0x00000000000000000000000000000000000000AA");
    expect(configToFile(config).permanent.pricePerTiBMonth).to.equal("1.75");
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

  it("reads a file without tokenDecimals in the token's own decimals, asked of the chain", async function () {
    const dir = await tempDataDir();
    const path = join(dir, "agent.json");
    const file = {
      rpcUrl: "http://127.0.0.1:21555",
      deployment: DEPLOYMENT,
      policy: { pricePerTiBMonth: "2.5" },
      compute: { pricePerMillicoreSecond: "0.000000000001" },
    };
    await writeFile(path, JSON.stringify(file));
    const asked: { token: string; rpcUrl: string }[] = [];
    const chainOf = (decimals: number) => (where: { token: string; rpcUrl: string }) => {
      asked.push(where);
      return Promise.resolve(decimals);
    };
    // 18 decimals: a price finer than 6 decimals is fine, and 2.5 tokens are 2.5e18 base units.
    const eighteen = await loadConfigWithChainDecimals(path, {}, chainOf(18));
    expect(eighteen.decimalsFrom).to.equal("chain");
    expect(eighteen.config.tokenDecimals).to.equal(18);
    expect(eighteen.config.policy.pricePerTiBMonth).to.equal(2_500_000_000_000_000_000n);
    expect(asked).to.deep.equal([{ token: DEPLOYMENT.token, rpcUrl: file.rpcUrl }]);
    // The overrides' RPC URL is the one asked.
    await loadConfigWithChainDecimals(path, { rpcUrl: "http://127.0.0.1:21556" }, chainOf(18));
    expect(asked[1]?.rpcUrl).to.equal("http://127.0.0.1:21556");
    // 2 decimals: the same file's sub-cent price cannot be represented and is refused, not rounded.
    const two = await loadConfigWithChainDecimals(path, {}, chainOf(2)).catch((e: unknown) => e);
    expect(two).to.have.property("code", "CONFIG_INVALID");

    // A file that states its decimals is read with them and the chain is not asked (the agent compares later).
    await writeFile(path, JSON.stringify({ ...file, compute: {}, tokenDecimals: 6 }));
    const stated = await loadConfigWithChainDecimals(path, {}, chainOf(18));
    expect(stated.decimalsFrom).to.equal("file");
    expect(stated.config.policy.pricePerTiBMonth).to.equal(2_500_000n);
    expect(asked).to.have.length(3);
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
