// Build the `strata` CLI (build/cli/strata.mjs and its chunks/) with esbuild, for the launcher
// (offchain/cli/strata.mjs; offchain/cli/bundle.mjs says when it is used). Run by `npm install` after the contracts'
// types are generated. Usage: node scripts/setup/bundleCli.mjs [folder]   (default build/cli; the folder gets
// strata.mjs, chunks/ and inputs.json, and is replaced whole, so a reader never sees half of two builds)
//
// Pure-JavaScript packages (ethers, zod, commander, ...) are built in: resolving and loading ethers' ~200 modules
// from node_modules cost a command about 0.15 s before it did anything. Packages with native bindings stay outside,
// and so do those only the agent and the worker use (EXTERNAL): the code behind `await import(...)` is split into
// chunks loaded on demand, so a client command never reads them. Every `import.meta.url` keeps its source file's
// URL, so worker scripts, the sandbox launcher and the repository root are found exactly as when the sources run.
import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { BUNDLE_FILE, ROOT, sha256 } from "../../offchain/cli/bundle.mjs";

/**
 * Packages left outside the build, resolved from node_modules at run time: native bindings (hashtree, the
 * Reed-Solomon coder), and the agent's and the worker's HTTP, logging and metrics stack, which loads files of its own
 * by path (pino's transports) and is only ever imported behind the agent's and the worker's `await import(...)`.
 */
const EXTERNAL = [
  "@chainsafe/hashtree",
  "@ronomon/reed-solomon",
  "fastify",
  "fastify-type-provider-zod",
  "pino",
  "prom-client",
];

/** Each source read, by absolute path: its time stamp before the read and the hash of the bytes read. */
const read = new Map();

/** Replace `import.meta.url` in each source by that source's own URL; note what was read. */
const keepModuleUrls = {
  name: "keep-module-urls",
  setup(b) {
    b.onLoad({ filter: /\.(ts|mjs|js)$/ }, (args) => {
      const { mtimeMs } = statSync(args.path);
      const bytes = readFileSync(args.path);
      read.set(args.path, { mtimeMs, sha256: sha256(bytes) });
      const source = bytes.toString("utf8");
      return {
        contents: source.replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href)),
        loader: args.path.endsWith(".ts") ? "ts" : "js",
      };
    });
  },
};

const started = Date.now();
const folder = process.argv[2] === undefined ? dirname(BUNDLE_FILE) : resolve(process.argv[2]);
const partial = join(dirname(folder), `.${basename(folder)}.partial-${process.pid}`);
rmSync(partial, { recursive: true, force: true });
mkdirSync(partial, { recursive: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { strata: "offchain/cli/main.ts" },
  outdir: partial,
  outExtension: { ".js": ".mjs" },
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  external: EXTERNAL,
  // Built-in CommonJS packages call require() for Node's modules; an ES module has none of its own.
  banner: {
    js:
      'import { createRequire as __strataCreateRequire } from "node:module"; ' +
      `const require = __strataCreateRequire(${JSON.stringify(pathToFileURL(join(ROOT, "package.json")).href)});`,
  },
  metafile: true,
  logLevel: "warning",
  plugins: [keepModuleUrls],
});
// typechain-types' index.ts files only re-export the generated types and factories, and Hardhat's incremental compile
// rewrites them with the contracts of that compile only: their bytes change with no change to what the CLI runs (a
// missing export fails this build; the factories, ABIs and bytecode, are checked).
const reexportsOnly = (path) => /^typechain-types\/(.+\/)?index\.ts$/.test(path);
// The packages built in are not listed: `npm install`, which changes them, rebuilds.
const inputs = Object.keys(result.metafile.inputs)
  .map((p) => relative(ROOT, resolve(ROOT, p)))
  .filter((path) => !path.startsWith("node_modules/") && !reexportsOnly(path))
  .map((path) => {
    const seen = read.get(resolve(ROOT, path));
    if (seen === undefined) throw new Error(`${path} was bundled without being read by the build`);
    return { path, ...seen };
  });
writeFileSync(join(partial, "inputs.json"), `${JSON.stringify({ inputs }, null, 1)}\n`);
// Swap the folders: the old build moves aside before the new one takes its name, then goes.
const old = `${partial}.old`;
if (existsSync(folder)) renameSync(folder, old);
renameSync(partial, folder);
rmSync(old, { recursive: true, force: true });
const ms = Date.now() - started;
const chunks = Object.keys(result.metafile.outputs).length - 1;
console.log(
  `[setup] strata CLI built: ${inputs.length} sources in ${ms} ms (${relative(ROOT, join(folder, "strata.mjs"))} and ${chunks} chunks)`,
);
