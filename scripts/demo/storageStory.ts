/**
 * The storage half of the demo, with real processes: a file is stored encrypted and erasure-coded across four
 * provider agents, each piece in the data set the client opens with that provider, proving periods pass (proofs land, the worker re-checks them, payments settle), then one
 * provider loses its data and another goes offline. The worker gets the first slashed through an on-chain
 * retrieval challenge and reports the second's missed proof; the client is compensated and still retrieves
 * the file byte for byte from the two providers left.
 */
import { tokens } from "./summary.js";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  ProviderRegistry__factory,
  RetrievalChallenges__factory,
  StorageMarket__factory,
} from "../../typechain-types/index.js";
import type { LocalChain } from "../lib/localChain.js";
import {
  metricValue,
  strataCli,
  until,
  type RunningAgent,
  type RunningWorker,
} from "../lib/localProcesses.js";
import type { Progress } from "./progress.js";
import { advanceProving } from "./proving.js";
import { StrataError } from "../../offchain/sdk/errors.js";

export interface StorageStoryInput {
  chain: LocalChain;
  progress: Progress;
  agents: RunningAgent[];
  worker: RunningWorker;
  clientAccount: number;
  clientAddress: string;
  /** A file to store, or null to generate one. */
  file: string | null;
}

export interface StorageStoryResult {
  file: string;
  fileBytes: number;
  manifest: string;
  retrieved: string;
  lostData: RunningAgent;
  offline: RunningAgent;
  /** The file's repair mandate. */
  mandate: string;
}

const RETRIEVAL_FAILED = 4n;

/**
 * Storage prices of the demo's providers, in tokens per TiB-month (the agent configuration's unit): a different
 * price each (the client takes the cheapest first). They are far above a market price on purpose: payments are
 * exact per byte and second, and a 3 MiB file proven for two one-hour periods earns about 1e-8 tokens at 2.5 per
 * TiB-month, less than one base unit, so settlements would pay nothing visible.
 */
export function demoStoragePrice(index: number): string {
  return (1_000 + 250 * index).toString();
}

/** Agent configuration hook: the provider's storage offer for the story. */
export function configureStorageOffer(config: Record<string, unknown>, index: number): void {
  const policy = (config.policy ?? {}) as Record<string, unknown>;
  config.policy = { ...policy, pricePerTiBMonth: demoStoragePrice(index), noticePeriods: 2 };
}

