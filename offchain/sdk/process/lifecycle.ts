/**
 * Process lifecycle shared by the long-running programs (provider agent, worker): graceful stop on signals
 * and "is this file the entry point" for files that are both a module and a runnable script.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Something that can be stopped and logs what happens while it stops. */
export interface Stoppable {
  logger: {
    info(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
  stop(): Promise<void>;
}

/** Stop gracefully on the first SIGINT/SIGTERM; a second one exits at once. */
export function stopOnSignals(started: Stoppable): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    started.logger.info({ signal }, "stopping");
    started.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        started.logger.error({ err: error }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

/** Whether the module at `moduleUrl` (its `import.meta.url`) is the script node was started with. */
export function isEntryPoint(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** Print a startup failure as `CODE: message` and exit 1. */
export function exitOnStartupError(error: unknown): never {
  const code = (error as { code?: string }).code ?? "ERROR";
  console.error(`${code}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

/**
 * Resolve once `stop()` has finished after the first SIGINT/SIGTERM (a second signal exits at once); `note`
 * says what is happening. For commands that run a service in the foreground until Ctrl-C.
 */
export async function runUntilSignal(
  what: string,
  stop: () => Promise<void>,
  note: (line: string) => void,
): Promise<void> {
  await new Promise<void>((resolveStopped, rejectStopped) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        note(`${signal} again: exiting without waiting`);
        process.exit(130);
      }
      stopping = true;
      note(`${signal}: stopping the ${what} (finishing the current step)...`);
      stop().then(
        () => {
          process.off("SIGINT", onSignal);
          process.off("SIGTERM", onSignal);
          resolveStopped();
        },
        (error: unknown) => {
          rejectStopped(error instanceof Error ? error : new Error(String(error)));
        },
      );
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
