/** The launcher's flags (offchain/cli/launch.mjs): which commands get the larger young generation, and when not. */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { launchFlags, YOUNG_GENERATION_FLAG } from "../../offchain/cli/launch.mjs";
import { repoRoot } from "../../offchain/sdk/chain/deployment.js";

describe("strata launcher flags", () => {
  it("gives the bulk-data commands a larger young generation, and nothing else", () => {
    for (const args of [
      ["agent", "start", "--config", "p.json"],
      ["--rpc", "http://127.0.0.1:8545", "store", "a.bin"],
      ["retrieve", "f.manifest.json", "--out", "f"],
      ["get", "bafy"],
      ["worker", "start"],
      ["site", "deploy", "dir"],
      ["repair", "f.manifest.json"],
    ]) {
      expect(launchFlags(args, [], undefined), args.join(" ")).to.deep.equal([YOUNG_GENERATION_FLAG]);
    }
    for (const args of [
      [],
      ["balance"],
      ["--json", "ls"],
      ["dev", "mint", "5"],
      ["provider", "status", "0x1"],
    ]) {
      expect(launchFlags(args, [], undefined), args.join(" ")).to.deep.equal([]);
    }
  });

  it("keeps a semi-space size the user chose, on the command line or in NODE_OPTIONS", () => {
    expect(launchFlags(["store", "a"], ["--max-semi-space-size=8"], undefined)).to.deep.equal([]);
    expect(launchFlags(["store", "a"], [], "--max-semi-space-size=64 --trace-gc")).to.deep.equal([]);
    expect(launchFlags(["store", "a"], ["--trace-gc"], "--no-warnings")).to.deep.equal([
      YOUNG_GENERATION_FLAG,
    ]);
  });

  it("re-runs a bulk command in place with the flag: same output and exit code as before", () => {
    const root = repoRoot();
    const run = spawnSync(
      join(root, "node_modules", ".bin", "node"),
      [join(root, "offchain", "cli", "strata.mjs"), "--json", "store", join(root, "no-such-file.bin")],
      { cwd: root, encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" } },
    );
    expect(run.status, run.stderr).to.equal(1);
    expect(run.stdout + run.stderr).to.include("FILE_NOT_FOUND");
  });
});
