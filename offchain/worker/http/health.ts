/**
 * The worker's health as /health reports it. `starting` until the index first catches up with the chain,
 * `degraded` while the latest tick could not index (RPC down, timing out, or rate-limited), `ok` otherwise.
 * `since` is when the current status began.
 */

export type HealthStatus = "starting" | "ok" | "degraded";

export interface HealthError {
  code: string;
  message: string;
  /** ISO time of the failure. */
  at: string;
}

export interface HealthReport {
  status: HealthStatus;
  chainId: string;
  /** The worker's address, or null when read-only. */
  worker: string | null;
  readOnly: boolean;
  indexedBlock: number | null;
  head: number | null;
  blocksBehind: number | null;
  dataSetsTracked: number;
  lastError: HealthError | null;
  /** ISO time at which `status` was entered. */
  since: string;
  version: string;
}

export const WORKER_VERSION = "0.1.0";

/** Tracks the status transitions the runtime reports (a small state machine, no I/O). */
export class HealthState {
  private statusValue: HealthStatus = "starting";
  private sinceMs: number;
  private error: HealthError | null = null;
  private caughtUpOnce = false;

  constructor(private readonly clock: () => number) {
    this.sinceMs = clock();
  }

  get status(): HealthStatus {
    return this.statusValue;
  }

  get since(): string {
    return new Date(this.sinceMs).toISOString();
  }

  get lastError(): HealthError | null {
    return this.error;
  }

  /** The index step succeeded; `caughtUp` when it reached the confirmed head. */
  indexed(caughtUp: boolean): void {
    if (caughtUp) this.caughtUpOnce = true;
    this.set(this.caughtUpOnce ? "ok" : "starting");
  }

  /** Indexing failed (after the RPC retries): degraded until a step succeeds. */
  failed(error: unknown): void {
    const code =
      typeof error === "object" && error !== null && typeof (error as { code?: unknown }).code === "string"
        ? (error as { code: string }).code
        : "ERROR";
    const message = error instanceof Error ? error.message : String(error);
    this.error = {
      code,
      message: message.length > 500 ? `${message.slice(0, 500)}...` : message,
      at: new Date(this.clock()).toISOString(),
    };
    this.set("degraded");
  }

  private set(status: HealthStatus): void {
    if (status === this.statusValue) return;
    this.statusValue = status;
    this.sinceMs = this.clock();
  }
}
