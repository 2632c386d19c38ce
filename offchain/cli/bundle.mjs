// Where the `strata` launcher (strata.mjs) finds the built CLI (strata.mjs and its chunks), and whether it is current.
// Plain JavaScript: it runs before tsx is loaded.
//
// Started from its TypeScript sources, a command spends about 1.2 CPU-seconds resolving and transpiling some 340
// modules through tsx's loader before it does anything; built by scripts/setup/bundleCli.mjs (run by
// `npm install`), the same command starts in about half the time. The built file is used only while every source it
// was built from still has the content it was built from: an edited or removed source (an added one is imported by
// an edited one) falls back to the sources. A source whose time stamp is unchanged is not read; one rewritten with the
// same bytes (Hardhat rewrites typechain-types/ on every compile) is hashed and still counts as unchanged.
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is offchain/cli/bundle.mjs). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The built CLI's entry (its chunks/ sit beside it, built and replaced with it). */
export const BUNDLE_FILE = join(ROOT, "build", "cli", "strata.mjs");
/** The sources it was built from: {"inputs": [{path (relative to ROOT), mtimeMs, sha256}]}. */
export const BUNDLE_INPUTS_FILE = join(ROOT, "build", "cli", "inputs.json");

/** SHA-256 of `bytes`, hex. */
export function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * The built CLI's path when it exists and every source it was built from still has the bytes it was built from;
 * otherwise null (run the sources). STRATA_CLI_SOURCES=1 always runs the sources. `at` names another build (tests).
 */
export function currentBundle(
  env = process.env,
  at = { root: ROOT, bundle: BUNDLE_FILE, inputs: BUNDLE_INPUTS_FILE },
) {
  if (env.STRATA_CLI_SOURCES === "1") return null;
  try {
    statSync(at.bundle);
    const { inputs } = JSON.parse(readFileSync(at.inputs, "utf8"));
    if (!Array.isArray(inputs) || inputs.length === 0) return null;
    for (const input of inputs) {
      const file = join(at.root, input.path);
      if (statSync(file).mtimeMs === input.mtimeMs) continue;
      if (sha256(readFileSync(file)) !== input.sha256) return null;
    }
    return at.bundle;
  } catch {
    return null; // not built, or a source is gone
  }
}
