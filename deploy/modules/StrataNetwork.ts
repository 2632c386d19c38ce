import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { buildStorageSuite } from "../lib/storageSuite.js";

/**
 * Public networks: the suite (registry, storage market, retrieval challenges, compute market) around an
 * existing ERC-20 (`token`), governed by a timelock whose proposers and executors (for instance a multisig)
 * and treasury come from the network's parameter file.
 */
export default buildModule("StrataNetwork", (m) => {
  const token = m.contractAt("IERC20", m.getParameter<string>("token"), { id: "PaymentToken" });
  const suite = buildStorageSuite(m, token, {
    proposers: m.getParameter<string[]>("proposers"),
    executors: m.getParameter<string[]>("executors"),
    treasury: m.getParameter<string>("treasury"),
  });
  return { token, ...suite };
});
