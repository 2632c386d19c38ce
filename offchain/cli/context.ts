import type { HDNodeWallet, Wallet } from "ethers";
import { loadSigner, type KeySource } from "../runtime/keys.js";
import {
  clientConfigPath,
  describeSource,
  readClientConfig,
  resolveEndpoint,
  type ClientConfig,
  type ResolvedEndpoint,
} from "../runtime/rpc/endpoint.js";
import {
  connectChain,
  DEFAULT_KEY_ENV,
  DEFAULT_RPC_URL,
  withRpcEnv,
  withSigner,
  type StrataChain,
} from "../sdk/chain/connect.js";
import { toJsonValue } from "../sdk/client/agentJson.js";
import { createAgentClient, type AgentClient } from "../sdk/client/agentClient.js";
import { StrataError } from "../sdk/errors.js";
import { formatAmount, type PeriodClock } from "./format/units.js";
import { toBaseUnits } from "./parse.js";

/** Options every command accepts (declared on the root program). Unset when not given on the command line. */
export interface GlobalOptions {
  rpc?: string;
  network?: string;
  deployment?: string;
  keyEnv?: string;
  account?: number;
  allowDevKeys?: boolean;
  json?: boolean;
  raw?: boolean;
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
  /** "12.5" as base units (INVALID_ARGUMENT on too many decimals, AMOUNT_OUT_OF_RANGE above 2^128-1 units). */
  parse: (amount: string) => bigint;
  /** Like parse, and AMOUNT_OUT_OF_RANGE for 0 (`what` names the amount in the message). */
  parsePositive: (amount: string, what?: string) => bigint;
}

/** Per-run state: lazily opened chain connection and signer, and output helpers. */
export class CliContext {
  private chainPromise: Promise<StrataChain> | undefined;
  private unitsPromise: Promise<TokenUnits> | undefined;
  private client: { config: ClientConfig; path: string } | undefined;
  private resolved: ResolvedEndpoint | undefined;
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

  /** The client configuration file (`strata config`) and where it is. */
  clientConfig(): { config: ClientConfig; path: string } {
    if (this.client === undefined) {
      const path = clientConfigPath(this.io.env);
      this.client = { config: readClientConfig(path), path };
    }
    return this.client;
  }

  /** The RPC endpoint and deployment file: --rpc > --network > $STRATA_RPC_URL > config file > default. */
  endpoint(): ResolvedEndpoint {
    this.resolved ??= resolveEndpoint({
      rpc: this.options.rpc,
      network: this.options.network,
      deployment: this.options.deployment,
      env: this.io.env,
      clientConfig: this.clientConfig(),
    });
    return this.resolved;
  }

  /** The environment variable holding the key: --key-env, else the configuration's keyEnv, else the default. */
  get keyEnv(): string {
    return this.options.keyEnv ?? this.clientConfig().config.keyEnv ?? DEFAULT_KEY_ENV;
  }

  keySource(): KeySource {
    return this.options.account === undefined
      ? { kind: "env", variable: this.keyEnv }
      : { kind: "account", index: this.options.account };
  }

  /**
   * The global flags the user gave (chain and key), to repeat in a hint: `strata <these> provider register`.
   * --json is left out: the hint is for a person.
   */
  globalFlags(replace: Partial<GlobalOptions> = {}): string {
    const o = { ...this.options, ...replace };
    return [
      ...(o.rpc === undefined ? [] : [`--rpc ${o.rpc}`]),
      ...(o.network === undefined ? [] : [`--network ${o.network}`]),
      ...(o.deployment === undefined ? [] : [`--deployment ${o.deployment}`]),
      ...(o.account === undefined
        ? o.keyEnv === undefined
          ? []
          : [`--key-env ${o.keyEnv}`]
        : [`--account ${o.account}`]),
      ...(o.allowDevKeys === true ? ["--allow-dev-keys"] : []),
    ].join(" ");
  }

  /** `strata <the user's global flags> <rest>`: a command line to suggest. */
  commandLine(rest: string, replace: Partial<GlobalOptions> = {}): string {
    const flags = this.globalFlags(replace);
    return `strata ${flags === "" ? "" : `${flags} `}${rest}`;
  }

  chain(): Promise<StrataChain> {
    this.chainPromise ??= (async () => {
      const endpoint = this.endpoint();
      try {
        return await connectChain({
          rpcUrl: endpoint.rpcUrl,
          fetch: this.io.fetch,
          ...(endpoint.deployment === undefined ? {} : { deploymentFile: endpoint.deployment }),
        });
      } catch (error) {
        throw withEndpointHint(error, endpoint);
      }
    })();
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
        // --raw: the base units next to every amount a person reads.
        format: (units: bigint) =>
          this.options.raw === true
            ? `${formatAmount(units, d, symbol)} (${units} base units)`
            : formatAmount(units, d, symbol),
        parse: (amount: string) => toBaseUnits(amount, d, symbol),
        parsePositive: (amount: string, what = "the amount") => {
          const units = toBaseUnits(amount, d, symbol);
          if (units === 0n) {
            throw new StrataError("AMOUNT_OUT_OF_RANGE", `${what} must be more than 0 ${symbol}`);
          }
          return units;
        },
      };
    })();
    return this.unitsPromise;
  }

  /** The market's proving clock and the chain's time, to show periods next to clock time. */
  async periodClock(): Promise<PeriodClock> {
    const chain = await this.chain();
    const [genesis, provingPeriod, latest] = await Promise.all([
      chain.market.genesis(),
      chain.market.provingPeriod(),
      chain.provider.getBlock("latest"),
    ]);
    return { genesis, provingPeriod, now: BigInt(latest?.timestamp ?? Math.floor(Date.now() / 1000)) };
  }

  agent(endpoint: string, options: { timeoutMs?: number } = {}): AgentClient {
    // With the real fetch, the client keeps its node:http transports for piece bytes (ranged reads cost about half
    // the CPU of fetch); an injected fetch (tests) carries every request.
    const transport = this.io.fetch === globalThis.fetch ? {} : { fetch: this.io.fetch };
    return createAgentClient(endpoint, { ...transport, ...options });
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

/**
 * A connection failure with a hint that says where the endpoint came from (the user's own flag, variable or
 * configuration file), so that the fix is repeated in the user's terms.
 */
function withEndpointHint(error: unknown, endpoint: ResolvedEndpoint): unknown {
  if (!(error instanceof StrataError)) return error;
  if (
    error.code !== "RPC_UNREACHABLE" &&
    error.code !== "WRONG_NETWORK" &&
    error.code !== "DEPLOYMENT_NOT_FOUND"
  )
    return error;
  const origin = `the endpoint ${endpoint.rpcUrl} comes from ${describeSource(endpoint.source)}`;
  const fix =
    endpoint.source.kind === "config"
      ? "change it with strata config set rpc <url>, or pass --rpc <url>"
      : endpoint.source.kind === "env"
        ? "change $STRATA_RPC_URL, or pass --rpc <url>"
        : "";
  // The deployment hint names the local commands: they must target the user's endpoint, not the default.
  const own = error.details?.replace(
    '"npm run deploy:local"',
    `"${withRpcEnv(endpoint.rpcUrl, "npm run deploy:local")}"`,
  );
  const details = [own, `${origin}${fix === "" ? "" : `: ${fix}`}`]
    .filter((d): d is string => d !== undefined && d !== "")
    .join("; ");
  return new StrataError(error.code, error.message, { details, cause: error.cause });
}
