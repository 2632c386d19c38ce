import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { StrataError } from "../errors.js";
import { toHex } from "./merkle.js";
import { createScratch, liftNodes, pieceHeight, subtreeRoot } from "./treeHash.mjs";

/**
 * Piece commitments on worker threads. Every root equals `PieceTree.build(piece).root`, but is computed without
 * materialising the zero padding (a subtree of zero leaves has a constant root), so a piece just over a power of
 * two costs its own size, not twice it. A piece larger than one job (2^JOB_HEIGHT leaves = 4 MiB) is split into
 * aligned subtrees that run on different workers and are lifted to the root on the calling thread.
 *
 * Data reaches the workers without serialisation: a view of a SharedArrayBuffer is posted as is (no copy, the
 * fast path: prepareFile allocates its shards that way); any other buffer is copied one job at a time into one of
 * the worker's two reusable 4 MiB shared slots, so extra memory stays at threads x 2 x 4 MiB whatever the total
 * size. (Copying into a fresh ArrayBuffer per job and transferring it measured ~25% slower: page faults and GC.)
 */

/** Height of the subtree one worker job hashes: 2^16 leaves = 4 MiB of data. */
export const JOB_HEIGHT = 16;

const JOB_BYTES = 64 << JOB_HEIGHT;

/** Below this many bytes in total, starting workers costs more than it saves: hash on the calling thread. */
export const MIN_PARALLEL_BYTES = 8 << 20;

/** Jobs handed to one worker before it answers, so that it never waits for the calling thread. */
const JOBS_PER_WORKER = 2;

const WORKER_URL = new URL("./commitWorker.mjs", import.meta.url);

/** Default pool size: the machine's available parallelism. */
export function defaultThreads(): number {
  return availableParallelism();
}

/** Root of one piece on the calling thread (0x-hex, as PieceTree.build(piece).root). */
export function pieceRoot(piece: Uint8Array): string {
  checkPiece(piece, 0);
  return toHex(subtreeRoot(piece, pieceHeight(piece.length)));
}

/** Single-threaded fallback: the roots of `pieces`, in order, on the calling thread. */
export function commitPiecesSync(pieces: readonly Uint8Array[]): string[] {
  const scratch = createScratch();
  return pieces.map((piece, index) => {
    checkPiece(piece, index);
    return toHex(subtreeRoot(piece, pieceHeight(piece.length), scratch));
  });
}

export interface CommitOptions {
  /** A pool to use; without one, the shared default pool (see defaultCommitPool). */
  pool?: CommitPool;
  /**
   * Threads: 1 hashes on the calling thread; a count other than the default starts a pool for this call only.
   * Default: availableParallelism().
   */
  threads?: number;
}

let sharedPool: CommitPool | undefined;

/**
 * The process-wide pool of availableParallelism() workers, started on first use and restarted if it broke.
 * Starting workers costs ~0.1 s, so it is paid once per process; idle workers never keep the process alive.
 * Call it early (prepareFile does) to overlap the start-up with other work.
 */
export function defaultCommitPool(): CommitPool {
  if (sharedPool?.usable !== true) sharedPool = new CommitPool(defaultThreads());
  return sharedPool;
}

/** Roots of `pieces`, in order, hashed on worker threads (inputs under 8 MiB stay on the calling thread). */
export async function commitPieces(
  pieces: readonly Uint8Array[],
  options: CommitOptions = {},
): Promise<string[]> {
  pieces.forEach(checkPiece);
  if (options.pool !== undefined) return options.pool.commit(pieces);
  const threads = options.threads ?? defaultThreads();
  const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
  if (threads <= 1 || total < MIN_PARALLEL_BYTES) return commitPiecesSync(pieces);
  if (threads === defaultThreads()) return defaultCommitPool().commit(pieces);
  const pool = new CommitPool(threads);
  try {
    return await pool.commit(pieces);
  } finally {
    await pool.close();
  }
}

interface Job {
  id: number;
  data: Uint8Array;
  height: number;
  resolve: (root: Uint8Array) => void;
  reject: (error: Error) => void;
}

interface WorkerReply {
  id: number;
  root?: Uint8Array;
  error?: string;
}

interface PoolWorker {
  worker: Worker;
  inFlight: Map<number, { job: Job; slot: Uint8Array | undefined }>;
  /** Shared staging buffers for jobs whose data is not already shared. */
  freeSlots: Uint8Array[];
}

/**
 * A fixed set of commitment workers. Reuse one pool across calls to pay the thread start-up (~0.1 s) once.
 * Idle workers do not keep the process alive; close() stops them.
 */
export class CommitPool {
  readonly threads: number;
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private failure: StrataError | undefined;
  private closed = false;

