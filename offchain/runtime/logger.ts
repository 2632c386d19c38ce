/**
 * Structured JSON logs (pino) for the long-running programs: the provider agent logs as "strata-agent", the
 * worker as "strata-worker". Duties log through child loggers: `logger.child({ duty: "prover" })`.
 */
import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

export interface LoggerOptions {
  /** The program's name in every line ("strata-agent", "strata-worker"). */
  name: string;
  /** pino level (default "info"). */
  level?: string;
  /** Where lines go (default: stdout). */
  destination?: DestinationStream;
}

/** A JSON logger at `level`, writing to stdout unless `destination` is given. Bigints print as strings. */
export function createLogger(options: LoggerOptions): Logger {
  const logger = pino(
    {
      name: options.name,
      level: options.level ?? "info",
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => stringifyBigints(arg)) as Parameters<typeof method>);
        },
      },
    },
    options.destination,
  );
  return logger;
}

/** A logger that drops everything (tests). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/**
 * Bigints (amounts, ids, periods) print as decimal strings, as everywhere in Strata's JSON. Only plain objects
 * and arrays are walked, two levels deep: errors, requests and contracts are left to pino's serializers.
 */
function stringifyBigints(value: unknown, depth = 0): unknown {
  if (typeof value === "bigint") return value.toString();
  if (depth >= 3) return value;
  if (Array.isArray(value)) return value.map((item) => stringifyBigints(item, depth + 1));
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = stringifyBigints(inner, depth + 1);
    return out;
  }
  return value;
}
