/**
 * The permanent-storage chapter of the demo (docs/SPEC.md §16.2): the client asks for the one-time price of an
 * (already encrypted) archive — 200 years under the 0.5%-a-year cost-decline assumption — pays it once with the
 * SDK's `storePermanent` (what `strata store --permanent` runs), hands each of the n = k + m pieces to one provider
 * agent, and is done. The agents then offer for the slots (cheapest wins), award, create the data sets the
 * contract approved, place the pieces, prove them and confirm them; the chapter only moves the local chain's clock
 * (offer window, proof windows) and prints the file's public solvency view once every piece is live.
 */
import { tokens } from "./summary.js";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  PermanentStorage__factory,
  ProviderRegistry__factory,
  StorageMarket__factory,
  TestStablecoin__factory,
  type PermanentStorage,
} from "../../typechain-types/index.js";
import { devAccountWallet } from "../../offchain/sdk/chain/connect.js";
import {
  bytesSource,
  permanentFile,
  storePermanent,
  type PermanentFileView,
} from "../../offchain/sdk/durability/permanent.js";
import { createPermanentAgentClient } from "../../offchain/sdk/durability/permanentAgent.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import type { LocalChain } from "../lib/localChain.js";
import { strataCli, until } from "../lib/localProcesses.js";
import { advanceProving, proveThroughPeriod } from "./proving.js";
import type { Progress } from "./progress.js";

export interface PermanentStoryInput {
  chain: LocalChain;
  progress: Progress;
  clientAccount: number;
  /** The providers whose agents are running: the chapter waits for the ones due for each period it proves. */
  provers: readonly string[];
  /** Running providers that must prove any period whose window the offer window's jump would close. */
  keepProving?: readonly string[];
}

export interface PermanentStoryResult {
  fileId: bigint;
  pieces: number;
  paid: bigint;
  principal: bigint;
  horizonYears: bigint;
  holders: string[];
  solvency: { principalLeft: bigint; yearsCovered: number; livePieces: number; status: string };
}

/** The deployment's PermanentStorage (read-only). */
export function permanentOf(chain: LocalChain): PermanentStorage {
  const raw = readFileSync(chain.deploymentFile, "utf8");
  const address = (JSON.parse(raw) as Record<string, string | undefined>)["StrataLocal#PermanentStorage"];
  if (address === undefined) {
    throw new StrataError("DEPLOYMENT_NOT_FOUND", `${chain.deploymentFile} has no PermanentStorage`);
  }
  return PermanentStorage__factory.connect(address, chain.provider);
}

/**
 * Move the local chain's clock until every piece of permanent file `fileId` is live: past the offer window, then
 * into each holder's next proof window (the agents do the rest), never leaving a running provider of `provers`
 * behind a period it was due to prove (`options.keepProving`, when given, instead of `provers` for the jump past
 * the offer window). Resolves to the file's view; a timeout (5 minutes unless
 * `options.timeoutMs`) names each slot's stage and what `options.explain` says (the agents' last complaints).
 */
export async function advanceUntilPermanentLive(
  chain: LocalChain,
  fileId: bigint,
  provers: readonly string[] = [],
  options: { timeoutMs?: number; explain?: () => string; keepProving?: readonly string[] } = {},
): Promise<PermanentFileView> {
  const perm = permanentOf(chain);
  const market = StorageMarket__factory.connect(chain.addresses.market, chain.provider);
  const now = async () => BigInt((await chain.provider.getBlock("latest"))?.timestamp ?? 0);
  const config = await perm.config();
  const n = Number(config.totalShards);
  let seen = "nothing read yet";
  const waited = until(
    "every piece of the permanent file to be live",
    async () => {
      const view = await permanentFile(perm, fileId);
      seen = view.slots.map((s) => `${s.index}:${s.stage}@${s.provider ?? "-"}`).join(" ");
      if (view.livePieces === n) return true;
      const open = view.slots.filter((s) => s.stage === "open");
      if (open.length > 0) {
        // Offers are made within seconds; once every slot has one, close the window.
        if (open.some((s) => s.provider === null)) return undefined;
        const deadlines = await Promise.all(
          open.map(async (s) => (await perm.slot(fileId, s.index)).deadline),
        );
        const last = deadlines.reduce((a, b) => (a > b ? a : b));
        const at = await now();
        if (at <= last) await advanceProving(chain, market, last + 2n, options.keepProving ?? provers);
        return undefined;
      }
      if (view.slots.some((s) => s.stage === "awarded")) return undefined; // creating and placing
      const placed = view.slots.filter((s) => s.stage === "placed");
      const states = await Promise.all(placed.map((s) => market.dataSet(s.dataSetId ?? 0n)));
      if (states.some((s) => s.version === 0n)) return undefined; // approved state not yet applied
      // A placed piece the contract would confirm now is the agents' to confirm: moving the clock on instead could
      // run its placement past its proof grace (PROOF_GRACE_PERIODS) on a slow machine, and a slot reported lost
      // there has nobody left to offer for it (the other providers hold a piece of the file each).
      const confirmable = await Promise.all(
        placed.map((s) =>
          perm.confirm.staticCall(fileId, s.index).then(
            () => true,
            () => false,
          ),
        ),
      );
      if (confirmable.some(Boolean)) return undefined;
      const holders = placed.map((s) => s.provider ?? "");
      const next = await Promise.all(holders.map(async (h) => (await market.proofState(h)).nextPeriod));
      const latest = next.reduce((a, b) => (a > b ? a : b), 0n);
      await proveThroughPeriod(chain, market, latest, { required: holders, running: provers });
      return undefined;
    },
    options.timeoutMs ?? 300_000,
  );
  const explain = (): string => (options.explain === undefined ? "" : `; ${options.explain()}`);
  await waited.catch((error: unknown) => {
    // Say where it stood: a timeout with the slots' stages is a diagnosis, without them only a symptom.
    if (error instanceof StrataError)
      throw new StrataError(error.code, `${error.message} (slots ${seen}${explain()})`, {
        details: error.details,
        cause: error,
      });
    throw error;
  });
  return permanentFile(perm, fileId);
}

