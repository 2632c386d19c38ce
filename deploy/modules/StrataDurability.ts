import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { buildDurabilitySuite } from "../lib/durabilitySuite.js";

/**
 * Public networks: the durability contracts (repair-mandate factory, permanent storage) on an already deployed
 * storage market (`market`), the permanent-storage reserve paid to `reserveRecipient` (for instance the treasury).
 */
export default buildModule("StrataDurability", (m) => {
  const market = m.contractAt("StorageMarket", m.getParameter<string>("market"));
  return buildDurabilitySuite(m, market, m.getParameter<string>("reserveRecipient"));
});
