// Build the `strata` CLI into one file (build/cli/strata.mjs) with esbuild, for the launcher (offchain/cli/strata.mjs,
// offchain/cli/bundle.mjs says when it is used). Run by `npm install` after the contracts' types are generated.
// Usage: node scripts/setup/bundleCli.mjs [folder]   (default build/cli; the folder gets strata.mjs and inputs.json)
// Packages stay outside the file (resolved from node_modules at run time, native bindings included); every
// `import.meta.url` keeps its source file's URL, so worker scripts, the sandbox launcher and the repository root
// are found exactly as when the sources run.
import { build } from "esbuild";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { BUNDLE_FILE, BUNDLE_INPUTS_FILE, ROOT, sha256 } from "../../offchain/cli/bundle.mjs";

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
const folder = process.argv[2] === undefined ? undefined : resolve(process.argv[2]);
const bundleFile = folder === undefined ? BUNDLE_FILE : join(folder, "strata.mjs");
const inputsFile = folder === undefined ? BUNDLE_INPUTS_FILE : join(folder, "inputs.json");
mkdirSync(new URL(".", pathToFileURL(bundleFile)), { recursive: true });
const partial = `${bundleFile}.partial`;
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: ["offchain/cli/main.ts"],
  outfile: partial,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  packages: "external",
  metafile: true,
  logLevel: "warning",
  plugins: [keepModuleUrls],
});
// typechain-types' index.ts files only re-export the generated types and factories, and Hardhat's incremental compile
// rewrites them with the contracts of that compile only: their bytes change with no change to what the CLI runs (a
// missing export fails this build; the factories, ABIs and bytecode, are checked).
const reexportsOnly = (path) => /^typechain-types\/(.+\/)?index\.ts$/.test(path);
const inputs = Object.keys(result.metafile.inputs)
  .filter((p) => !reexportsOnly(relative(ROOT, resolve(ROOT, p))))
  .map((p) => {
    const path = relative(ROOT, resolve(ROOT, p));
    const seen = read.get(resolve(ROOT, p));
    if (seen === undefined) throw new Error(`${path} was bundled without being read by the build`);
    return { path, ...seen };
  });
// The inputs' list first, the bundle last: a bundle is never paired with another build's list.
writeFileSync(inputsFile, `${JSON.stringify({ inputs }, null, 1)}\n`);
renameSync(partial, bundleFile);
const ms = Date.now() - started;
console.log(`[setup] strata CLI built: ${inputs.length} sources in ${ms} ms (${relative(ROOT, bundleFile)})`);
