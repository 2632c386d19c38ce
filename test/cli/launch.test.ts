/** The launcher's flags (offchain/cli/launch.mjs): which commands get the larger young generation, and when not. */
import { expect } from "chai";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { createServer, type Socket } from "node:net";
import { readFile } from "node:fs/promises";
import {
  bulkEnvironment,
  launchEnvironment,
  launchFlags,
  MALLOC_ENV,
  YOUNG_GENERATION_FLAG,
} from "../../offchain/cli/launch.mjs";
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

  it("gives the bulk-data commands glibc malloc settings, unless the user chose their own", () => {
    const base = { PATH: "/usr/bin", HOME: "/home/u" };
    expect(bulkEnvironment(base)).to.deep.equal({ ...base, ...MALLOC_ENV });
    expect(launchEnvironment(["--json", "retrieve", "f.json", "f"], base)).to.deep.equal({
      ...base,
      ...MALLOC_ENV,
    });
    expect(launchEnvironment(["balance"], base)).to.equal(null);
    // Already started with them (a re-executed launcher, or a child of a bulk command): no change, so no loop.
    expect(bulkEnvironment({ ...base, ...MALLOC_ENV })).to.equal(null);
    // The user's own settings win, whichever way they are given.
    expect(bulkEnvironment({ ...base, MALLOC_TRIM_THRESHOLD_: "0" })).to.equal(null);
    expect(bulkEnvironment({ ...base, GLIBC_TUNABLES: "glibc.malloc.arena_max=2" })).to.equal(null);
    // Tunables of other glibc parts are kept and do not stop the malloc settings.
    expect(bulkEnvironment({ ...base, GLIBC_TUNABLES: "glibc.rtld.nns=8" })).to.deep.equal({
      ...base,
      GLIBC_TUNABLES: "glibc.rtld.nns=8",
      ...MALLOC_ENV,
    });
  });

  it("runs a bulk command, as started from a plain shell, with the flag and the malloc settings", async () => {
    // An RPC endpoint that accepts and never answers holds the store at its first chain call, long enough to
    // read the running process's command line and environment (the same pid after the launcher's re-exec).
    const held: Socket[] = [];
    const server = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const root = repoRoot();
    const child = spawn(
      join(root, "node_modules", ".bin", "node"),
      [
        join(root, "offchain", "cli", "strata.mjs"),
        "--rpc",
        `http://127.0.0.1:${address.port}`,
        "--json",
        "store",
        join(root, "package.json"),
      ],
      { cwd: root, stdio: "ignore", env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" } },
    );
    try {
      const deadline = Date.now() + 20_000;
      while (held.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(held.length, "the store reached its RPC endpoint").to.be.greaterThan(0);
      const cmdline = (await readFile(`/proc/${String(child.pid)}/cmdline`, "utf8")).split("\0");
      const environ = (await readFile(`/proc/${String(child.pid)}/environ`, "utf8")).split("\0");
      expect(cmdline).to.include(YOUNG_GENERATION_FLAG);
      for (const [name, value] of Object.entries(MALLOC_ENV)) expect(environ).to.include(`${name}=${value}`);
    } finally {
      child.kill("SIGKILL");
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
