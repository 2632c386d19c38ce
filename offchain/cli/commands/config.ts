/**
 * `strata config ...`: the client configuration file, so that a user sets a chain once. Keys: rpc,
 * deployment, key-env, network (a default network name) and networks.<name>.rpc|deployment. The file lives in
 * the user's config folder (see offchain/runtime/rpc/endpoint.ts); flags and $STRATA_RPC_URL still win.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import {
  CLIENT_CONFIG_KEYS,
  resolveEndpoint,
  writeClientConfig,
  describeSource,
  type ClientConfig,
} from "../../runtime/rpc/endpoint.js";
import { StrataError } from "../../sdk/errors.js";
import type { CliContext } from "../context.js";
import type { Runner } from "../runner.js";

const KEY_HELP = `keys: ${CLIENT_CONFIG_KEYS.join(", ")}, networks.<name>.rpc, networks.<name>.deployment`;

export function registerConfigCommands(program: Command, run: Runner): void {
  const config = program
    .command("config")
    .description(
      "the client configuration file (default chain, deployment, key variable, named networks); " +
        "precedence: flag > environment ($STRATA_RPC_URL) > this file > default",
    );
  config
    .command("set")
    .description(`set a key in the configuration file (${KEY_HELP})`)
    .argument("<key>", "e.g. rpc, deployment, key-env, network, networks.sepolia.rpc")
    .argument("<value>", "e.g. http://127.0.0.1:8545")
    .action((key: string, value: string, _opts: unknown, command: Command) =>
      run(
        command,
        now((ctx) => {
          set(ctx, key, value);
        }),
      ),
    );
  config
    .command("get")
    .description(`print one key of the configuration file (exit 1 when unset; ${KEY_HELP})`)
    .argument("<key>", "e.g. rpc")
    .action((key: string, _opts: unknown, command: Command) =>
      run(
        command,
        now((ctx) => {
          get(ctx, key);
        }),
      ),
    );
  config
    .command("unset")
    .description(`remove a key from the configuration file (${KEY_HELP})`)
    .argument("<key>", "e.g. rpc, networks.sepolia")
    .action((key: string, _opts: unknown, command: Command) =>
      run(
        command,
        now((ctx) => {
          unset(ctx, key);
        }),
      ),
    );
  config
    .command("list")
    .description("print the configuration file, where it is, and the endpoint a command would use now")
    .action((_opts: unknown, command: Command) =>
      run(
        command,
        now((ctx) => {
          list(ctx);
        }),
      ),
    );
}

/** A command that does its work at once (no chain, no network). */
function now(action: (ctx: CliContext) => void): (ctx: CliContext) => Promise<void> {
  return (ctx) => {
    action(ctx);
    return Promise.resolve();
  };
}

type Path = TopPath | NetworkPath;
interface TopPath {
  kind: "top";
  field: "rpc" | "deployment" | "keyEnv" | "network";
}
interface NetworkPath {
  kind: "network";
  name: string;
  field: "rpc" | "deployment" | null;
}

function parseKey(key: string): Path {
  switch (key) {
    case "rpc":
    case "deployment":
    case "network":
      return { kind: "top", field: key };
    case "key-env":
    case "keyEnv":
      return { kind: "top", field: "keyEnv" };
  }
  const match = /^networks\.([A-Za-z][A-Za-z0-9_-]{0,63})(?:\.(rpc|deployment))?$/.exec(key);
  if (match?.[1] !== undefined) {
    const field = match[2] === "rpc" || match[2] === "deployment" ? match[2] : null;
    return { kind: "network", name: match[1], field };
  }
  throw new StrataError("INVALID_ARGUMENT", `unknown configuration key "${key}"`, { details: KEY_HELP });
}

function read(ctx: CliContext, path: Path): unknown {
  const { config } = ctx.clientConfig();
  if (path.kind === "top") return config[path.field];
  const entry = config.networks?.[path.name];
  return path.field === null ? entry : entry?.[path.field];
}

