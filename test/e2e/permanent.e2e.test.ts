/**
 * Permanent storage end to end with real processes: a `hardhat node` with the local suite (PermanentStorage with
 * k = 2 of n = 3), three `strata agent start` processes taking permanent pieces, and the `strata` CLI.
 * The client pays once with `strata store --permanent --yes`, hands every piece to the dearest agent and goes away.
 * The cheaper agents offer for the slots too (cheapest wins each), and once awarded fetch their piece from the
 * stager (checked against the file's piece list on chain). Every piece is placed, proven and confirmed; `status` and
 * `ls` show the file's solvency; the stager then goes away for good and the file is read back with
 * `strata get --permanent` from the two other holders, byte for byte.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PermanentStorage__factory } from "../../typechain-types/index.js";
import { enablePermanent } from "../../scripts/demo/agentsConfig.js";
import { advanceUntilPermanentLive } from "../../scripts/demo/permanentStory.js";
import { configureStorageOffer } from "../../scripts/demo/storageStory.js";
import { startLocalChain, stopProcess, type LocalChain } from "../../scripts/lib/localChain.js";
import {
  devAddress,
  agentComplaints,
  startAgents,
  strataCli,
  until,
  type RunningAgent,
} from "../../scripts/lib/localProcesses.js";
import { suiteFailed } from "../helpers/failures.js";

const CLIENT_ACCOUNT = 4;

describe("e2e: a permanent file is placed on all its providers by their agents and read back", function () {
  this.timeout(900_000);
  let chain: LocalChain;
  let strata: ReturnType<typeof strataCli>;
  const agents: RunningAgent[] = [];

  before(async function () {
    chain = await startLocalChain();
    strata = strataCli(chain);
    agents.push(
      ...(await startAgents(chain, [1, 2, 3], {
        configure: (config, index) => {
          configureStorageOffer(config, index);
          enablePermanent(config, index);
        },
      })),
    );
  });

  after(async function () {
    if (suiteFailed(this)) {
      for (const a of agents) console.error(`agent ${a.account} log tail:\n${a.log.slice(-40).join("")}`);
    }
    for (const agent of agents) if (agent.process.exitCode === null) await stopProcess(agent.process);
    await chain.stop();
  });

  it("pays once, the agents offer, place, prove and confirm every piece, and the file comes back", async function () {
    const raw = JSON.parse(readFileSync(chain.deploymentFile, "utf8")) as Record<string, string>;
    const permAddress = raw["StrataLocal#PermanentStorage"];
    if (permAddress === undefined) throw new Error("deployment has no PermanentStorage");
    const perm = PermanentStorage__factory.connect(permAddress, chain.provider);

    const file = path.join(chain.workDir, "archive.bin");
    const original = randomBytes(300_000 + 17);
    writeFileSync(file, original);
    await strata(["dev", "mint", "100", "--to", devAddress(CLIENT_ACCOUNT)], 0);
    // The client hands every piece to the dearest agent only, then goes away.
    const stager = agents[2];
    if (stager === undefined) throw new Error("no stager");
    const stored = await strata(
      ["store", "--permanent", file, "--yes", "--providers", stager.address],
      CLIENT_ACCOUNT,
    );
    const [result] = stored.files as {
      fileId: string;
      paid: string;
      staged: { index: number; provider: string }[];
    }[];
    if (result === undefined) throw new Error("no file stored");
    const fileId = BigInt(result.fileId);
    const [principal, fee] = await perm.quote((await perm.file(fileId)).pieceSpan);
    expect(BigInt(result.paid)).to.equal(principal + fee);
    expect(result.staged.map((s) => s.provider)).to.deep.equal([
      stager.address,
      stager.address,
      stager.address,
    ]);

    // The cheaper agents offer for the other slots (or outbid the stager), each slot's cheapest offer wins.
    await until("an offer for every slot", async () => {
      const slots = await Promise.all([0, 1, 2].map((i) => perm.slot(fileId, i)));
      return slots.every((s) => s.price > 0n) ? true : undefined;
    });
    // Offers close; each winner awards, fetches, creates, places; the holders prove periods until all are live.
    const view = await advanceUntilPermanentLive(
      chain,
      fileId,
      agents.map((a) => a.address),
      { explain: () => agentComplaints(agents) },
    );
    expect(view.livePieces).to.equal(3);
    const holders = view.slots.map((s) => s.provider);
    expect(new Set(holders)).to.deep.equal(new Set(agents.map((a) => a.address)));
    const slots = await Promise.all([0, 1, 2].map((i) => perm.slot(fileId, i)));
    expect(slots.map((s) => s.provider)).to.deep.equal(holders);
    expect(slots.map((s) => s.stage)).to.deep.equal([3n, 3n, 3n]);
    // The agents that won a piece they did not stage fetched it from the stager (checked against the chain).
    // (a fetched piece is staged with its new holder too, for whoever needs it next).
    for (const s of view.slots) {
      const holder = agents.find((a) => a.address === s.provider);
      if (holder === undefined || holder === stager) continue;
      const staged = await fetch(`${holder.endpoint}/v1/permanent/${fileId}/pieces/${s.index}`);
      expect(staged.status, `${holder.address} holds piece ${s.index}`).to.equal(200);
    }
    expect((await perm.file(fileId)).status).to.equal(2n); // Active

    const status = await strata(["status", "--permanent", String(fileId)], CLIENT_ACCOUNT);
    expect(status.livePieces).to.equal(3);
    expect(status.status).to.equal("active");
    expect(status.yearsCovered).to.equal(200);
    const listed = await strata(["ls", "--permanent"], CLIENT_ACCOUNT);
    expect((listed.files as { fileId: string }[]).map((f) => f.fileId)).to.deep.equal([String(fileId)]);

    // Any k = 2 holders give the file back, byte for byte: the stager goes away for good first.
    await stopProcess(stager.process);
    const out = path.join(chain.workDir, "archive.out");
    await strata(["get", "--permanent", String(fileId), "--out", out], CLIENT_ACCOUNT);
    expect(readFileSync(out).equals(original)).to.equal(true);
  });
});
