import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { existsSync } from "node:fs";
import {
  defaultDeploymentPath,
  loadDeployment,
  parseDeployment,
  repoRoot,
} from "../../offchain/sdk/chain/deployment.js";
import { expectCode } from "./helpers/httpServer.js";

const TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const REGISTRY = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const MARKET = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";

describe("deployment addresses", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-deployment-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("finds the repository root and Ignition's default path for a chain", () => {
    expect(existsSync(join(repoRoot(), "package.json"))).to.equal(true);
    expect(defaultDeploymentPath(31337n, "/repo")).to.equal(
      "/repo/deploy/deployments/chain-31337/deployed_addresses.json",
    );
  });

  it("reads the StrataLocal module's token, registry and market", async () => {
    const file = join(dir, "deployed_addresses.json");
    await writeFile(
      file,
      JSON.stringify({
        "StrataLocal#TestStablecoin": TOKEN.toLowerCase(),
        "StrataLocal#ProviderRegistry": REGISTRY,
        "StrataLocal#StorageMarket": MARKET,
        "StrataLocal#StrataTimelock": MARKET,
      }),
    );
    const deployment = await loadDeployment({ chainId: 31337n, file });
    expect(deployment).to.deep.equal({
      token: TOKEN,
      registry: REGISTRY,
      market: MARKET,
      module: "StrataLocal",
      source: file,
    });
  });

  it("reads the StrataNetwork module's PaymentToken", () => {
    const deployment = parseDeployment(
      {
        "StrataNetwork#PaymentToken": TOKEN,
        "StrataNetwork#ProviderRegistry": REGISTRY,
        "StrataNetwork#StorageMarket": MARKET,
      },
      "x.json",
    );
    expect(deployment.module).to.equal("StrataNetwork");
    expect(deployment.token).to.equal(TOKEN);
  });

  it("reports DEPLOYMENT_NOT_FOUND for a missing file, with what to do", async () => {
    const error = await expectCode(
      loadDeployment({ chainId: 31337n, file: join(dir, "missing.json") }),
      "DEPLOYMENT_NOT_FOUND",
    );
    expect((error as { details?: string }).details).to.be.a("string");
  });

  it("reports DEPLOYMENT_NOT_FOUND for the default path of a chain never deployed to", async () => {
    const error = await expectCode(loadDeployment({ chainId: 987654321n }), "DEPLOYMENT_NOT_FOUND");
    expect((error as { details?: string }).details).to.contain("chain-987654321");
  });

  it("reports DEPLOYMENT_NOT_FOUND for invalid JSON and for a file without the suite", async () => {
    const bad = join(dir, "bad.json");
    await writeFile(bad, "{not json");
    await expectCode(loadDeployment({ chainId: 1n, file: bad }), "DEPLOYMENT_NOT_FOUND");
    const partial = join(dir, "partial.json");
    await writeFile(
      partial,
      JSON.stringify({ "StrataLocal#TestStablecoin": TOKEN, "StrataLocal#StorageMarket": "0x12" }),
    );
    await expectCode(loadDeployment({ chainId: 1n, file: partial }), "DEPLOYMENT_NOT_FOUND");
  });
});
