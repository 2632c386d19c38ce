/**
 * Writing a whole buffer to a file (a write may take fewer bytes than asked, and the rest must follow), and writing
 * a stream of chunks through one batch buffer.
 */
import type { FileHandle } from "node:fs/promises";

/** Write all of `bytes` at `position` (at the file's current position when omitted), continuing short writes. */
export async function writeAll(file: FileHandle, bytes: Uint8Array, position?: number): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const at = position === undefined ? null : position + done;
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, at);
    done += bytesWritten;
  }
}

/**
 * Bytes appended to a file through one reused batch buffer, one positioned write per full batch: the caller's
 * chunks are copied in, so it may reuse or drop them at once (and they die young instead of waiting for their
 * batch).
 */
export class BatchedFileWriter {
  private readonly batch: Buffer;
  private batched = 0;
  private start: number;

  /** Writes go to `file` from byte `position` on, `batchBytes` at a time. */
  constructor(
    private readonly file: FileHandle,
    batchBytes: number,
    private readonly position = 0,
  ) {
    this.batch = Buffer.allocUnsafe(batchBytes);
    this.start = position;
  }

  /** Drop everything written or batched: the file is cut back to the first position. */
  async rewind(): Promise<void> {
    this.batched = 0;
    this.start = this.position;
    await this.file.truncate(this.position);
  }

  /** File position up to which everything is written (the batch not included). */
  get flushed(): number {
    return this.start;
  }

  /** File position after the last byte accepted, written or still batched. */
  get end(): number {
    return this.start + this.batched;
  }

  async write(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length;) {
      const take = Math.min(bytes.length - at, this.batch.length - this.batched);
      this.batch.set(bytes.subarray(at, at + take), this.batched);
      this.batched += take;
      at += take;
      if (this.batched === this.batch.length) await this.flush();
    }
  }

  /** Write what is batched. */
  async flush(): Promise<void> {
    if (this.batched === 0) return;
    await writeAll(this.file, this.batch.subarray(0, this.batched), this.start);
    this.start += this.batched;
    this.batched = 0;
  }
}