export async function runStorageStory(input: StorageStoryInput): Promise<StorageStoryResult> {
  const { chain, agents, worker } = input;
  const p: Progress = input.progress;
  const strata = strataCli(chain);
  const market = StorageMarket__factory.connect(chain.addresses.market, chain.provider);
  const registry = ProviderRegistry__factory.connect(chain.addresses.registry, chain.provider);
  const retrievalAddress = chain.addresses.retrievalChallenges;
  if (retrievalAddress === undefined)
    throw new StrataError(
      "DEPLOYMENT_NOT_FOUND",
      `${chain.deploymentFile} has no RetrievalChallenges contract`,
    );
  const retrieval = RetrievalChallenges__factory.connect(retrievalAddress, chain.provider);
  const now = async () => BigInt((await chain.provider.getBlock("latest"))?.timestamp ?? 0);
  const advanceTo = async (ts: bigint) => {
    const t = await now();
    if (t < ts) await chain.advance(Number(ts - t));
  };
  const metrics = async () => (await fetch(`${worker.url}/metrics`)).text();

  p.step(
    "A client stores a file: encrypted, erasure-coded 2 + 2, one piece in a data set with each of four providers",
  );
  let file = input.file;
  if (file === null) {
    file = path.join(chain.workDir, "quarterly-report.bin");
    writeFileSync(file, randomBytes(3 * 1024 * 1024 + 4321));
  }
  const original = readFileSync(file);
  const manifestPath = path.join(chain.workDir, `${path.basename(file)}.strata.json`);
  await strata(["dev", "mint", "1000", "--to", input.clientAddress], 0);
  await strata(
    ["store", file, "--k", "2", "--m", "2", "--duration", "48", "--out", manifestPath],
    input.clientAccount,
  );
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    pieces: { root: string; provider: string; dataSetId: string; offset: number }[];
  };
  p.check(manifest.pieces.length === 4, `expected 4 pieces, the manifest has ${manifest.pieces.length}`);
  p.detail(`${original.length.toLocaleString("en-US")} bytes → 4 pieces; manifest ${manifestPath}`);
  for (const piece of manifest.pieces) {
    const set = await market.dataSet(BigInt(piece.dataSetId));
    p.detail(
      `data set ${piece.dataSetId} (version ${set.version}, ${set.span * 64n} bytes, ` +
        `${tokens(set.pricePerTiBMonth)} tokens per TiB-month): piece ${piece.root.slice(0, 18)}… at leaf ${piece.offset} with ${piece.provider}`,
    );
  }
  // A repair mandate lets anyone repair the file while the client is away; its brief goes to the worker.
  const mandateOpened = await strata(
    [
      "mandate",
      manifestPath,
      "--budget",
      "50",
      "--reward",
      "1",
      "--share",
      path.join(path.dirname(worker.dbPath), "repair-briefs"),
    ],
    input.clientAccount,
  );
  const mandate = String(mandateOpened.mandate);
  p.detail(`repair mandate ${mandate}: 50 tokens of budget, brief handed to the worker`);
  await strata(["status", manifestPath], input.clientAccount);
  p.detail("strata status: every piece healthy (data set live, provider proving, escrow paid ahead)");

  p.step(
    "Proving periods pass: every provider proves, the worker re-checks each proof off chain, payments settle",
  );
  const window = (await market.parameters()).proofWindow;
  for (let round = 0; round < 2; round++) {
    const states = await Promise.all(agents.map((a) => market.proofState(a.address)));
    const target = states.reduce(
      (min, s) => (s.nextPeriod < min ? s.nextPeriod : min),
      states[0]?.nextPeriod ?? 0n,
    );
    await advanceTo((await market.periodStart(target + 1n)) - window + 5n);
    for (const agent of agents) {
      await until(`provider ${agent.address} to prove period ${target}`, async () =>
        (await market.proofState(agent.address)).nextPeriod > target ? true : undefined,
      );
    }
    p.detail(`period ${target}: 4 proofs on chain`);
  }
  await until("the worker to verify 8 proofs off chain", async () =>
    metricValue(await metrics(), "strata_worker_proof_checks_total", '{verdict="ok"}') >= 8
      ? true
      : undefined,
  );
  const mismatches = metricValue(await metrics(), "strata_worker_proof_checks_total", '{verdict="mismatch"}');
  p.check(mismatches === 0, `the worker disagreed with ${mismatches} proofs`);
  await until("a settlement", async () =>
    (await market.queryFilter(market.filters.DataSetSettled())).some((e) => e.args.amount > 0n)
      ? true
      : undefined,
  );
  p.detail("the worker re-derived every challenge and checked every Merkle path: 0 disagreements");
  p.detail("data sets settled their streams (paid per second of proven storage, exact per byte)");

  const [lostData, offline] = agents;
  if (lostData === undefined || offline === undefined)
    throw new StrataError("INVALID_ARGUMENT", `the storage story needs two agents, got ${agents.length}`);
  p.step(`Provider ${lostData.address} loses its data; the worker's samples fail and it challenges on chain`);
  const piecesDir = path.join(lostData.dataDir, "pieces");
  for (const name of readdirSync(piecesDir)) rmSync(path.join(piecesDir, name), { recursive: true });
  const lostPiece = manifest.pieces.find((x) => x.provider.toLowerCase() === lostData.address.toLowerCase());
  p.check(lostPiece !== undefined, "no piece for the provider that loses data");
  const opened = await until(
    "the worker to open a retrieval challenge",
    async () => {
      const events = await retrieval.queryFilter(
        retrieval.filters.RetrievalChallengeOpened(undefined, BigInt(lostPiece.dataSetId)),
      );
      return events.find((e) => e.args.challenger.toLowerCase() === worker.address.toLowerCase());
    },
    120_000,
  );
  p.detail(
    `challenge ${opened.args.challengeId} on data set ${lostPiece.dataSetId}, leaf ${opened.args.leafIndex}, bond ` +
      `${tokens(opened.args.bond)} tokens; the provider has until ${new Date(Number(opened.args.deadline) * 1000).toISOString()}`,
  );

  p.step(`Provider ${offline.address} goes offline (its agent is killed) and misses its proof window`);
  offline.process.kill("SIGKILL");
  await once(offline.process, "exit");
  const offlineState = await market.proofState(offline.address);
  // The missed-proof penalty comes out of the provider's proof bond (its stake, held by the market), so compare the
  // whole stake with the bond.
  const totalStake = async (who: string) => {
    const [s, [bond]] = await Promise.all([registry.stakeInfo(who), market.proofBond(who)]);
    return s.free + s.locked + s.unbonding + bond;
  };
  const stakeBefore = await totalStake(offline.address);
  const windowEnd = await market.periodStart(offlineState.nextPeriod + 1n);
  const deadline = opened.args.deadline;
  // The providers that lost nothing prove every period the jump crosses: only the two faulty ones miss.
  const honest = agents.filter((a) => a !== lostData && a !== offline).map((a) => a.address);
  await advanceProving(chain, market, (windowEnd > deadline ? windowEnd : deadline) + 5n, honest);
  const reports = await until("the worker to report the missed proof", async () => {
    const events = await market.queryFilter(market.filters.MissedProofsReported(offline.address));
    return events.length > 0 ? events : undefined;
  });
  const report = reports[0];
  p.check(
    report?.args.reporter.toLowerCase() === worker.address.toLowerCase(),
    "the missed proof was not reported by the worker",
  );
  const stakeAfter = await totalStake(offline.address);
  p.check(stakeAfter < stakeBefore, "the offline provider's stake was not slashed");
  p.detail(
    `worker reported period ${report.args.fromPeriod} missed; penalty slashed from the provider's proof bond, ${tokens(report.args.bounty)} tokens of it to the worker`,
  );

  const failed = await until("the worker to enforce the unanswered challenge", async () => {
    const events = await retrieval.queryFilter(
      retrieval.filters.RetrievalChallengeFailed(opened.args.challengeId),
    );
    return events[0];
  });
  const lostSet = BigInt(lostPiece.dataSetId);
  const terminated = (await market.queryFilter(market.filters.DataSetTerminated(lostSet)))[0];
  p.check(
    terminated?.args.reason === RETRIEVAL_FAILED,
    "the challenged data set did not end as RetrievalFailed",
  );
  const slash = (await market.queryFilter(market.filters.Slashed(lostData.address, lostSet)))[0];
  p.check(slash !== undefined && slash.args.toHarmed > 0n, "the client was not compensated");
  p.detail(
    `enforced by ${failed.args.enforcer}: data set ${lostPiece.dataSetId} ended, collateral slashed — ` +
      `${slash.args.toHarmed} to the client, ${slash.args.toReporter} to the worker, ${slash.args.toTreasury} to the treasury`,
  );

  p.step("The client retrieves the file from the two providers left and checks it byte for byte");
  const out = path.join(chain.workDir, `${path.basename(file)}.retrieved`);
  await strata(["retrieve", manifestPath, out], input.clientAccount);
  const back = readFileSync(out);
  p.check(back.equals(original), "the retrieved file differs from the original");
  p.detail(`${back.length.toLocaleString("en-US")} bytes, identical (${out})`);
  return {
    file,
    fileBytes: original.length,
    manifest: manifestPath,
    retrieved: out,
    lostData,
    offline,
    mandate,
  };
}
