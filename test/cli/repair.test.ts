import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../../offchain/sdk/chain/deployment.js";

const ROOT = repoRoot();
const NODE = join(ROOT, "node_modules", ".bin", "node");
const STRATA = join(ROOT, "offchain", "cli", "strata.mjs");

function strata(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [STRATA, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" },
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

describe("strata mandate / strata repair (spawned)", function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-repair-cli-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("prints help for both commands", async () => {
    const root = await strata(["--help"]);
    expect(root.stdout).to.contain("mandate");
    expect(root.stdout).to.contain("repair");
    const mandate = await strata(["mandate", "--help"]);
    expect(mandate.code).to.equal(0);
    for (const flag of ["--budget", "--reward", "--max-price", "--min-collateral", "--exclude", "--share"]) {
      expect(mandate.stdout).to.contain(flag);
    }
    const repair = await strata(["repair", "--help"]);
    expect(repair.code).to.equal(0);
    for (const flag of ["--piece", "--wait", "--journal"]) expect(repair.stdout).to.contain(flag);
  });

  it("refuses a missing or invalid brief before touching the chain, with typed codes", async () => {
    const missing = await strata(["--json", "--rpc", "http://127.0.0.1:1", "repair", join(dir, "none.json")]);
    expect(missing.code).to.equal(1);
    expect((JSON.parse(missing.stdout) as { error: { code: string } }).error.code).to.equal("FILE_NOT_FOUND");
    const bad = join(dir, "bad.repair.json");
    await writeFile(
      bad,
      JSON.stringify({ version: 1, mandate: "0x12", k: 1, m: 1, pieceSize: 64, pieces: [] }),
    );
    const invalid = await strata(["--json", "--rpc", "http://127.0.0.1:1", "repair", bad]);
    expect(invalid.code).to.equal(1);
    expect((JSON.parse(invalid.stdout) as { error: { code: string } }).error.code).to.equal(
      "REPAIR_BRIEF_INVALID",
    );
    const usage = await strata(["--json", "mandate", "m.json"]);
    expect(usage.code).to.equal(1);
    expect((JSON.parse(usage.stdout) as { error: { code: string } }).error.code).to.equal("INVALID_ARGUMENT");
  });
});
