/** The worker logs like the provider agent (pino JSON, bigints as strings) under the name "strata-worker". */
import { createLogger as createPinoLogger, type Logger } from "../agent/logger.js";
import type { DestinationStream } from "pino";

export { silentLogger, type Logger } from "../agent/logger.js";

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return createPinoLogger({ name: "strata-worker", ...options });
}
