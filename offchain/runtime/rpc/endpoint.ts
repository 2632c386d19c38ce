/**
 * Which chain a program talks to, decided the same way by every tool (CLI, agent, worker, demo):
 *
 *   --rpc <url>  >  --network <name>  >  $STRATA_RPC_URL  >  the tool's configuration file  >  default
 *
 * The client's configuration file (`strata config set rpc <url>`) lives in the user's config folder
 * ($XDG_CONFIG_HOME/strata/config.json, else ~/.config/strata/config.json; $STRATA_CONFIG names another file).
 * A network name is looked up in that file's `networks` first; otherwise `localhost` is the local node
 * ($STRATA_RPC_URL or http://127.0.0.1:8545, as in hardhat.config.ts) and any other name `<name>` reads
 * `$<NAME>_RPC_URL` (the variables the deployment uses, e.g. SEPOLIA_RPC_URL, BASE_SEPOLIA_RPC_URL).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";
import { DEFAULT_RPC_URL } from "../../sdk/chain/connect.js";
import { StrataError } from "../../sdk/errors.js";
import { parseOrThrow } from "../../sdk/schemas/issues.js";
import { url } from "../../sdk/schemas/primitives.js";

export const RPC_URL_ENV = "STRATA_RPC_URL";
export const DEPLOYMENT_ENV = "STRATA_DEPLOYMENT";
export const CLIENT_CONFIG_ENV = "STRATA_CONFIG";

type Env = Readonly<Record<string, string | undefined>>;

const networkName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, "must be a name of letters, digits, - and _");

const rpcUrl = url(["http:", "https:", "ws:", "wss:"]);

const networkEntry = z.strictObject({ rpc: rpcUrl, deployment: z.string().min(1).optional() });

/** The client configuration file (every field optional). */
export const clientConfigSchema = z.strictObject({
  rpc: rpcUrl.optional(),
  deployment: z.string().min(1).optional(),
  keyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
    .optional(),
  network: networkName.optional(),
  networks: z.record(networkName, networkEntry).optional(),
});

export type ClientConfig = z.infer<typeof clientConfigSchema>;

/** The keys `strata config set|get|unset` accepts (`networks.<name>.rpc|deployment` too). */
export const CLIENT_CONFIG_KEYS = ["rpc", "deployment", "key-env", "network"] as const;

/** Where the client configuration file is: $STRATA_CONFIG, else the user's config folder. */
export function clientConfigPath(env: Env): string {
  const explicit = env[CLIENT_CONFIG_ENV];
  if (explicit !== undefined && explicit.trim() !== "") return resolve(explicit);
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && xdg.trim() !== "" ? xdg : join(env.HOME ?? homedir(), ".config");
  return join(base, "strata", "config.json");
}

/** The client configuration at `path` ({} when the file does not exist). */
export function readClientConfig(path: string): ClientConfig {
  if (!existsSync(path)) return {};
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (cause) {
    throw new StrataError("CONFIG_PARSE_ERROR", `${path} is not valid JSON`, {
      details: `fix or delete the file (strata config list shows what it holds)`,
      cause,
    });
  }
  return parseOrThrow(clientConfigSchema, json, "CONFIG_INVALID", `client configuration ${path}`);
}

