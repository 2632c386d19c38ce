import { createRequire } from "node:module";
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { Artifact } from "@nomicfoundation/ignition-core";
import { buildStorageSuite } from "../lib/storageSuite.js";

// Hardhat 3 builds artifacts for the project's own sources only: IERC20's comes from the OpenZeppelin package.
const IERC20 = createRequire(import.meta.url)(
  "@openzeppelin/contracts/build/contracts/IERC20.json",
) as Artifact;

/**
 * Public networks: the suite (registry, storage market, retrieval challenges, compute market) around an
 * existing ERC-20 (`token`), governed by a timelock whose proposers and executors (for instance a multisig)
 * and treasury come from the network's parameter file.
 */
export default buildModule("StrataNetwork", (m) => {
  const token = m.contractAt("IERC20", IERC20, m.getParameter<string>("token"), { id: "PaymentToken" });
  const suite = buildStorageSuite(m, token, {
    proposers: m.getParameter<string[]>("proposers"),
    executors: m.getParameter<string[]>("executors"),
    treasury: m.getParameter<string>("treasury"),
  });
  return { token, ...suite };
});
