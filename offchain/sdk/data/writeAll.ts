/** Writing a whole buffer to a file: a write may take fewer bytes than asked, and the rest must follow. */
import type { FileHandle } from "node:fs/promises";

/** Write all of `bytes` at `position` (at the file's current position when omitted), continuing short writes. */
export async function writeAll(file: FileHandle, bytes: Uint8Array, position?: number): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const at = position === undefined ? null : position + done;
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, at);
    done += bytesWritten;
  }
}
