/**
 * Streaming with real processes: a `hardhat node`, three `strata agent start` processes and the `strata` CLI.
 * A file several times the agents' configured tree-cache budget is stored and retrieved byte for byte while each
 * agent's peak RSS (after a first, small store) grows by far less than the piece it receives (uploads go to disk, never into memory); byte
 * ranges come back exact; a tampered chunk on one provider is repaired from parity and reported, and tampering on
 * two providers fails with CHUNK_AUTH_FAILED (exit code 3). A store whose client is killed (SIGKILL) while a piece
 * is still uploading is finished by `strata store --resume`, paying once.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createHash, randomFillSync } from "node:crypto";
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { StorageMarket__factory, TestStablecoin__factory } from "../../typechain-types/index.js";
import {
  catalogPathFor,
  devAddress,
  startAgents,
  strataArgv,
  strataCli,
  type RunningAgent,
} from "../../scripts/lib/localProcesses.js";
import {
  NODE,
  ROOT,
  run,
  startLocalChain,
  stopProcess,
  type LocalChain,
} from "../../scripts/lib/localChain.js";
import { resetPeakRss, vmHwmMB } from "../../scripts/bench/storeRetrieve.js";

const CLI = path.join(process.cwd(), "offchain", "cli", "strata.mjs");
const FILE_MIB = 192;
/** The agents' configured memory budget for cached trees. */
const TREE_CACHE_BYTES = 8 << 20;

function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(/^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1] ?? "0") / 1024);
}

