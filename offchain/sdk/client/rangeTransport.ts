/**
 * Ranged piece reads on a worker thread (rangeWorker.mjs). A retrieve decrypts, hashes and writes on the calling
 * thread; with the reads there too, every socket read, copy and the garbage they leave waited for that work, and
 * the agents' answers waited for the reads. On the worker they overlap. The answers never cross the thread
 * boundary by copy: an `into` over a SharedArrayBuffer is filled in place (the answer is a view of it, and the
 * calling thread allocates nothing), an `into` that is a whole ArrayBuffer is transferred there and back, and any
 * other answer buffer is transferred back.
 */
import { Worker } from "node:worker_threads";
import type { RangeAnswer, RangeTransport } from "./rangeGet.mjs";

const WORKER_URL = new URL("./rangeWorker.mjs", import.meta.url);

interface Reply {
  id: number;
  status?: number;
  /** The answer is in the shared `into`. */
  shared?: boolean;
  body?: ArrayBuffer;
  length?: number;
  tooLong?: boolean;
  error?: { name: string; message: string; code?: string };
}

interface Pending {
  /** The shared buffer the answer is read into, if any. */
  shared: Uint8Array | undefined;
  resolve: (answer: RangeAnswer) => void;
  reject: (error: Error) => void;
}

/** One download worker per process, started on first use; it holds the process open only while reads are pending. */
class RangeWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  read: RangeTransport = (url, headers, limit, timeoutMs, into) =>
    new Promise<RangeAnswer>((resolve, reject) => {
      const worker = this.started();
      const id = this.nextId++;
      // Only a whole buffer of its own is handed over: shared (filled in place) or transferred (detached here until
      // the answer brings it back).
      const whole = into?.byteOffset === 0 && into.byteLength === into.buffer.byteLength ? into : undefined;
      const shared = whole?.buffer instanceof SharedArrayBuffer ? whole : undefined;
      const moved = shared === undefined ? (whole?.buffer as ArrayBuffer | undefined) : undefined;
      this.pending.set(id, { shared, resolve, reject });
      worker.ref();
      worker.postMessage(
        { id, url, headers, limit, timeoutMs, ...(whole === undefined ? {} : { into: whole.buffer }) },
        moved === undefined ? [] : [moved],
      );
    });

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(WORKER_URL, { execArgv: [] });
    worker.unref();
    worker.on("message", (reply: Reply) => {
      const job = this.pending.get(reply.id);
      if (job === undefined) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.error !== undefined) {
        const error = Object.assign(new Error(reply.error.message), {
          name: reply.error.name,
          ...(reply.error.code === undefined ? {} : { code: reply.error.code }),
        });
        job.reject(error);
        return;
      }
      job.resolve({
        status: reply.status ?? 502,
        body:
          reply.shared === true && job.shared !== undefined
            ? job.shared.subarray(0, reply.length ?? 0)
            : new Uint8Array(reply.body ?? new ArrayBuffer(0), 0, reply.length ?? 0),
        tooLong: reply.tooLong === true,
      });
    });
    const fail = (error: Error): void => {
      this.worker = undefined;
      for (const job of this.pending.values()) job.reject(error);
      this.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => {
      fail(new Error(`the download worker stopped (exit ${code})`));
    });
    this.worker = worker;
    return worker;
  }
}

let shared: RangeWorker | undefined;

/** The default transport of ranged piece reads: httpGetRange (rangeGet.mjs) on the process's download worker. */
export const workerGetRange: RangeTransport = (url, headers, limit, timeoutMs, into) =>
  (shared ??= new RangeWorker()).read(url, headers, limit, timeoutMs, into);