  constructor(threads: number = defaultThreads()) {
    if (!Number.isInteger(threads) || threads < 1) {
      throw new StrataError("INVALID_ARGUMENT", `a commit pool needs at least one thread, got ${threads}`);
    }
    this.threads = threads;
    for (let i = 0; i < threads; i++) this.workers.push(this.spawn());
  }

  /** False once the pool was closed or a worker failed. */
  get usable(): boolean {
    return this.failure === undefined && !this.closed;
  }

  /** Roots of `pieces`, in order. */
  async commit(pieces: readonly Uint8Array[]): Promise<string[]> {
    pieces.forEach(checkPiece);
    return Promise.all(pieces.map(async (piece) => toHex(await this.commitOne(piece))));
  }

  /** Stop every worker; pending jobs fail with COMMIT_WORKER_FAILED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new StrataError("COMMIT_WORKER_FAILED", "the commit pool was closed"));
    await Promise.all(this.workers.map(async ({ worker }) => worker.terminate()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async commitOne(piece: Uint8Array): Promise<Uint8Array> {
    const height = pieceHeight(piece.length);
    if (height <= JOB_HEIGHT) return this.run(piece, height);
    const jobs: Promise<Uint8Array>[] = [];
    for (let offset = 0; offset < piece.length; offset += JOB_BYTES) {
      jobs.push(this.run(piece.subarray(offset, Math.min(piece.length, offset + JOB_BYTES)), JOB_HEIGHT));
    }
    const roots = await Promise.all(jobs);
    const nodes = new Uint8Array(roots.length * 32);
    roots.forEach((root, index) => {
      nodes.set(root, index * 32);
    });
    return liftNodes(nodes, roots.length, JOB_HEIGHT, height);
  }

  private async run(data: Uint8Array, height: number): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      if (this.failure !== undefined) {
        reject(this.failure);
        return;
      }
      this.queue.push({ id: this.nextId++, data, height, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.workers) {
      while (slot.inFlight.size < JOBS_PER_WORKER) {
        const job = this.queue.shift();
        if (job === undefined) return;
        slot.worker.ref();
        if (job.data.buffer instanceof SharedArrayBuffer) {
          slot.inFlight.set(job.id, { job, slot: undefined });
          slot.worker.postMessage({ id: job.id, data: job.data, height: job.height });
        } else {
          const staging = slot.freeSlots.pop() ?? new Uint8Array(new SharedArrayBuffer(JOB_BYTES));
          staging.set(job.data);
          slot.inFlight.set(job.id, { job, slot: staging });
          slot.worker.postMessage({
            id: job.id,
            data: staging.subarray(0, job.data.length),
            height: job.height,
          });
        }
      }
    }
  }

  private spawn(): PoolWorker {
    // No inherited node flags: the worker is plain JavaScript and needs no loader (tsx, --import ...), and some
    // parent flags (--input-type, --eval) would make it fail to start.
    const worker = new Worker(WORKER_URL, { execArgv: [] });
    const slot: PoolWorker = { worker, inFlight: new Map(), freeSlots: [] };
    worker.on("message", (reply: WorkerReply) => {
      const entry = slot.inFlight.get(reply.id);
      if (entry === undefined) return;
      const { job } = entry;
      slot.inFlight.delete(reply.id);
      if (entry.slot !== undefined) slot.freeSlots.push(entry.slot);
      if (slot.inFlight.size === 0) worker.unref();
      if (reply.root !== undefined) job.resolve(reply.root);
      else job.reject(new StrataError("COMMIT_WORKER_FAILED", reply.error ?? "commit worker failed"));
      this.dispatch();
    });
    worker.on("error", (error) => {
      this.fail(
        new StrataError("COMMIT_WORKER_FAILED", `commit worker crashed: ${error.message}`, { cause: error }),
      );
    });
    worker.on("exit", (code) => {
      if (!this.closed) this.fail(new StrataError("COMMIT_WORKER_FAILED", `commit worker exited (${code})`));
    });
    // An idle worker must not keep the process alive. Only after the listeners: adding a "message" listener
    // refs the worker again.
    worker.unref();
    return slot;
  }

  /** A broken pool fails everything pending and everything submitted later. */
  private fail(error: StrataError): void {
    this.failure ??= error;
    for (const job of this.queue.splice(0)) job.reject(this.failure);
    for (const slot of this.workers) {
      for (const { job } of slot.inFlight.values()) job.reject(this.failure);
      slot.inFlight.clear();
      slot.worker.unref();
    }
  }
}

function checkPiece(piece: Uint8Array, index: number): void {
  if (piece.length === 0) throw new StrataError("INVALID_ARGUMENT", `piece ${index} is empty`);
}
