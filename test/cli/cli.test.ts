import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../../offchain/sdk/chain/deployment.js";
import { startFakeRpc, startServer, type TestServer } from "./helpers/httpServer.js";

const ROOT = repoRoot();
const NODE = join(ROOT, "node_modules", ".bin", "node");
const STRATA = join(ROOT, "offchain", "cli", "strata.mjs");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function strata(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [STRATA, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

function jsonError(run: Run): { code: string; message: string } {
  const parsed = JSON.parse(run.stdout) as { error?: { code: string; message: string } };
  if (!parsed.error) throw new Error(`no error in ${run.stdout}`);
  return parsed.error;
}

const ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

describe("strata CLI (spawned)", function () {
  this.timeout(60_000);
  let dir: string;
  let deployment: string;
  const servers: TestServer[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-cli-"));
    deployment = join(dir, "deployed_addresses.json");
    await writeFile(
      deployment,
      JSON.stringify({
        "StrataLocal#TestStablecoin": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        "StrataLocal#ProviderRegistry": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
        "StrataLocal#StorageMarket": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
      }),
    );
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it("prints help for every command and exits 0", async () => {
    const root = await strata(["--help"]);
    expect(root.code).to.equal(0);
    for (const command of ["provider", "agent", "store", "status", "retrieve", "datasets", "withdraw"]) {
      expect(root.stdout).to.contain(command);
    }
    expect(root.stdout).to.not.match(/\bdeals?\b/);
    const datasets = await strata(["datasets", "--help"]);
    for (const sub of ["list", "renew", "terminate"]) expect(datasets.stdout).to.contain(sub);
    const store = await strata(["store", "--help"]);
    expect(store.code).to.equal(0);
    expect(store.stdout).to.contain("--max-price");
  });

  it("reports a usage error as INVALID_ARGUMENT with exit 1, as JSON with --json", async () => {
    const run = await strata(["--json", "store", "--k", "zero", "file.bin"]);
    expect(run.code).to.equal(1);
    expect(jsonError(run).code).to.equal("INVALID_ARGUMENT");
    const human = await strata(["store", "--bogus"]);
    expect(human.code).to.equal(1);
    expect(human.stderr.trim().split("\n")).to.have.length(1);
    expect(human.stderr).to.match(/^strata: .*\(INVALID_ARGUMENT\)\n$/);
  });

  it("reports a missing input file before touching the chain (FILE_NOT_FOUND, exit 1)", async () => {
    const run = await strata(["--json", "--rpc", "http://127.0.0.1:1", "store", join(dir, "missing.bin")]);
    expect(run.code).to.equal(1);
    expect(jsonError(run).code).to.equal("FILE_NOT_FOUND");
  });

  it("reports an unreachable RPC (RPC_UNREACHABLE, exit 2)", async () => {
    const closed = await startServer(() => undefined);
    await closed.close();
    const run = await strata(["--json", "--rpc", closed.url, "datasets", "list", "--client", ADDRESS]);
    expect(run.code).to.equal(2);
    expect(jsonError(run).code).to.equal("RPC_UNREACHABLE");
  });

  it("reports a missing deployment and a wrong network (exit 2)", async () => {
    const empty = await startFakeRpc({ chainId: 31337n, code: "0x" });
    servers.push(empty);
    const missing = await strata([
      "--json",
      "--rpc",
      empty.url,
      "--deployment",
      join(dir, "none.json"),
      "datasets",
      "list",
      "--client",
      ADDRESS,
    ]);
    expect(missing.code).to.equal(2);
    expect(jsonError(missing).code).to.equal("DEPLOYMENT_NOT_FOUND");
    const wrong = await strata([
      "--json",
      "--rpc",
      empty.url,
      "--deployment",
      deployment,
      "datasets",
      "list",
      "--client",
      ADDRESS,
    ]);
    expect(wrong.code).to.equal(2);
    expect(jsonError(wrong).code).to.equal("WRONG_NETWORK");
  });

  it("refuses dev accounts off the local chain and asks for a key when none is set (exit 1)", async () => {
    const mainnet = await startFakeRpc({ chainId: 1n, code: "0x6080" });
    servers.push(mainnet);
    const refused = await strata([
      "--json",
      "--rpc",
      mainnet.url,
      "--deployment",
      deployment,
      "--account",
      "0",
      "provider",
      "status",
    ]);
    expect(refused.code).to.equal(1);
    expect(jsonError(refused).code).to.equal("KEY_REFUSED");
    const missing = await strata([
      "--json",
      "--rpc",
      mainnet.url,
      "--deployment",
      deployment,
      "--key-env",
      "STRATA_TEST_NO_KEY",
      "provider",
      "status",
    ]);
    expect(missing.code).to.equal(1);
    expect(jsonError(missing).code).to.equal("KEY_MISSING");
  });
});
