// worker_threads entry of the download worker (rangeTransport.ts): ranged piece reads run here, so that the socket
// reads, the copies into the answer buffers and their garbage happen beside the thread that decrypts, hashes and
// writes. Plain JavaScript for the reason commitWorker.mjs gives. Protocol: receives {id, url, headers, limit,
// timeoutMs, into?}; `into` is a SharedArrayBuffer (filled in place, answered {id, status, shared: true, length,
// tooLong}) or a transferred ArrayBuffer (answered {id, status, body: ArrayBuffer (transferred), length,
// tooLong}); a failure is answered {id, error: {name, message, code}}.
import { parentPort } from "node:worker_threads";
import { httpGetRange } from "./rangeGet.mjs";

if (parentPort === null) throw new Error("rangeWorker.mjs must run as a worker thread");
const port = parentPort;

port.on("message", (job) => {
  const into = job.into === undefined ? undefined : new Uint8Array(job.into);
  httpGetRange(job.url, job.headers, job.limit, job.timeoutMs, into).then(
    (answer) => {
      if (job.into instanceof SharedArrayBuffer && answer.body.buffer === job.into) {
        port.postMessage({
          id: job.id,
          status: answer.status,
          shared: true,
          length: answer.body.length,
          tooLong: answer.tooLong,
        });
        return;
      }
      // The buffer goes back whole when it is ours alone: `into`, or a new one of exactly `limit` bytes (never a
      // slice of Node's shared pool for small buffers, which must not be detached); anything else is copied.
      const buffer = answer.body.buffer;
      const own =
        answer.body.byteOffset === 0 &&
        (buffer === job.into || (buffer.byteLength === job.limit && job.limit >= Buffer.poolSize));
      // (Uint8Array.prototype.slice copies; Buffer#slice would be a view of the same memory.)
      const body = own ? buffer : Uint8Array.prototype.slice.call(answer.body).buffer;
      port.postMessage(
        { id: job.id, status: answer.status, body, length: answer.body.length, tooLong: answer.tooLong },
        [body],
      );
    },
    (error) => {
      const e = error instanceof Error ? error : new Error(String(error));
      port.postMessage({ id: job.id, error: { name: e.name, message: e.message, code: e.code } });
    },
  );
});
