/**
 * A log file that stops growing at a cap: a workload's stdout and stderr are appended until the file holds
 * `capBytes`, then one marker line is written and the rest is read and dropped (so the workload never blocks
 * on a full pipe). The file is appended to, so a workload resumed after an agent restart shares the cap.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";

export const TRUNCATION_MARKER = "\n[strata: log cap reached; further output dropped]\n";

export class CappedLog {
  private written: number;
  private truncated = false;
  private readonly stream: WriteStream;

  private constructor(
    readonly path: string,
    readonly capBytes: number,
    existing: number,
  ) {
    this.written = existing;
    this.truncated = existing >= capBytes;
    this.stream = createWriteStream(path, { flags: "a" });
    // A write error (disk full) must not crash the agent; the workload keeps running without its log.
    this.stream.on("error", () => {
      this.truncated = true;
    });
  }

  static async open(path: string, capBytes: number): Promise<CappedLog> {
    let existing = 0;
    try {
      existing = (await stat(path)).size;
    } catch {
      // new file
    }
    return new CappedLog(path, capBytes, existing);
  }

  /** Bytes in the file (including earlier runs), at most the cap plus the marker. */
  get bytes(): number {
    return this.written;
  }

  get isTruncated(): boolean {
    return this.truncated;
  }

  write(chunk: Buffer): void {
    if (this.truncated) return;
    const room = this.capBytes - this.written;
    if (chunk.length <= room) {
      this.stream.write(chunk);
      this.written += chunk.length;
      return;
    }
    if (room > 0) this.stream.write(chunk.subarray(0, room));
    this.stream.write(TRUNCATION_MARKER);
    this.written = this.capBytes + Buffer.byteLength(TRUNCATION_MARKER);
    this.truncated = true;
  }

  /** Copy `source` into the log (bounded by the cap) until it ends. */
  follow(source: Readable): void {
    source.on("data", (chunk: Buffer) => {
      this.write(chunk);
    });
    source.on("error", () => undefined);
  }

  /** Flush and close the file. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.stream.closed || this.stream.destroyed) {
        resolve();
        return;
      }
      this.stream.end(() => {
        resolve();
      });
    });
  }
}
