/**
 * Process lifecycle of the long-running programs (provider agent, worker, `strata agent|worker start`):
 * graceful stop on signals, the exit status, and "is this file the entry point" for files that are both a
 * module and a runnable script. The process is passed in (default: the real one) so tests send signals to a
 * stand-in and read the exit status instead of exiting.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { StrataError } from "../sdk/errors.js";

/** The parts of `process` the lifecycle uses. */
export interface ProcessHandle {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): never;
  readonly argv: readonly string[];
}

/** Exit status of a program started with wrong arguments. */
export const EXIT_USAGE = 2;

/** Exit status after a second signal: stopped without waiting (128 + SIGINT). */
export const EXIT_FORCED = 130;

const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

/** Something that can be stopped and logs what happens while it stops. */
export interface Stoppable {
  logger: {
    info(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
  stop(): Promise<void>;
}

/** Stop gracefully on the first SIGINT/SIGTERM and exit 0 (1 if stopping failed); a second one exits at once. */
export function stopOnSignals(started: Stoppable, proc: ProcessHandle = process): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      proc.exit(EXIT_FORCED);
      return; // a stand-in process in tests returns from exit
    }
    stopping = true;
    started.logger.info({ signal }, "stopping");
    started.stop().then(
      () => proc.exit(0),
      (error: unknown) => {
        started.logger.error({ err: error }, "error while stopping");
        proc.exit(1);
      },
    );
  };
  for (const signal of SIGNALS) proc.on(signal, handler);
}

/** Whether the module at `moduleUrl` (its `import.meta.url`) is the script node was started with. */
export function isEntryPoint(moduleUrl: string, proc: Pick<ProcessHandle, "argv"> = process): boolean {
  const entry = proc.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** Print a startup failure as `CODE: message` and exit 1. */
export function exitOnStartupError(
  error: unknown,
  proc: Pick<ProcessHandle, "exit"> = process,
  print: (line: string) => void = console.error,
): never {
  const own = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  const code = typeof own === "string" ? own : "ERROR";
  print(`${code}: ${error instanceof Error ? error.message : String(error)}`);
  return proc.exit(1);
}

/** Print how to run the program and exit with EXIT_USAGE. */
export function exitWithUsage(
  usage: string,
  proc: Pick<ProcessHandle, "exit"> = process,
  print: (line: string) => void = console.error,
): never {
  print(`usage: ${usage}`);
  return proc.exit(EXIT_USAGE);
}

/**
 * Resolve once `stop()` has finished after the first SIGINT/SIGTERM (a second signal exits at once); `note`
 * says what is happening. For commands that run a service in the foreground until Ctrl-C. A failing `stop()`
 * rejects with its error (a non-Error is wrapped as STOP_FAILED).
 */
export async function runUntilSignal(
  what: string,
  stop: () => Promise<void>,
  note: (line: string) => void,
  proc: ProcessHandle = process,
): Promise<void> {
  await new Promise<void>((resolveStopped, rejectStopped) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        note(`${signal} again: exiting without waiting`);
        proc.exit(EXIT_FORCED);
        return; // a stand-in process in tests returns from exit
      }
      stopping = true;
      note(`${signal}: stopping the ${what} (finishing the current step)...`);
      stop().then(
        () => {
          for (const s of SIGNALS) proc.off(s, onSignal);
          resolveStopped();
        },
        (error: unknown) => {
          rejectStopped(
            error instanceof Error
              ? error
              : new StrataError("STOP_FAILED", `stopping the ${what} failed: ${String(error)}`, {
                  cause: error,
                }),
          );
        },
      );
    };
    for (const signal of SIGNALS) proc.on(signal, onSignal);
  });
}
