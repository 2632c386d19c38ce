import type { HDNodeWallet, Wallet } from "ethers";
import { loadSigner, type KeySource } from "../runtime/keys.js";
import {
  connectChain,
  DEFAULT_KEY_ENV,
  DEFAULT_RPC_URL,
  withSigner,
  type StrataChain,
} from "../sdk/chain/connect.js";
import { toJsonValue } from "../sdk/client/agentJson.js";
import { createAgentClient, type AgentClient } from "../sdk/client/agentClient.js";
import { formatAmount } from "./format/units.js";
import { toBaseUnits } from "./parse.js";

/** Options every command accepts (declared on the root program). */
export interface GlobalOptions {
  rpc: string;
  deployment?: string;
  keyEnv: string;
  account?: number;
  allowDevKeys?: boolean;
  json?: boolean;
}

/** The outside world of the CLI, injectable for tests. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when progress bars may be drawn (stdout is a terminal). */
  interactive: boolean;
  env: Readonly<Record<string, string | undefined>>;
  fetch: typeof fetch;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    interactive: process.stdout.isTTY,
    env: process.env,
    fetch: globalThis.fetch,
  };
}

export type Signing = Wallet | HDNodeWallet;

export interface TokenUnits {
  decimals: number;
  symbol: string;
  /** Base units as "12.5 tUSD". */
  format: (units: bigint) => string;
  /** "12.5" as base units (INVALID_ARGUMENT on too many decimals). */
  parse: (amount: string) => bigint;
}

/** Per-run state: lazily opened chain connection and signer, and output helpers. */
export class CliContext {
  private chainPromise: Promise<StrataChain> | undefined;
  private unitsPromise: Promise<TokenUnits> | undefined;
  /** Set by a command that printed its result but did not fully succeed (e.g. 2: a provider was unreachable). */
  exitCode: 0 | 1 | 2 | 3 = 0;

  constructor(
    readonly options: GlobalOptions,
    readonly io: CliIo,
  ) {}

  get json(): boolean {
    return this.options.json === true;
  }

  /** Progress bars only for a person at a terminal. */
  get showProgress(): boolean {
    return this.io.interactive && this.options.json !== true;
  }

  keySource(): KeySource {
    return this.options.account === undefined
      ? { kind: "env", variable: this.options.keyEnv }
      : { kind: "account", index: this.options.account };
  }

  chain(): Promise<StrataChain> {
    this.chainPromise ??= connectChain({
      rpcUrl: this.options.rpc,
      fetch: this.io.fetch,
      ...(this.options.deployment === undefined ? {} : { deploymentFile: this.options.deployment }),
    });
    return this.chainPromise;
  }

  /** The signing wallet, connected to the chain. */
  async signer(): Promise<Signing> {
    const chain = await this.chain();
    return loadSigner(this.keySource(), {
      chainId: chain.chainId,
      provider: chain.provider,
      allowDevKeys: this.options.allowDevKeys,
      env: this.io.env,
    });
  }

  /** Chain, signer and the contracts bound to the signer. */
  async signed(): Promise<{ chain: StrataChain; signer: Signing } & ReturnType<typeof withSigner>> {
    const chain = await this.chain();
    const signer = await this.signer();
    return { chain, signer, ...withSigner(chain, signer) };
  }

  /** The payment token's decimals and symbol, to read and print amounts. */
  async tokenUnits(): Promise<TokenUnits> {
    this.unitsPromise ??= (async () => {
      const { token } = await this.chain();
      const [decimals, symbol] = await Promise.all([token.decimals(), token.symbol().catch(() => "tokens")]);
      const d = Number(decimals);
      return {
        decimals: d,
        symbol,
        format: (units: bigint) => formatAmount(units, d, symbol),
        parse: (amount: string) => toBaseUnits(amount, d),
      };
    })();
    return this.unitsPromise;
  }

  agent(endpoint: string, options: { timeoutMs?: number } = {}): AgentClient {
    return createAgentClient(endpoint, { fetch: this.io.fetch, ...options });
  }

  /** Print a command's result: JSON (bigints as decimal strings) with --json, else the human lines. */
  result(value: unknown, human: () => string | readonly string[]): void {
    if (this.json) {
      this.io.stdout(`${JSON.stringify(toJsonValue(value), null, 2)}\n`);
      return;
    }
    const text = human();
    const lines = typeof text === "string" ? [text] : text;
    this.io.stdout(lines.map((line) => `${line}\n`).join(""));
  }

  /** A progress note for a person (nothing with --json). */
  note(text: string): void {
    if (!this.json) this.io.stderr(`${text}\n`);
  }

  async close(): Promise<void> {
    if (this.chainPromise === undefined) return;
    try {
      (await this.chainPromise).provider.destroy();
    } catch {
      // the connection never opened: nothing to close
    }
  }
}

export const DEFAULTS = { rpc: DEFAULT_RPC_URL, keyEnv: DEFAULT_KEY_ENV };
