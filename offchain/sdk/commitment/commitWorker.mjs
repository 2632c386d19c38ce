// worker_threads entry of the commitment pool (offchain/sdk/commitment/parallel.ts). Plain JavaScript so that it
// loads in every host: tsx (the CLI), Hardhat's mocha runner and plain node, none of which need to propagate a
// TypeScript loader to worker threads. Protocol: receives {id, data: Uint8Array, height}, answers {id, root} or
// {id, error}. `data` is either a view of a SharedArrayBuffer (no copy) or a transferred ArrayBuffer.
import { parentPort } from "node:worker_threads";
import { createScratch, subtreeRoot } from "./treeHash.mjs";

if (parentPort === null) throw new Error("commitWorker.mjs must run as a worker thread");
const port = parentPort;
const scratch = createScratch();

port.on("message", (job) => {
  try {
    // Copied: 32 bytes, and a natively allocated result buffer is not always transferable.
    const root = Uint8Array.from(subtreeRoot(job.data, job.height, scratch));
    port.postMessage({ id: job.id, root });
  } catch (error) {
    port.postMessage({ id: job.id, error: error instanceof Error ? error.message : String(error) });
  }
});
