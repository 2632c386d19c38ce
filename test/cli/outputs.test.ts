/**
 * Streamed outputs (offchain/cli/files/outputs.ts, on the SDK's offchain/sdk/client/files.ts): a temporary file
 * renamed into place only on commit.
 */
import { expect } from "chai";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { checkedStdout, openOutput, STDOUT } from "../../offchain/cli/files/outputs.js";
import { checkOutputPath, openOutputFile } from "../../offchain/sdk/client/files.js";
import { expectCode } from "./helpers/httpServer.js";

describe("streamed outputs", () => {
  let dir = "";
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-outputs-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps only what follows a restart, and shows nothing at the target before the commit", async () => {
    const target = join(dir, "file.bin");
    const out = await openOutput(target, false);
    await out.write(Buffer.from("bytes of a replica that failed part-way"));
    await out.restart();
    await out.write(Buffer.from("good "));
    await out.write(Buffer.alloc(9 << 20, 7)); // more than one batch
    expect(await readdir(dir)).to.not.include("file.bin");
    await out.commit();
    const written = await readFile(target);
    expect(written.subarray(0, 5).toString()).to.equal("good ");
    expect(written.length).to.equal(5 + (9 << 20));
    expect(await readdir(dir)).to.deep.equal(["file.bin"]);
  });

  it("leaves nothing behind when aborted, and refuses a target it must not replace before any byte", async () => {
    const target = join(dir, "file.bin");
    const out = await openOutput(target, false);
    await out.write(Buffer.from("partial"));
    await out.abort();
    expect(await readdir(dir)).to.deep.equal([]);
    await writeFile(target, "mine");
    await expectCode(openOutput(target, false), "OUTPUT_EXISTS");
    await expectCode(openOutput(join(dir, "missing", "file.bin"), false), "OUTPUT_NOT_WRITABLE");
    expect(await readFile(target, "utf8")).to.equal("mine");
  });

  it("SDK output files (retrieveFile's too): overwrite replaces a regular file only, checked again at the commit", async () => {
    const folder = join(dir, "folder");
    await mkdir(folder);
    await symlink("/dev/null", join(dir, "null"));
    for (const target of [folder, join(dir, "null")]) {
      await expectCode(checkOutputPath(target, true), "OUTPUT_NOT_WRITABLE");
      await expectCode(openOutputFile(target, true), "OUTPUT_NOT_WRITABLE");
    }
    // The target turns into a folder during the write: the commit refuses it and leaves no temporary file.
    const target = join(dir, "late.bin");
    const out = await openOutputFile(target, true, 4);
    await out.write(Buffer.from("0123456789"));
    expect(out.written).to.equal(10);
    await mkdir(target);
    await expectCode(out.commit(), "OUTPUT_NOT_WRITABLE");
    expect((await readdir(dir)).sort()).to.deep.equal(["folder", "late.bin", "null"]);
    // A regular file is replaced, whole, at the commit.
    await writeFile(join(dir, "old.bin"), "old bytes");
    const again = await openOutputFile(join(dir, "old.bin"), true, 4);
    await again.write(Buffer.from("new"));
    expect(await readFile(join(dir, "old.bin"), "utf8")).to.equal("old bytes");
    await again.commit();
    expect(await readFile(join(dir, "old.bin"), "utf8")).to.equal("new");
  });

  it("cannot take back bytes already on standard output", async () => {
    const out = await openOutput(STDOUT, false);
    await out.restart(); // nothing written yet: nothing to take back
    await out.write(new Uint8Array(0));
    await expectCode(out.restart(), "OUTPUT_NOT_REWINDABLE");
  });

  it("checked standard output: nothing shows before the commit, the bytes wait on disk, an abort leaves nothing", async () => {
    const pending = async () => (await readdir(tmpdir())).filter((n) => n.startsWith("strata-get-")).length;
    const before = await pending();
    const seen: Buffer[] = [];
    const stdout = new PassThrough();
    stdout.on("data", (chunk: Buffer) => seen.push(chunk));
    const out = await checkedStdout(stdout);
    await out.write(Buffer.from("unchecked "));
    await out.restart();
    await out.write(Buffer.alloc(9 << 20, 3));
    expect(seen).to.have.length(0);
    expect(await pending()).to.equal(before + 1);
    await out.commit();
    expect(Buffer.concat(seen).equals(Buffer.alloc(9 << 20, 3))).to.equal(true);
    expect(stdout.writableEnded).to.equal(false); // standard output stays open for what follows
    expect(await pending()).to.equal(before);
    const dropped = await checkedStdout(stdout);
    await dropped.write(Buffer.from("a file that failed its check"));
    await dropped.abort();
    expect(await pending()).to.equal(before);
    expect(Buffer.concat(seen).length).to.equal(9 << 20);
  });
});
