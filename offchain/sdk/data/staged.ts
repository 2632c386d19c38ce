/**
 * Staged pieces: the shard output of a store (sdk/client/store.ts). Each shard is written to
 * `<dir>/piece-<i>.bin` (kept for `store --resume`) and can be read back while it is still being written:
 * `read(i, offset)` yields the bytes from `offset` as the preparation writes them, waiting when it has caught up.
 * Uploads therefore start with the first segment and overlap the rest of the preparation; memory holds one read
 * buffer per reader, reused for every read, never the queue of segments an upload slower than the preparation
 * would build (the bytes wait on disk instead).
 */
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { StrataError } from "../errors.js";
import { fileWriter, type ShardOutput, type ShardWriter } from "./stream.js";

/** Bytes read at a time by a reader. */
const READ_BYTES = 256 * 1024;

interface Shard {
  /** Bytes written so far (readable). */
  written: number;
}

export class StagedPieces {
  readonly dir: string;
  readonly count: number;
  readonly size: number;
  private readonly shards: Shard[];
  private failure: Error | undefined = undefined;
  /** Readers waiting for more bytes (any shard). */
  private waiters: (() => void)[] = [];

  constructor(dir: string, count: number, size: number) {
    this.dir = dir;
    this.count = count;
    this.size = size;
    this.shards = Array.from({ length: count }, () => ({ written: 0 }));
  }

  /** The staged file of shard `index`. */
  path(index: number): string {
    return join(this.dir, `piece-${index}.bin`);
  }

  /** The ShardOutput to prepare into. */
  get output(): Extract<ShardOutput, (index: number, shardSize: number) => Promise<ShardWriter>> {
    return async (index: number, shardSize: number): Promise<ShardWriter> => {
      const shard = this.shards[index];
      if (shard === undefined || shardSize !== this.size) {
        throw new StrataError(
          "INTERNAL_INVARIANT",
          `staged shard ${index} of ${shardSize} bytes; expected one of ${this.count} shards of ${this.size}`,
        );
      }
      const inner = await fileWriter(this.path(index));
      return {
        write: async (bytes) => {
          await inner.write(bytes);
          shard.written += bytes.length;
          this.wake();
        },
        close: async () => {
          await inner.close();
        },
        abort: async () => {
          this.fail(new StrataError("STORE_INCOMPLETE", "the pieces could not be prepared"));
          await inner.abort();
        },
      };
    };
  }

  /** The preparation failed: every reader throws `error` (the first failure is kept). */
  fail(error: unknown): void {
    this.failure ??=
      error instanceof Error
        ? error
        : new StrataError("STORE_INCOMPLETE", "the pieces could not be prepared", { details: String(error) });
    this.wake();
  }

  /**
   * Bytes [offset, size) of shard `index`, as they are written. Every chunk is read into the same buffer: the
   * caller is done with a chunk (sent or copied) before it asks for the next.
   */
  async *read(index: number, offset: number): AsyncGenerator<Uint8Array> {
    const shard = this.shards[index];
    if (shard === undefined) throw new StrataError("INTERNAL_INVARIANT", `no staged shard ${index}`);
    let handle: FileHandle | undefined;
    let buffer: Buffer | undefined;
    try {
      for (let at = offset; at < this.size;) {
        if (this.failure !== undefined) throw this.failure;
        if (at >= shard.written) {
          await new Promise<void>((resolve) => this.waiters.push(resolve));
          continue;
        }
        handle ??= await open(this.path(index), "r");
        // One buffer for every read: the uploader is done with a chunk before it asks for the next (PutTransport).
        buffer ??= Buffer.allocUnsafe(READ_BYTES);
        const chunk = buffer.subarray(0, Math.min(READ_BYTES, shard.written - at));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, at);
        if (bytesRead === 0) {
          throw new StrataError("INTERNAL_INVARIANT", `staged piece ${index} ended at byte ${at}`);
        }
        at += bytesRead;
        yield chunk.subarray(0, bytesRead);
      }
    } finally {
      await handle?.close();
    }
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }
}
