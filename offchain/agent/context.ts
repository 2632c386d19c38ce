import type { AgentChain } from "./chain.js";
import type { AgentConfig } from "./config.js";
import type { AgentDb } from "./db.js";
import type { Logger } from "../runtime/logger.js";
import type { PieceStore } from "./pieceStore.js";
import type { PublicFileSource } from "./files/publicFiles.js";

/** Everything a route or a duty needs, passed in explicitly. */
export interface AgentContext {
  config: AgentConfig;
  db: AgentDb;
  pieces: PieceStore;
  /** Public files by CID (routes /v1/files and the site routes read through it). */
  publicFiles: PublicFileSource;
  chain: AgentChain;
  logger: Logger;
  /** Wall clock in milliseconds (record timestamps, scan intervals); protocol time comes from the chain. */
  clock: () => number;
  /**
   * Asks the duty loop for a tick now rather than at the next interval (a route accepted work a duty finishes, such
   * as a signed state to submit). Absent until the agent starts ticking (tests that call `tick()` by hand).
   */
  wakeDuties?: () => void;
}
