/**
 * The `strata` CLI as a child process for the e2e tests: run as one development account against a local chain,
 * with a catalog of its own, resolving to the exit code, stdout (bytes and text) and stderr.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { catalogPathFor, strataArgv } from "../../scripts/lib/localProcesses.js";
import { NODE, ROOT, type LocalChain } from "../../scripts/lib/localChain.js";

export interface RawRunOptions {
  /** The catalog file (STRATA_CATALOG); the chain's own catalog when absent. */
  catalog?: string;
  /** Called with each whole stderr line, and a way to signal the child. */
  onStderrLine?: (line: string, kill: (signal: NodeJS.Signals) => void) => void;
}

export async function runStrataRaw(
  chain: LocalChain,
  account: number,
  args: string[],
  options: RawRunOptions = {},
): Promise<{ code: number | null; stdout: Buffer; text: string; stderr: string }> {
  const child = spawn(NODE, strataArgv(chain, account, args), {
    cwd: ROOT,
    env: { ...process.env, STRATA_CATALOG: options.catalog ?? catalogPathFor(chain) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: Buffer[] = [];
  let stderr = "";
  let pending = "";
  child.stdout.on("data", (d: Buffer) => out.push(d));
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    pending += d.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) options.onStderrLine?.(line, (name) => child.kill(name));
  });
  const [code] = (await once(child, "exit")) as [number | null];
  const stdout = Buffer.concat(out);
  return { code, stdout, text: stdout.toString(), stderr };
}
