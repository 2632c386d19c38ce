import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  clientConfigPath,
  networkRpcVariable,
  readClientConfig,
  resolveEndpoint,
  writeClientConfig,
} from "../../offchain/runtime/rpc/endpoint.js";
import { StrataError } from "../../offchain/sdk/errors.js";

function failure(fn: () => unknown): StrataError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StrataError) return error;
    throw error;
  }
  throw new Error("expected a StrataError");
}

const FILE = { path: "/home/u/.config/strata/config.json" };

describe("endpoint resolution: --rpc > --network > $STRATA_RPC_URL > configuration > default", function () {
  const client = (config: object) => ({ config, ...FILE });

  it("test_precedence: each source wins over the ones after it", function () {
    const config = client({ rpc: "http://config:1", networks: { lab: { rpc: "http://lab:1" } } });
    const env = { STRATA_RPC_URL: "http://env:1" };
    expect(resolveEndpoint({ rpc: "http://flag:1", env, clientConfig: config }).rpcUrl).to.equal(
      "http://flag:1",
    );
    expect(resolveEndpoint({ network: "lab", env, clientConfig: config }).rpcUrl).to.equal("http://lab:1");
    expect(resolveEndpoint({ env, clientConfig: config }).source.kind).to.equal("env");
    const fromFile = resolveEndpoint({ env: {}, clientConfig: config });
    expect(fromFile).to.deep.include({ rpcUrl: "http://config:1" });
    expect(fromFile.source).to.deep.equal({ kind: "config", path: FILE.path });
    expect(resolveEndpoint({ env: {}, clientConfig: client({}) })).to.deep.equal({
      rpcUrl: "http://127.0.0.1:8545",
      source: { kind: "default" },
    });
    // A tool's own file (agent, worker) stands where the client's would.
    expect(
      resolveEndpoint({
        env: {},
        configured: { rpcUrl: "http://agent:1", path: "a.json" },
        clientConfig: config,
      }).rpcUrl,
    ).to.equal("http://agent:1");
  });

  it("test_deployment: --deployment > the network's > $STRATA_DEPLOYMENT > the configuration's", function () {
    const config = client({
      deployment: "/c.json",
      networks: { lab: { rpc: "http://lab:1", deployment: "/lab.json" } },
    });
    expect(
      resolveEndpoint({ network: "lab", deployment: "/flag.json", env: {}, clientConfig: config }).deployment,
    ).to.equal("/flag.json");
    expect(resolveEndpoint({ network: "lab", env: {}, clientConfig: config }).deployment).to.equal(
      "/lab.json",
    );
    expect(
      resolveEndpoint({ env: { STRATA_DEPLOYMENT: "/env.json" }, clientConfig: config }).deployment,
    ).to.equal("/env.json");
    expect(resolveEndpoint({ env: {}, clientConfig: config }).deployment).to.equal("/c.json");
  });

  it("test_networks: localhost, $<NAME>_RPC_URL, unknown names and --rpc with --network refused", function () {
    expect(resolveEndpoint({ network: "localhost", env: {}, clientConfig: client({}) }).rpcUrl).to.equal(
      "http://127.0.0.1:8545",
    );
    expect(
      resolveEndpoint({
        network: "localhost",
        env: { STRATA_RPC_URL: "http://x:2" },
        clientConfig: client({}),
      }).rpcUrl,
    ).to.equal("http://x:2");
    expect(
      resolveEndpoint({
        network: "baseSepolia",
        env: { BASE_SEPOLIA_RPC_URL: "https://b" },
        clientConfig: client({}),
      }).rpcUrl,
    ).to.equal("https://b");
    expect(networkRpcVariable("sepolia")).to.equal("SEPOLIA_RPC_URL");
    expect(networkRpcVariable("testnetRehearsal")).to.equal("STRATA_REHEARSAL_RPC_URL");
    const unknown = failure(() => resolveEndpoint({ network: "mars", env: {}, clientConfig: client({}) }));
    expect(unknown.code).to.equal("INVALID_ARGUMENT");
    expect(unknown.details).to.contain("strata config set networks.mars.rpc");
    expect(
      failure(() => resolveEndpoint({ rpc: "http://a:1", network: "lab", env: {}, clientConfig: client({}) }))
        .code,
    ).to.equal("INVALID_ARGUMENT");
    expect(
      failure(() => resolveEndpoint({ env: { STRATA_RPC_URL: "nope" }, clientConfig: client({}) })).code,
    ).to.equal("INVALID_ARGUMENT");
  });

  it("test_configFile: in the user's config folder unless $STRATA_CONFIG; validated; written atomically", async function () {
    expect(clientConfigPath({ HOME: "/home/u" })).to.equal("/home/u/.config/strata/config.json");
    expect(clientConfigPath({ HOME: "/home/u", XDG_CONFIG_HOME: "/x" })).to.equal("/x/strata/config.json");
    expect(clientConfigPath({ HOME: "/home/u", STRATA_CONFIG: "/tmp/s.json" })).to.equal("/tmp/s.json");
    const dir = await mkdtemp(join(tmpdir(), "strata-config-"));
    try {
      const path = join(dir, "sub", "config.json");
      expect(readClientConfig(path)).to.deep.equal({});
      writeClientConfig(path, { rpc: "http://a:1", keyEnv: "MY_KEY" });
      expect(JSON.parse(await readFile(path, "utf8"))).to.deep.equal({ rpc: "http://a:1", keyEnv: "MY_KEY" });
      expect(
        failure(() => {
          writeClientConfig(path, { rpc: "ftp://a" });
        }).code,
      ).to.equal("CONFIG_INVALID");
      await writeFile(path, "{ not json");
      expect(failure(() => readClientConfig(path)).code).to.equal("CONFIG_PARSE_ERROR");
      await writeFile(path, JSON.stringify({ rpc: "http://a:1", colour: "blue" }));
      const invalid = failure(() => readClientConfig(path));
      expect(invalid.code).to.equal("CONFIG_INVALID");
      expect(invalid.details).to.contain("colour");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