/** Validate and write the client configuration (atomically, creating its folder). */
export function writeClientConfig(path: string, config: ClientConfig): void {
  const valid = parseOrThrow(clientConfigSchema, config, "CONFIG_INVALID", "client configuration");
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(valid, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/** Where the endpoint came from, as the user would name it (repeated in hints). */
export type EndpointSource =
  | { kind: "flag" }
  | { kind: "network"; name: string; via: "config" | "env" | "builtin"; from: string }
  | { kind: "env" }
  | { kind: "config"; path: string }
  | { kind: "default" };

export interface ResolvedEndpoint {
  rpcUrl: string;
  /** A deployment file named by the network entry, $STRATA_DEPLOYMENT or the configuration (the flag wins). */
  deployment?: string;
  source: EndpointSource;
}

export interface EndpointInputs {
  /** --rpc, when given. */
  rpc?: string | undefined;
  /** --network, when given. */
  network?: string | undefined;
  /** --deployment, when given. */
  deployment?: string | undefined;
  env: Env;
  /** The tool's own configured endpoint (the agent's or worker's file), when it has one; else the client file. */
  configured?: { rpcUrl: string; path: string } | undefined;
  /** The client configuration (default: read from clientConfigPath(env)). */
  clientConfig?: { config: ClientConfig; path: string } | undefined;
}

/** The RPC endpoint (and deployment file, if one is named) by the precedence in this module's comment. */
export function resolveEndpoint(inputs: EndpointInputs): ResolvedEndpoint {
  const { env } = inputs;
  if (inputs.rpc !== undefined && inputs.network !== undefined) {
    throw new StrataError("INVALID_ARGUMENT", "pass either --rpc or --network, not both");
  }
  const client = inputs.clientConfig ?? loadClient(env);
  const deploymentFrom = (named: string | undefined): { deployment?: string } => {
    const chosen = inputs.deployment ?? named ?? nonEmpty(env[DEPLOYMENT_ENV]) ?? client.config.deployment;
    return chosen === undefined ? {} : { deployment: chosen };
  };
  if (inputs.rpc !== undefined) {
    return { rpcUrl: checkUrl(inputs.rpc, "--rpc"), ...deploymentFrom(undefined), source: { kind: "flag" } };
  }
  if (inputs.network !== undefined) return networkEndpoint(inputs.network, env, client, deploymentFrom);
  const fromEnv = nonEmpty(env[RPC_URL_ENV]);
  if (fromEnv !== undefined) {
    return { rpcUrl: checkUrl(fromEnv, RPC_URL_ENV), ...deploymentFrom(undefined), source: { kind: "env" } };
  }
  if (inputs.configured !== undefined) {
    return {
      rpcUrl: inputs.configured.rpcUrl,
      ...deploymentFrom(undefined),
      source: { kind: "config", path: inputs.configured.path },
    };
  }
  if (client.config.network !== undefined && client.config.rpc === undefined) {
    return networkEndpoint(client.config.network, env, client, deploymentFrom);
  }
  if (client.config.rpc !== undefined) {
    return {
      rpcUrl: client.config.rpc,
      ...deploymentFrom(undefined),
      source: { kind: "config", path: client.path },
    };
  }
  return { rpcUrl: DEFAULT_RPC_URL, ...deploymentFrom(undefined), source: { kind: "default" } };
}

function loadClient(env: Env): { config: ClientConfig; path: string } {
  const path = clientConfigPath(env);
  return { config: readClientConfig(path), path };
}

function networkEndpoint(
  name: string,
  env: Env,
  client: { config: ClientConfig; path: string },
  deploymentFrom: (named: string | undefined) => { deployment?: string },
): ResolvedEndpoint {
  const entry = client.config.networks?.[name];
  if (entry !== undefined) {
    return {
      rpcUrl: entry.rpc,
      ...deploymentFrom(entry.deployment),
      source: { kind: "network", name, via: "config", from: client.path },
    };
  }
  if (name === "localhost") {
    const fromEnv = nonEmpty(env[RPC_URL_ENV]);
    return {
      rpcUrl: fromEnv === undefined ? DEFAULT_RPC_URL : checkUrl(fromEnv, RPC_URL_ENV),
      ...deploymentFrom(undefined),
      source: {
        kind: "network",
        name,
        via: fromEnv === undefined ? "builtin" : "env",
        from: fromEnv === undefined ? DEFAULT_RPC_URL : RPC_URL_ENV,
      },
    };
  }
  const variable = networkRpcVariable(name);
  const fromEnv = nonEmpty(env[variable]);
  if (fromEnv !== undefined) {
    return {
      rpcUrl: checkUrl(fromEnv, variable),
      ...deploymentFrom(undefined),
      source: { kind: "network", name, via: "env", from: variable },
    };
  }
  const known = Object.keys(client.config.networks ?? {});
  throw new StrataError("INVALID_ARGUMENT", `unknown network "${name}"`, {
    details:
      `set its endpoint once with: strata config set networks.${name}.rpc <url> (or export ${variable}=<url>)` +
      (known.length > 0 ? `; configured networks: ${known.join(", ")}` : ""),
  });
}

/** `baseSepolia` -> BASE_SEPOLIA_RPC_URL, `sepolia` -> SEPOLIA_RPC_URL (hardhat.config.ts's variables). */
export function networkRpcVariable(name: string): string {
  if (name === "testnetRehearsal") return "STRATA_REHEARSAL_RPC_URL";
  const snake = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/-/g, "_")
    .toUpperCase();
  return `${snake}_RPC_URL`;
}

/** How a hint names the endpoint's origin: the flags to repeat, or the place it was configured. */
export function describeSource(source: EndpointSource): string {
  switch (source.kind) {
    case "flag":
      return "--rpc";
    case "network":
      return `--network ${source.name} (${source.via === "config" ? `from ${source.from}` : source.from})`;
    case "env":
      return `$${RPC_URL_ENV}`;
    case "config":
      return `the configuration ${source.path}`;
    case "default":
      return `the default ${DEFAULT_RPC_URL}`;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function checkUrl(value: string, what: string): string {
  const parsed = rpcUrl.safeParse(value);
  if (!parsed.success) {
    throw new StrataError("INVALID_ARGUMENT", `${what} is not an http(s) or ws(s) URL: "${value}"`);
  }
  return parsed.data;
}