function set(ctx: CliContext, key: string, value: string): void {
  const path = parseKey(key);
  const { config, path: file } = ctx.clientConfig();
  // A deployment file is kept as an absolute path: the configuration is used from any folder.
  const stored = path.field === "deployment" ? resolve(value) : value;
  let next: ClientConfig;
  if (path.kind === "top") {
    next = { ...config, [path.field]: stored };
  } else {
    if (path.field === null) {
      throw new StrataError(
        "INVALID_ARGUMENT",
        `set networks.${path.name}.rpc or networks.${path.name}.deployment`,
      );
    }
    const entry = config.networks?.[path.name];
    if (path.field === "deployment" && entry === undefined) {
      throw new StrataError("INVALID_ARGUMENT", `network "${path.name}" has no rpc yet`, {
        details: `first: ${ctx.commandLine(`config set networks.${path.name}.rpc <url>`)}`,
      });
    }
    const rpc = path.field === "rpc" ? stored : (entry?.rpc ?? "");
    next = {
      ...config,
      networks: {
        ...config.networks,
        [path.name]: {
          rpc,
          ...(entry?.deployment === undefined ? {} : { deployment: entry.deployment }),
          ...(path.field === "deployment" ? { deployment: stored } : {}),
        },
      },
    };
  }
  writeClientConfig(file, next);
  ctx.result({ config: file, key, value: stored }, () => `${key} = ${stored} (in ${file})`);
}

function get(ctx: CliContext, key: string): void {
  const value = read(ctx, parseKey(key));
  const { path: file } = ctx.clientConfig();
  if (value === undefined) {
    throw new StrataError("INVALID_ARGUMENT", `${key} is not set in ${file}`, {
      details: `set it with: ${ctx.commandLine(`config set ${key} <value>`)}`,
    });
  }
  ctx.result({ config: file, key, value }, () => (typeof value === "string" ? value : JSON.stringify(value)));
}

function unset(ctx: CliContext, key: string): void {
  const path = parseKey(key);
  const { config, path: file } = ctx.clientConfig();
  const had = read(ctx, path) !== undefined;
  let next: ClientConfig;
  if (path.kind === "top") {
    next = Object.fromEntries(Object.entries(config).filter(([k]) => k !== path.field));
  } else {
    const others = Object.entries(config.networks ?? {}).filter(([name]) => name !== path.name);
    const entry = config.networks?.[path.name];
    // Without its rpc a network entry means nothing: unsetting the rpc removes the network.
    const kept =
      entry === undefined || path.field === null || path.field === "rpc"
        ? []
        : [[path.name, { rpc: entry.rpc }]];
    const networks = Object.fromEntries([...others, ...kept]) as NonNullable<ClientConfig["networks"]>;
    const rest = Object.fromEntries(Object.entries(config).filter(([k]) => k !== "networks")) as ClientConfig;
    next = Object.keys(networks).length === 0 ? rest : { ...rest, networks };
  }
  writeClientConfig(file, next);
  ctx.result({ config: file, key, removed: had }, () =>
    had ? `removed ${key} from ${file}` : `${key} was not set in ${file}`,
  );
}

function list(ctx: CliContext): void {
  const { config, path: file } = ctx.clientConfig();
  let endpoint: { rpcUrl: string; deployment: string | null; from: string } | { error: string };
  try {
    const resolved = resolveEndpoint({
      rpc: ctx.options.rpc,
      network: ctx.options.network,
      deployment: ctx.options.deployment,
      env: ctx.io.env,
      clientConfig: { config, path: file },
    });
    endpoint = {
      rpcUrl: resolved.rpcUrl,
      deployment: resolved.deployment ?? null,
      from: describeSource(resolved.source),
    };
  } catch (error) {
    endpoint = { error: error instanceof Error ? error.message : String(error) };
  }
  ctx.result({ config: file, values: config, effective: endpoint }, () => [
    `# ${file}`,
    ...Object.entries(config).flatMap(([key, value]) =>
      key === "networks"
        ? Object.entries(value as NonNullable<ClientConfig["networks"]>).flatMap(([name, entry]) => [
            `networks.${name}.rpc = ${entry.rpc}`,
            ...(entry.deployment === undefined ? [] : [`networks.${name}.deployment = ${entry.deployment}`]),
          ])
        : [
            `${key === "keyEnv" ? "key-env" : key} = ${typeof value === "string" ? value : JSON.stringify(value)}`,
          ],
    ),
    "error" in endpoint
      ? `# effective endpoint: ${endpoint.error}`
      : `# effective endpoint: ${endpoint.rpcUrl} (from ${endpoint.from})`,
  ]);
}