/** Flip one byte of a file in place. */
function flipByte(file: string, at: number): void {
  const fd = openSync(file, "r+");
  try {
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, at);
    byte[0] = (byte[0] ?? 0) ^ 0x5a;
    writeSync(fd, byte, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

describe("e2e: streaming store and retrieve, byte ranges, tampered chunks", function () {
  this.timeout(900_000);
  let chain: LocalChain;
  const agents: RunningAgent[] = [];
  let strata: ReturnType<typeof strataCli>;

  before(async function () {
    chain = await startLocalChain();
    strata = strataCli(chain);
    agents.push(
      ...(await startAgents(chain, [1, 2, 3], {
        configure: (config) => {
          config.treeCacheBytes = TREE_CACHE_BYTES;
          // No background re-hash while the test alters piece files: it would take the piece out of service.
          config.integrityScanMs = 3_600_000;
        },
      })),
    );
  });

  after(async function () {
    for (const agent of agents) await stopProcess(agent.process);
    await chain.stop();
  });

  it("round-trips a file larger than the agents' memory budget, serves exact ranges, detects tampering", async function () {
    const file = path.join(chain.workDir, "big.bin");
    const original = Buffer.alloc(FILE_MIB << 20);
    randomFillSync(original);
    writeFileSync(file, original);
    const manifestPath = path.join(chain.workDir, "big.strata.json");
    await strata(["dev", "mint", "1000", "--to", devAddress(4)], 0);
    // A small store first: every agent has then served an upload (its code paths compiled, its young generation
    // sized), as a running agent has, so the growth measured below is what the big piece costs.
    const warmUp = path.join(chain.workDir, "warm-up.bin");
    writeFileSync(warmUp, randomFillSync(Buffer.alloc(24 << 20)));
    await strata(
      ["store", warmUp, "--k", "2", "--m", "1", "--out", path.join(chain.workDir, "warm-up.strata.json")],
      4,
    );

    const before = new Map<number, number>();
    for (const agent of agents) {
      const pid = agent.process.pid ?? 0;
      expect(await resetPeakRss(pid)).to.equal(true);
      before.set(pid, rssMB(pid));
    }
    const stored = (await strata(["store", file, "--k", "2", "--m", "1", "--out", manifestPath], 4)) as {
      pieceSize: number;
    };
    expect(stored.pieceSize).to.be.greaterThan((FILE_MIB << 20) / 2);
    expect(stored.pieceSize).to.be.greaterThan(8 * TREE_CACHE_BYTES);
    for (const agent of agents) {
      const pid = agent.process.pid ?? 0;
      const peak = await vmHwmMB(pid);
      // Receiving a 96 MiB piece costs the agent a few buffers, not the piece.
      expect(peak, `agent ${agent.account} peak RSS`).to.not.equal(null);
      expect((peak ?? 0) - (before.get(pid) ?? 0), `agent ${agent.account} RSS growth`).to.be.below(
        stored.pieceSize / 2 ** 20 / 2,
      );
    }
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
      version: number;
      encryption: { chunkSize: number };
      pieces: { root: string; endpoint: string }[];
    };
    expect(manifest.version).to.equal(3);

    const out = path.join(chain.workDir, "big.out");
    await strata(["retrieve", manifestPath, out], 4);
    expect(statSync(out).size).to.equal(original.length);
    expect(createHash("sha256").update(readFileSync(out)).digest("hex")).to.equal(
      createHash("sha256").update(original).digest("hex"),
    );

    // Byte ranges: inside one chunk, across chunk and stripe boundaries, the last byte.
    const chunk = manifest.encryption.chunkSize;
    const ranges: [number, number][] = [
      [0, 0],
      [chunk - 5, chunk + 5],
      [3 * chunk + 17, 40 * chunk + 3],
      [100_000_000, 100_000_000 + (3 << 20)],
      [original.length - 1, original.length - 1],
    ];
    for (const [n, [a, b]] of ranges.entries()) {
      const part = path.join(chain.workDir, `range-${n}.out`);
      const result = (await strata(["retrieve", manifestPath, part, "--range", `${a}-${b}`], 4)) as {
        bytes: number;
      };
      expect(result.bytes).to.equal(b - a + 1);
      expect(readFileSync(part).equals(original.subarray(a, b + 1)), `range ${a}-${b}`).to.equal(true);
    }

    // One provider's data piece altered on disk: the range is rebuilt from parity and the piece reported.
    const holderOf = (index: number): RunningAgent => {
      const endpoint = manifest.pieces[index]?.endpoint.replace(/\/+$/, "");
      const agent = agents.find((a) => a.endpoint === endpoint);
      if (agent === undefined) throw new Error(`no agent holds piece ${index}`);
      return agent;
    };
    const pieceFile = (index: number): string =>
      path.join(holderOf(index).dataDir, "pieces", `${manifest.pieces[index]?.root ?? ""}.piece`);
    // With 256 KiB - 16 byte chunks every sealed chunk fills one stripe slice: chunk 18 is piece 0's slice of
    // stripe 9 (payload bytes 9 × 512 KiB ...), plaintext bytes 18 × 262,128 ... = 4,718,304 ...
    flipByte(pieceFile(0), 9 * 262_144 + 1000);
    const repaired = path.join(chain.workDir, "repaired.out");
    const fixed = (await strata(["retrieve", manifestPath, repaired, "--range", `4600000-4800000`], 4)) as {
      failures: { piece: number }[];
    };
    expect(readFileSync(repaired).equals(original.subarray(4_600_000, 4_800_001))).to.equal(true);
    expect(fixed.failures.map((f) => f.piece)).to.deep.equal([0]);

    // Both data pieces altered in the same stripe: no combination authenticates, a typed error (exit code 3).
    flipByte(pieceFile(1), 9 * 262_144 + 10);
    const failed = await run(
      [
        CLI,
        "--rpc",
        chain.rpcUrl,
        "--deployment",
        chain.deploymentFile,
        "--account",
        "4",
        "--json",
        "retrieve",
        manifestPath,
        path.join(chain.workDir, "never.out"),
        "--range",
        "4600000-4800000",
      ],
      { timeoutMs: 300_000 },
    );
    expect(failed.code).to.equal(3);
    expect(failed.stdout + failed.stderr).to.contain("CHUNK_AUTH_FAILED");
  });
  it("finishes with store --resume after the client is killed mid-upload, paying once", async function () {
    const CLIENT = 5;
    await strata(["dev", "mint", "1000", "--to", devAddress(CLIENT)], 0);
    const file = path.join(chain.workDir, "killed.bin");
    const original = Buffer.alloc(64 << 20);
    randomFillSync(original);
    writeFileSync(file, original);
    const manifestPath = path.join(chain.workDir, "killed.strata.json");
    const token = TestStablecoin__factory.connect(chain.addresses.token, chain.provider);
    const market = StorageMarket__factory.connect(chain.addresses.market, chain.provider);
    const balances = async (): Promise<bigint> =>
      (await token.balanceOf(devAddress(CLIENT))) + (await market.balanceOf(devAddress(CLIENT)));
    const before = await balances();

    // The store streams each piece while it is being prepared. One provider is paused (SIGSTOP) as soon as its
    // upload starts, so its piece cannot finish; the client is killed once the recovery manifest is saved.
    const child = spawn(
      NODE,
      strataArgv(chain, CLIENT, [
        "--json",
        "store",
        file,
        "--k",
        "2",
        "--m",
        "1",
        "--duration",
        "12",
        "--out",
        manifestPath,
      ]),
      {
        cwd: ROOT,
        env: { ...process.env, STRATA_CATALOG: catalogPathFor(chain) },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const events: { type: string; piece?: number; provider?: string }[] = [];
    let paused: RunningAgent | undefined;
    let pending = "";
    child.stdout.resume();
    child.stderr.on("data", (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith("{")) continue;
        const event = JSON.parse(line) as { type: string; piece?: number; provider?: string };
        events.push(event);
        if (event.type === "upload" && paused === undefined) {
          paused = agents.find((a) => a.address.toLowerCase() === event.provider?.toLowerCase());
          paused?.process.kill("SIGSTOP");
        }
        if (event.type === "recovery-saved") child.kill("SIGKILL");
      }
    });
    // A store that never reaches its recovery manifest with a provider paused would hang: stop it.
    const stuck = setTimeout(() => child.kill("SIGKILL"), 240_000);
    const [, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
    clearTimeout(stuck);
    paused?.process.kill("SIGCONT");
    expect(paused, "no upload started").to.not.equal(undefined);
    expect(signal, "the store ended before it could be killed").to.equal("SIGKILL");
    const types = events.map((e) => e.type);
    expect(types).to.include("recovery-saved");
    expect(types).to.not.include("topped-up");
    expect(types).to.not.include("funded");
    // Killed before any token moved, with the recovery manifest and the staged pieces on disk.
    expect(await balances()).to.equal(before);
    const partialPath = `${manifestPath}.partial`;
    expect(existsSync(partialPath)).to.equal(true);
    expect(existsSync(`${manifestPath}.pieces`)).to.equal(true);
    const partial = JSON.parse(readFileSync(partialPath, "utf8")) as {
      pieces: { root: string; endpoint: string }[];
    };
    // The paused provider's piece never finished uploading.
    const stalled = partial.pieces.find((p) => p.endpoint.replace(/\/+$/, "") === paused?.endpoint);
    expect(stalled, "the paused provider holds no piece of the file").to.not.equal(undefined);
    expect(existsSync(path.join(paused?.dataDir ?? "", "pieces", `${stalled?.root ?? ""}.piece`))).to.equal(
      false,
    );

    const resumed = (await strata(["store", "--resume", partialPath, "--duration", "12"], CLIENT).catch(
      (error: unknown) => {
        throw new Error(`store --resume failed: ${String((error as { details?: string }).details)}`);
      },
    )) as {
      resumed: boolean;
      piecesApplied: number;
      escrowAdded: string;
    };
    expect(resumed.resumed).to.equal(true);
    expect(resumed.piecesApplied).to.equal(3);
    expect(existsSync(manifestPath)).to.equal(true);
    expect(existsSync(partialPath)).to.equal(false);
    expect(existsSync(`${manifestPath}.pieces`)).to.equal(false);
    const paid = before - (await balances());
    expect(paid > 0n).to.equal(true);
    expect(paid).to.equal(BigInt(resumed.escrowAdded));
    // Nothing is left to resume: a second run pays nothing.
    const again = (await strata(["store", "--resume", manifestPath, "--duration", "12"], CLIENT)) as {
      resumed: boolean;
    };
    expect(again.resumed).to.equal(false);
    expect(before - (await balances())).to.equal(paid);

    const out = path.join(chain.workDir, "killed.out");
    await strata(["retrieve", manifestPath, out], CLIENT);
    expect(readFileSync(out).equals(original)).to.equal(true);
  });
});