export async function runPermanentStory(input: PermanentStoryInput): Promise<PermanentStoryResult> {
  const { chain } = input;
  const p: Progress = input.progress;
  const client = devAccountWallet(input.clientAccount).connect(chain.provider);
  const perm = permanentOf(chain).connect(client);
  const config = await perm.config();
  const n = Number(config.totalShards);

  p.step(`A client stores an archive permanently: paid once for ${config.horizonYears} years`);
  await strataCli(chain)(["dev", "mint", "100", "--to", client.address], 0);
  const token = TestStablecoin__factory.connect(chain.addresses.token, client);
  const stored = await storePermanent(
    {
      source: bytesSource(randomBytes(256 * 1024)),
      onProgress: (event) => {
        if (event.kind === "quoted") {
          const q = event.quote;
          p.detail(
            `${q.n} pieces (any ${q.k} rebuild it) of ${q.pieceSize} bytes; quote: ${tokens(q.principal)} tokens of ` +
              `principal + ${tokens(q.fee)} fee, assuming storage costs fall ${q.declineBps / 100}% a year; ` +
              `${event.stagers} agents take permanent pieces`,
          );
        }
        if (event.kind === "staged") p.detail(`piece ${event.index} handed to ${event.provider}`);
      },
    },
    {
      permanent: perm,
      registry: ProviderRegistry__factory.connect(chain.addresses.registry, chain.provider),
      agentFor: (endpoint) => createPermanentAgentClient(endpoint),
      approve: async (spender, amount) => {
        await (await token.approve(spender, amount)).wait();
      },
    },
  );
  p.detail(`file ${stored.fileId} paid once: ${tokens(stored.quote.total)} tokens; the client is done`);
  p.check(stored.file.principalLeft === stored.quote.principal, "the principal held is not the quoted one");

  p.step("Provider agents offer for its pieces (cheapest wins), place, prove and confirm them");
  const view = await advanceUntilPermanentLive(chain, stored.fileId, input.provers, {
    keepProving: input.keepProving,
  });
  for (const s of view.slots) {
    p.detail(
      `piece ${s.index}: ${s.stage} with ${s.provider ?? "nobody"} at ${tokens(s.pricePerTiBMonth)} tokens per TiB-month, data set ${s.dataSetId ?? "none"}`,
    );
  }
  p.check(view.livePieces === n, `${view.livePieces} of ${n} pieces live`);
  p.detail(
    `solvency of file ${stored.fileId}: ${view.status}, ${view.livePieces}/${n} replicas live, principal left ` +
      `${tokens(view.principalLeft)} of ${tokens(view.principal)} tokens, covering ${view.yearsCovered} years at the live prices`,
  );
  return {
    fileId: stored.fileId,
    pieces: n,
    paid: stored.quote.total,
    principal: stored.quote.principal,
    horizonYears: config.horizonYears,
    holders: view.slots.map((s) => s.provider ?? ""),
    solvency: {
      principalLeft: view.principalLeft,
      yearsCovered: view.yearsCovered,
      livePieces: view.livePieces,
      status: view.status,
    },
  };
}
