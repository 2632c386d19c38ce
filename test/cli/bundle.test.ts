/**
 * The built CLI (scripts/setup/bundleCli.mjs) and the launcher's choice between it and the sources
 * (offchain/cli/bundle.mjs): the build is used only while every source it was built from is unchanged, and it prints
 * exactly what the sources print, its module URLs (the repository root, worker scripts) included.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { currentBundle, sha256 } from "../../offchain/cli/bundle.mjs";
import { repoRoot } from "../../offchain/sdk/chain/deployment.js";

const ROOT = repoRoot();
const NODE = join(ROOT, "node_modules", ".bin", "node");

describe("strata CLI built by esbuild", function () {
  this.timeout(120_000);
  let dir = "";

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "strata-bundle-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fake build in `dir` from two sources. */
  function fakeBuild() {
    const at = {
      root: dir,
      bundle: join(dir, "build", "strata.mjs"),
      inputs: join(dir, "build", "inputs.json"),
    };
    mkdirSync(join(dir, "build"));
    mkdirSync(join(dir, "src"));
    const inputs = ["src/a.ts", "src/b.ts"].map((path) => {
      writeFileSync(join(dir, path), `export const name = "${path}";\n`);
      return {
        path,
        mtimeMs: statSync(join(dir, path)).mtimeMs,
        sha256: sha256(readFileSync(join(dir, path))),
      };
    });
    writeFileSync(at.inputs, JSON.stringify({ inputs }));
    writeFileSync(at.bundle, "// built\n");
    return at;
  }

  it("is used while its sources keep their bytes; an edited or removed source, or none built, runs the sources", () => {
    const at = fakeBuild();
    const a = join(dir, "src", "a.ts");
    expect(currentBundle({}, at)).to.equal(at.bundle);
    expect(currentBundle({ STRATA_CLI_SOURCES: "1" }, at)).to.equal(null);
    // Rewritten with the same bytes (as Hardhat rewrites typechain-types/): still current.
    const later = new Date(Date.now() + 5_000);
    writeFileSync(a, readFileSync(a));
    utimesSync(a, later, later);
    expect(currentBundle({}, at)).to.equal(at.bundle);
    // Edited: one byte more.
    writeFileSync(a, `${readFileSync(a, "utf8")} `);
    expect(currentBundle({}, at)).to.equal(null);
    // Back as built, then another source removed.
    writeFileSync(a, readFileSync(a, "utf8").slice(0, -1));
    expect(currentBundle({}, at)).to.equal(at.bundle);
    rmSync(join(dir, "src", "b.ts"));
    expect(currentBundle({}, at)).to.equal(null);
    // An empty list of inputs, no list, or no bundle.
    const list = readFileSync(at.inputs, "utf8");
    writeFileSync(at.inputs, JSON.stringify({ inputs: [] }));
    expect(currentBundle({}, at)).to.equal(null);
    rmSync(at.inputs);
    expect(currentBundle({}, at)).to.equal(null);
    writeFileSync(at.inputs, list.replace("src/b.ts", "src/a.ts"));
    expect(currentBundle({}, at)).to.equal(null); // a.ts listed with b.ts's hash
    writeFileSync(
      at.inputs,
      JSON.stringify({ inputs: (JSON.parse(list) as { inputs: unknown[] }).inputs.slice(0, 1) }),
    );
    expect(currentBundle({}, at)).to.equal(at.bundle);
    rmSync(at.bundle);
    expect(currentBundle({}, at)).to.equal(null);
  });

  it("builds from the sources and prints what the sources print, with the sources' module URLs", () => {
    // Inside the repository, as build/cli is: the packages it leaves out are found in its node_modules.
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(ROOT, "build"), { recursive: true });
    dir = mkdtempSync(join(ROOT, "build", "test-"));
    const built = spawnSync(NODE, [join(ROOT, "scripts", "setup", "bundleCli.mjs"), dir], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(built.status, built.stderr).to.equal(0);
    const list = JSON.parse(readFileSync(join(dir, "inputs.json"), "utf8")) as { inputs: { path: string }[] };
    const inputs = list.inputs.map((i) => i.path);
    expect(inputs).to.include("offchain/cli/main.ts");
    expect(inputs).to.include("offchain/sdk/chain/deployment.ts");
    expect(inputs).to.include("typechain-types/factories/storage/StorageMarket__factory.ts");
    expect(inputs.every((p) => !p.startsWith("node_modules/") && !p.startsWith(".."))).to.equal(true);
    const at = { root: ROOT, bundle: join(dir, "strata.mjs"), inputs: join(dir, "inputs.json") };
    expect(currentBundle({}, at)).to.equal(at.bundle);
    const bundle = join(dir, "strata.mjs");
    // Each `import.meta.url` is its source's: a bundle that resolved them from its own folder would look for worker
    // scripts and the sandbox launcher beside itself.
    expect(readFileSync(bundle, "utf8")).to.not.contain("import.meta.url");
    const env = { PATH: process.env.PATH ?? "", HOME: dir, STRATA_CONFIG: join(dir, "strata.json") };
    for (const args of [["--help"], ["store", "--help"], ["config", "list", "--json"]]) {
      const fromBundle = spawnSync(NODE, [bundle, ...args], { cwd: ROOT, encoding: "utf8", env });
      const fromSources = spawnSync(
        NODE,
        ["--import", "tsx", join(ROOT, "offchain", "cli", "main.ts"), ...args],
        {
          cwd: ROOT,
          encoding: "utf8",
          env,
        },
      );
      expect(fromBundle.status, `${args.join(" ")}: ${fromBundle.stderr}`).to.equal(fromSources.status);
      expect(fromBundle.stdout, args.join(" ")).to.equal(fromSources.stdout);
      expect(fromBundle.stdout.length, args.join(" ")).to.be.greaterThan(20);
    }
    // What a client command loads from node_modules: not ethers (built in), not the agent's fastify (a chunk of
    // its own, loaded by `agent start` only). Every resolution through the ES module loader is logged.
    const hook = [
      'import { registerHooks } from "node:module";',
      "registerHooks({ resolve(specifier, context, next) {",
      "  const result = next(specifier, context);",
      '  process.stderr.write("RESOLVED " + result.url + "\\n");',
      "  return result;",
      "} });",
    ].join("\n");
    const traced = spawnSync(
      NODE,
      ["--import", `data:text/javascript,${encodeURIComponent(hook)}`, bundle, "config", "list", "--json"],
      { cwd: ROOT, encoding: "utf8", env },
    );
    expect(traced.status, traced.stderr).to.equal(0);
    const resolved = traced.stderr.split("\n").filter((line) => line.startsWith("RESOLVED "));
    expect(resolved.some((line) => line.includes(`${dir}/chunks/`))).to.equal(true);
    expect(
      resolved.filter((line) => /node_modules\/(ethers|fastify|pino|prom-client)\//.test(line)),
    ).to.deep.equal([]);
  });
});
