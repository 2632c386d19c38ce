/**
 * Loading the signing key of a program (agent, worker, CLI) from where its configuration says. One rule for
 * Hardhat's development accounts, whose keys are public: allowed on local chains (the SDK's LOCAL_CHAIN_IDS),
 * refused elsewhere (KEY_REFUSED) unless the operator explicitly allows them (`--allow-dev-keys`).
 */
import { HDNodeWallet, Wallet, type Provider } from "ethers";
import { devAccountWallet, isLocalChain } from "../sdk/chain/connect.js";
import { StrataError } from "../sdk/errors.js";

/** Where the signing key comes from. */
export type KeySource =
  | { kind: "env"; variable: string }
  | { kind: "account"; index: number }
  | { kind: "privateKey"; key: string };

/** The key field of the agent's and the worker's configuration files. */
export type ConfiguredKey = { env: string } | { account: number };

/** The key source a configuration file names. */
export function keySourceFromConfig(key: ConfiguredKey): KeySource {
  return "env" in key ? { kind: "env", variable: key.env } : { kind: "account", index: key.account };
}

export interface KeyContext {
  chainId: bigint;
  /** Connect the wallet to this provider (default: an unconnected wallet). */
  provider?: Provider;
  /** Use dev accounts on any chain (their keys are public!). */
  allowDevKeys?: boolean;
  /** Where `env` key sources are read (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Whether the dev accounts may sign on `chainId`. */
export function devKeysAllowed(chainId: bigint, allowDevKeys = false): boolean {
  return allowDevKeys || isLocalChain(chainId);
}

/**
 * The signing wallet for `source`. KEY_REFUSED for a dev account on a non-local chain (unless allowed),
 * KEY_MISSING when the environment variable is unset, INVALID_ARGUMENT for a malformed key or index.
 */
export function loadSigner(source: KeySource, context: KeyContext): Wallet | HDNodeWallet {
  const provider = context.provider ?? null;
  switch (source.kind) {
    case "account": {
      if (!Number.isSafeInteger(source.index) || source.index < 0) {
        throw new StrataError("INVALID_ARGUMENT", `--account must be a non-negative integer`);
      }
      if (!devKeysAllowed(context.chainId, context.allowDevKeys)) {
        throw new StrataError(
          "KEY_REFUSED",
          `refusing Hardhat dev account ${source.index} on chain ${context.chainId}: its key is public`,
          { details: "use --key-env <VAR> with your own key (or --allow-dev-keys on a private test chain)" },
        );
      }
      const wallet = devAccountWallet(source.index);
      return provider ? wallet.connect(provider) : wallet;
    }
    case "env": {
      const key = (context.env ?? process.env)[source.variable];
      if (key === undefined || key.trim() === "") {
        throw new StrataError("KEY_MISSING", `no signing key: ${source.variable} is not set`, {
          details: `export ${source.variable}=0x<private key>, or use --account <n> on a local chain`,
        });
      }
      return walletFromKey(key.trim(), source.variable, provider);
    }
    case "privateKey":
      return walletFromKey(source.key, "the private key", provider);
  }
}

/** `loadSigner` with the chain id read from `provider` (a service's key, connected to its provider). */
export async function loadConnectedSigner(
  source: KeySource,
  provider: Provider,
  options: Omit<KeyContext, "chainId" | "provider"> = {},
): Promise<Wallet | HDNodeWallet> {
  const { chainId } = await provider.getNetwork();
  return loadSigner(source, { ...options, chainId, provider });
}

function walletFromKey(key: string, what: string, provider: Provider | null): Wallet {
  const normalized = key.startsWith("0x") ? key : `0x${key}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(normalized)) {
    throw new StrataError("INVALID_ARGUMENT", `${what} is not a 32-byte hex private key`);
  }
  return new Wallet(normalized, provider);
}
