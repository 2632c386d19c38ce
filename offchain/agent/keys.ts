/** The agent's signing key from its configured source. */
import { Wallet, type Provider, type Signer } from "ethers";
import { DEV_MNEMONIC, devAccountWallet } from "../sdk/chain/connect.js";
import { StrataError } from "../sdk/errors.js";
import type { KeySource } from "./config.js";

/** Hardhat's default development mnemonic (public; local chains only). */
export const HARDHAT_DEV_MNEMONIC = DEV_MNEMONIC;
const LOCAL_CHAIN_IDS = new Set([31337n, 1337n]);

/** A signer for `source` connected to `provider`. Dev accounts are refused on non-local chains. */
export async function signerFromKeySource(
  source: KeySource,
  provider: Provider,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Signer> {
  if ("account" in source) {
    const { chainId } = await provider.getNetwork();
    if (!LOCAL_CHAIN_IDS.has(chainId)) {
      throw new StrataError(
        "CONFIG_INVALID",
        `dev account keys are for local chains only (this is chain ${chainId})`,
      );
    }
    return devAccountWallet(source.account).connect(provider);
  }
  const key = env[source.env];
  if (key === undefined || key.trim() === "") {
    throw new StrataError(
      "CONFIG_KEY_MISSING",
      `set the provider's private key in the environment variable ${source.env}`,
    );
  }
  try {
    return new Wallet(key.trim(), provider);
  } catch (cause) {
    throw new StrataError("CONFIG_KEY_MISSING", `${source.env} does not hold a valid private key`, { cause });
  }
}
