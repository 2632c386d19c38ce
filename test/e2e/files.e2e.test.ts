/**
 * Files end to end with real processes (a `hardhat node`, three `strata agent start` processes, the `strata` CLI):
 * many files packed into one payload come back one by one (whole, by range, to stdout); a public file gets the
 * CID `ipfs add --cid-version 1` prints; output paths are refused before anything is uploaded or paid; a dry run
 * moves nothing; SIGINT at each stage of a store leaves either nothing paid or a state `--resume` finishes;
 * `ls` and `rm` follow the chain (a removed payload's pieces leave their data sets).
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { StorageMarket__factory, TestStablecoin__factory } from "../../typechain-types/index.js";
import { Catalog } from "../../offchain/runtime/catalog/catalog.js";
import {
  catalogPathFor,
  devAddress,
  startAgents,
  strataCli,
  type RunningAgent,
} from "../../scripts/lib/localProcesses.js";
import { startLocalChain, stopProcess, type LocalChain } from "../../scripts/lib/localChain.js";
import { configureStorageOffer } from "../../scripts/demo/storageStory.js";
import { runStrataRaw } from "./strataProcess.js";

const CLIENT = 5;

describe("e2e: packed files, catalog, safe store, content ids", function () {
  this.timeout(900_000);
  let chain: LocalChain;
  const agents: RunningAgent[] = [];
  let strata: ReturnType<typeof strataCli>;
  let work: string;

  /** Run the CLI as the client; resolves to exit code, stdout (bytes and text) and stderr. */
  async function raw(
    args: string[],
    options: { onStderrLine?: (line: string, kill: (signal: NodeJS.Signals) => void) => void } = {},
  ) {
    return runStrataRaw(chain, CLIENT, args, options);
  }

  async function balances() {
    const token = TestStablecoin__factory.connect(chain.addresses.token, chain.provider);
    const market = StorageMarket__factory.connect(chain.addresses.market, chain.provider);
    return {
      wallet: await token.balanceOf(devAddress(CLIENT)),
      ledger: await market.balanceOf(devAddress(CLIENT)),
    };
  }

  function errorCode(text: string): string {
    return (JSON.parse(text) as { error: { code: string } }).error.code;
  }

  before(async function () {
    chain = await startLocalChain();
    strata = strataCli(chain);
    agents.push(...(await startAgents(chain, [1, 2, 3], { configure: configureStorageOffer })));
    await strata(["dev", "mint", "1000", "--to", devAddress(CLIENT)], 0);
    work = path.join(chain.workDir, "files");
    mkdirSync(path.join(work, "album", "sub"), { recursive: true });
  });

  after(async function () {
    for (const agent of agents) await stopProcess(agent.process);
    await chain.stop();
  });

  const files: Record<string, Buffer> = {};

  it("refuses unwritable outputs before any upload or payment; a dry run moves nothing", async () => {
    files["album/a.txt"] = Buffer.from("first file\n");
    files["album/b.bin"] = randomBytes(300_000);
    files["album/sub/c.bin"] = randomBytes(5_000);
    files["album/empty"] = Buffer.alloc(0);
    for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(work, name), bytes);
    const market = StorageMarket__factory.connect(chain.addresses.market, chain.provider);
    const before = await balances();

    const missing = await raw(["--json", "store", path.join(work, "album"), "--out", "/nonexistent/m.json"]);
    expect(missing.code).to.equal(1);
    expect(errorCode(missing.text)).to.equal("OUTPUT_NOT_WRITABLE");
    const device = await raw(["--json", "store", path.join(work, "album"), "--out", "/dev/null", "--force"]);
    expect(errorCode(device.text)).to.equal("OUTPUT_NOT_WRITABLE");

    const dry = await raw(["--json", "store", path.join(work, "album"), "--k", "1", "--m", "2", "--dry-run"]);
    expect(dry.code, dry.stderr).to.equal(0);
    const estimate = JSON.parse(dry.text) as {
      dryRun: boolean;
      escrow: string;
      payloads: { providers: unknown[] }[];
    };
    expect(estimate.dryRun).to.equal(true);
    expect(BigInt(estimate.escrow) > 0n).to.equal(true);
    expect(estimate.payloads[0]?.providers).to.have.length(3);
    // A public store is priced on the bytes as they are stored: no encryption tag, no coding, padded to 64 bytes.
    const publicDry = await raw([
      "--json",
      "store",
      path.join(work, "album"),
      "--public",
      "--replicas",
      "2",
      "--dry-run",
    ]);
    expect(publicDry.code, publicDry.stderr).to.equal(0);
    const publicEstimate = JSON.parse(publicDry.text) as {
      payloads: { bytes: number; pieceSize: number; providers: unknown[] }[];
    };
    const payload = publicEstimate.payloads[0];
    expect(payload?.providers).to.have.length(2);
    expect(payload?.pieceSize).to.equal(Math.max(64, Math.ceil((payload?.bytes ?? 0) / 64) * 64));

    expect(await market.dataSetCount()).to.equal(0n);
    expect(await balances()).to.deep.equal(before);
  });

  it("stores a folder packed into one payload; each file comes back alone, by range and to stdout", async () => {
    const manifestPath = path.join(work, "album.strata.json");
    const stored = await strata(
      ["store", path.join(work, "album"), "--k", "1", "--m", "2", "--duration", "12", "--out", manifestPath],
      CLIENT,
    );
    const payloads = stored.payloads as { files: { name: string }[]; pieces: unknown[] }[];
    expect(payloads).to.have.length(1);
    expect(payloads[0]?.pieces).to.have.length(3);
    expect(payloads[0]?.files.map((f) => f.name).sort()).to.deep.equal(Object.keys(files).sort());

    const listed = await raw(["--json", "ls"]);
    expect(listed.code, listed.text).to.equal(0);
    const rows = (JSON.parse(listed.text) as { files: { name: string; health: string; live: number }[] })
      .files;
    expect(rows.map((r) => [r.name, r.health, r.live]).sort()).to.deep.equal(
      Object.keys(files)
        .sort()
        .map((name) => [name, "ok", 3]),
    );

    for (const [name, bytes] of Object.entries(files)) {
      const out = path.join(work, `out-${name.replace(/\//g, "_")}`);
      const got = await raw(["--json", "get", name, out]);
      expect(got.code, got.text + got.stderr).to.equal(0);
      expect(readFileSync(out).equals(bytes), name).to.equal(true);
    }
    const range = await raw(["get", "album/b.bin", "-", "--range", "1000-1999"]);
    expect(range.code).to.equal(0);
    expect(range.stdout.equals(files["album/b.bin"]?.subarray(1000, 2000) ?? Buffer.alloc(1))).to.equal(true);
    const cat = await raw(["cat", "c.bin"]);
    expect(cat.stdout.equals(files["album/sub/c.bin"] ?? Buffer.alloc(1))).to.equal(true);

    // Outputs: an existing file is kept without --force, a device is never replaced, a missing folder fails first.
    const existing = path.join(work, "out-album_a.txt");
    expect(errorCode((await raw(["--json", "get", "a.txt", existing])).text)).to.equal("OUTPUT_EXISTS");
    expect(errorCode((await raw(["--json", "get", "a.txt", "/dev/null", "--force"])).text)).to.equal(
      "OUTPUT_NOT_WRITABLE",
    );
    expect(errorCode((await raw(["--json", "get", "a.txt", "/nonexistent/x"])).text)).to.equal(
      "OUTPUT_NOT_WRITABLE",
    );
    const retrieveToDevice = await raw(["--json", "retrieve", manifestPath, "/dev/null", "--force"]);
    expect(errorCode(retrieveToDevice.text)).to.equal("OUTPUT_NOT_WRITABLE");

    // The manifest rebuilds the catalog entry anywhere.
    const otherCatalog = path.join(work, "other.sqlite");
    const imported = await raw(["--json", "import", manifestPath, "--catalog", otherCatalog]);
    expect(imported.code).to.equal(0);
    const fromImport = await raw(["get", "a.txt", "-", "--catalog", otherCatalog]);
    expect(fromImport.stdout.equals(files["album/a.txt"] ?? Buffer.alloc(1))).to.equal(true);
  });

  it("gives a public file the CID of `ipfs add --cid-version 1` and gets it by that id", async () => {
    const hello = path.join(work, "hello.txt");
    writeFileSync(hello, "hello world\n");
    const stored = await strata(
      [
        "store",
        hello,
        "--public",
        "--k",
        "1",
        "--m",
        "2",
        "--duration",
        "12",
        "--out",
        path.join(work, "hello.json"),
      ],
      CLIENT,
    );
    const cid = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";
    expect((stored.files as { id: string }[])[0]?.id).to.equal(cid);
    const got = await raw(["cat", cid]);
    expect(got.text).to.equal("hello world\n");
  });

  for (const stage of ["selected", "signed", "recovery-saved"] as const) {
    it(`SIGINT at "${stage}" leaves nothing paid, or a store --resume finishes`, async () => {
      const file = path.join(work, `interrupted-${stage}.bin`);
      writeFileSync(file, randomBytes(200_000));
      const manifestPath = path.join(work, `interrupted-${stage}.strata.json`);
      const before = await balances();
      let sent = false;
      const run = raw(
        ["--json", "store", file, "--k", "1", "--m", "2", "--duration", "12", "--out", manifestPath],
        {
          onStderrLine: (line, kill) => {
            if (sent || !line.startsWith("{")) return;
            const event = JSON.parse(line) as { type?: string };
            if (event.type === stage) {
              sent = true;
              kill("SIGINT");
            }
          },
        },
      );
      const result = await run;
      expect(sent, `the store never reached ${stage}`).to.equal(true);
      expect(result.code, result.stderr).to.not.equal(0);
      const catalog = Catalog.open(catalogPathFor(chain));
      try {
        const partial = catalog.partials().find((p) => p.path === `${manifestPath}.partial`);
        // The recovery record follows the last "signed" at once (the uploads may still be running): a SIGINT at
        // "signed" lands before it (nothing to undo) or after it (resumable), never in between.
        if (
          stage === "selected" ||
          (stage === "signed" && partial === undefined && !existsSync(manifestPath))
        ) {
          // Interrupted before the recovery record: nothing was paid and nothing is left to undo.
          expect(errorCode(result.text)).to.equal("STORE_INTERRUPTED");
          expect(partial).to.equal(undefined);
          expect(existsSync(`${manifestPath}.partial`)).to.equal(false);
          expect(await balances()).to.deep.equal(before);
          return;
        }
        // After the recovery record: either it stopped (resumable) or it had already finished.
        if (partial === undefined) {
          expect(existsSync(manifestPath)).to.equal(true);
          return;
        }
        expect(errorCode(result.text)).to.equal("STORE_INTERRUPTED");
        expect(existsSync(`${manifestPath}.partial`)).to.equal(true);
      } finally {
        catalog.close();
      }
      const resumed = await strata(
        ["store", "--resume", `${manifestPath}.partial`, "--duration", "12"],
        CLIENT,
      );
      expect(resumed.resumed).to.equal(true);
      expect(existsSync(manifestPath)).to.equal(true);
      expect(existsSync(`${manifestPath}.partial`)).to.equal(false);
      const got = await raw(["cat", path.basename(file)]);
      expect(got.stdout.equals(readFileSync(file))).to.equal(true);
      const after = await balances();
      expect(after.wallet + after.ledger < before.wallet + before.ledger).to.equal(true);
    });
  }

  it("rm takes a payload's pieces out of their data sets; ls no longer lists its files", async () => {
    const market = StorageMarket__factory.connect(chain.addresses.market, chain.provider);
    const target = JSON.parse(readFileSync(path.join(work, "hello.json"), "utf8")) as {
      pieces: { dataSetId: string; addedInVersion: string }[];
    };
    const removed = await raw(["--json", "rm", "hello.txt"]);
    expect(removed.code, removed.text + removed.stderr).to.equal(0);
    // Each data set either holds a newer state without the piece, or (holding nothing else) is ending.
    for (const piece of target.pieces) {
      const set = await market.dataSet(BigInt(piece.dataSetId));
      expect(set.version > BigInt(piece.addedInVersion) || set.status !== 1n).to.equal(true);
    }
    const listed = JSON.parse((await raw(["--json", "ls"])).text) as { files: { name: string }[] };
    expect(listed.files.map((f) => f.name)).to.not.include("hello.txt");
    const gone = await raw(["--json", "get", "hello.txt", "-"]);
    expect(errorCode(gone.text)).to.equal("CATALOG_NOT_FOUND");
  });
});
