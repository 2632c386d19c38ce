import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { buildDurabilitySuite, LOCAL_PERMANENT_CONFIG } from "../lib/durabilitySuite.js";
import { buildStorageSuite } from "../lib/storageSuite.js";

/**
 * Local chain: deploys a test stablecoin (the deployer can mint) and the suite (registry, storage market,
 * retrieval challenges, compute market, repair-mandate factory, permanent storage), with the deployer as the timelock's proposer and executor.
 */
export default buildModule("StrataLocal", (m) => {
  const deployer = m.getAccount(0);
  const token = m.contract("TestStablecoin", [deployer]);
  const suite = buildStorageSuite(m, token, { proposers: [deployer], executors: [deployer] });
  const durability = buildDurabilitySuite(m, suite.market, suite.timelock, LOCAL_PERMANENT_CONFIG);
  return { token, ...suite, ...durability };
});
