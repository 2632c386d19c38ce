import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);

// Compile offline with the wasm build of solc shipped in the `solc` npm package (pinned to 0.8.30).
const solcWasm = require.resolve("solc/soljson.js");

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    profiles: {
      default: {
        version: "0.8.30",
        path: solcWasm,
        settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "prague" },
      },
      production: {
        version: "0.8.30",
        path: solcWasm,
        settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "prague" },
      },
    },
  },
  paths: { ignition: "deploy" },
  // Local chains mine only on transactions, so Ignition must not wait for extra confirmations there.
  // For a public network, set STRATA_CONFIRMATIONS (e.g. 3) when deploying.
  ignition: {
    requiredConfirmations: Number(process.env.STRATA_CONFIRMATIONS ?? "1"),
    blockPollingInterval: Number(process.env.STRATA_BLOCK_POLL_MS ?? "1000"),
  },
  typechain: { outDir: "typechain-types" },
  test: {
    solidity: {
      profiles: {
        default: { fuzz: { runs: 256 }, invariant: { runs: 64, depth: 32, failOnRevert: false } },
        deep: { fuzz: { runs: 5_000 }, invariant: { runs: 256, depth: 64, failOnRevert: false } },
      },
    },
  },
  networks: {
    hardhatMainnet: { type: "edr-simulated", chainType: "l1", hardfork: "prague" },
    localhost: { type: "http", chainType: "l1", url: process.env.STRATA_RPC_URL ?? "http://127.0.0.1:8545" },
    // Public testnets: RPC URL and deployer key are configuration variables, kept in the encrypted keystore
    // (`npx hardhat keystore set SEPOLIA_RPC_URL`, ...) or taken from environment variables of the same names.
    // The chain id is pinned so that a wrong RPC URL fails before anything is sent. See docs/DEPLOYING.md.
    sepolia: {
      type: "http",
      chainType: "l1",
      chainId: 11155111,
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("SEPOLIA_PRIVATE_KEY")],
    },
    baseSepolia: {
      type: "http",
      chainType: "op",
      chainId: 84532,
      url: configVariable("BASE_SEPOLIA_RPC_URL"),
      accounts: [configVariable("BASE_SEPOLIA_PRIVATE_KEY")],
    },
    // A stand-in for a public testnet (e.g. a second local `hardhat node`): deployed to exactly like one, with
    // a parameter file and a locally held key, from the environment variables below.
    testnetRehearsal: {
      type: "http",
      chainType: "l1",
      url: configVariable("STRATA_REHEARSAL_RPC_URL"),
      accounts: [configVariable("STRATA_REHEARSAL_PRIVATE_KEY")],
    },
  },
});
