// Layer rules of the off-chain code, checked by `npm run lint:layers` (dependency-cruiser).
//
// Layers, lowest first; a layer imports only itself and the layers below it:
//   typechain-types -> offchain/sdk -> offchain/runtime -> offchain/agent | offchain/worker -> offchain/cli -> scripts
// offchain/incentives (the incentive model) sits on offchain/sdk alone; only scripts/ and test/ import it.
// The agent and the worker are siblings: neither imports the other (shared code goes down to runtime or sdk).
// deploy/ imports typechain-types and offchain/sdk only. Tests (test/) may import anything; nothing else
// imports test/. No import cycles anywhere, type-only imports included.
//
// Each rule's name says what to do when it fires; its comment says why.

/** Paths (regular expressions on the repository-relative path) of each layer. */
const TYPES = "^typechain-types/";
const SDK = "^offchain/sdk/";
const RUNTIME = "^offchain/runtime/";
const AGENT = "^offchain/agent/";
const WORKER = "^offchain/worker/";
const CLI = "^offchain/cli/";
const SCRIPTS = "^scripts/";
const INCENTIVES = "^offchain/incentives/";
const DEPLOY = "^deploy/";
const TESTS = "^test/";

const anyOf = (...paths) => paths.join("|");

/** One rule: modules in `from` must not import modules in `to`. */
const layer = (name, comment, from, to) => ({
  name,
  comment,
  severity: "error",
  from: { path: from },
  to: { path: to },
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycles--move-the-shared-part-into-its-own-module",
      comment:
        "An import cycle (type-only imports count): move what both sides need into a module of its own " +
        "that imports neither (e.g. a type, a formatter, a default), or pass it in as a parameter.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "imports-must-resolve--fix-the-path-or-install-the-package",
      comment:
        "An import dependency-cruiser cannot resolve is invisible to every other rule here: fix its path " +
        "(relative imports name the .js of the .ts file) or add the package to package.json.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
    layer(
      "production-code-must-not-import-tests--move-the-helper-out-of-test",
      "offchain/ and deploy/ never import test/: move what they need into the lowest layer that uses it.",
      anyOf(TYPES, SDK, RUNTIME, AGENT, WORKER, CLI, DEPLOY),
      TESTS,
    ),
    layer(
      "production-code-must-not-import-scripts--move-the-code-into-offchain",
      "scripts/ is the top layer: offchain/ and deploy/ never import it; move shared code down into offchain/.",
      anyOf(TYPES, SDK, RUNTIME, AGENT, WORKER, CLI, DEPLOY),
      SCRIPTS,
    ),
    layer(
      "typechain-types-is-generated--import-nothing-from-the-project",
      "typechain-types/ is generated from the contracts and is the lowest layer.",
      TYPES,
      anyOf(SDK, RUNTIME, AGENT, WORKER, CLI, DEPLOY),
    ),
    layer(
      "sdk-imports-only-sdk-and-typechain-types--pass-the-dependency-in",
      "The SDK is the lowest off-chain layer: runtime, daemons and CLI build on it, never the reverse. " +
        "Take what it needs as a parameter, or move the code down into the SDK.",
      SDK,
      anyOf(RUNTIME, AGENT, WORKER, CLI, DEPLOY),
    ),
    layer(
      "runtime-must-not-import-agent-worker-or-cli--move-the-code-down-into-runtime",
      "offchain/runtime/ (service loop, database, keys, RPC transport, logging, process lifecycle) serves the " +
        "agent, the worker and the CLI; it may use the SDK only.",
      RUNTIME,
      anyOf(AGENT, WORKER, CLI, DEPLOY),
    ),
    layer(
      "agent-must-not-import-worker-or-cli--move-shared-code-into-runtime-or-sdk",
      "The provider agent and the proof-verifier worker are sibling daemons: what both need lives in runtime/sdk.",
      AGENT,
      anyOf(WORKER, CLI, DEPLOY),
    ),
    layer(
      "worker-must-not-import-agent-or-cli--move-shared-code-into-runtime-or-sdk",
      "The proof-verifier worker and the provider agent are sibling daemons: what both need lives in runtime/sdk.",
      WORKER,
      anyOf(AGENT, CLI, DEPLOY),
    ),
    layer(
      "incentives-imports-only-sdk--pass-the-inputs-in",
      "offchain/incentives/ is the incentive model: pure functions over parameter sets and scenarios. It may use " +
        "the SDK (errors, schemas) only; scripts/ reads files, agent and worker defaults and passes them in.",
      INCENTIVES,
      anyOf(TYPES, RUNTIME, AGENT, WORKER, CLI, DEPLOY, SCRIPTS, TESTS),
    ),
    layer(
      "only-scripts-and-tests-import-incentives--it-is-an-analysis-not-a-daemon-dependency",
      "The incentive model is read by scripts/ (npm run incentives) and test/; the daemons and the SDK do not need it.",
      anyOf(TYPES, SDK, RUNTIME, AGENT, WORKER, CLI, DEPLOY),
      INCENTIVES,
    ),
    layer(
      "cli-must-not-import-deploy--use-the-sdk",
      "The CLI reads deployments through offchain/sdk/chain; deploy/ is the Ignition layer used by scripts.",
      CLI,
      DEPLOY,
    ),
    {
      name: "deploy-imports-only-typechain-types-and-sdk--move-the-code-into-the-sdk",
      comment:
        "deploy/ (Ignition modules, parameters, rehearsal) must stay loadable without the daemons, the CLI and " +
        "the analyses: of the project's own code it imports typechain-types/ and offchain/sdk/ only (packages " +
        "and node built-ins are fine).",
      severity: "error",
      from: { path: DEPLOY },
      to: {
        dependencyTypesNot: [
          "core",
          "npm",
          "npm-dev",
          "npm-optional",
          "npm-peer",
          "npm-no-pkg",
          "npm-unknown",
        ],
        pathNot: anyOf(TYPES, SDK, DEPLOY, "^node_modules/"),
      },
    },
    layer(
      "scripts-must-not-import-tests--move-the-helper-into-scripts-lib-or-offchain",
      "Tests may import scripts (e.g. scripts/lib), so scripts importing test/ would close a cycle.",
      SCRIPTS,
      TESTS,
    ),
    layer(
      "cli-commands-must-not-import-each-other--move-shared-code-to-cli-format-or-the-sdk",
      "Each command module under offchain/cli/commands/ stands alone; shared output goes to offchain/cli/format/, " +
        "shared rules to offchain/sdk, shared types to their own module.",
      "^offchain/cli/commands/([^/.]+)",
      "^offchain/cli/commands/(?!$1(/|\\.ts$))",
    ),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|artifacts|cache|coverage)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".mts", ".d.mts", ".js", ".mjs", ".cjs", ".json"],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
