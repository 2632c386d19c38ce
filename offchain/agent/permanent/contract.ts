import { PermanentStorage__factory, type PermanentStorage } from "../../../typechain-types/index.js";
import type { AgentContext } from "../context.js";

const contracts = new WeakMap<AgentContext, PermanentStorage>();

/** The deployment's PermanentStorage bound to the provider's signer; undefined when the deployment has none. */
export function permanentContract(ctx: AgentContext): PermanentStorage | undefined {
  const address = ctx.config.deployment.permanentStorage;
  if (address === null) return undefined;
  let contract = contracts.get(ctx);
  if (contract === undefined) {
    contract = PermanentStorage__factory.connect(address, ctx.chain.signer);
    contracts.set(ctx, contract);
  }
  return contract;
}
