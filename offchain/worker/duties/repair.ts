/**
 * Repair duty (docs/SPEC.md §16.1): the worker repairs mandated files without their owners online.
 *
 * Each run it (1) indexes the RepairMandateFactory's MandateOpened events up to the confirmed head into
 * `repair_mandates`; (2) reads the briefs in `repair.briefsDir` (`strata mandate` writes one per file) and keeps
 * each one whose piece list makes its mandate's signed root; (3) for every mandate with a brief, reads each
 * piece's health with the contract's own rule (pieceHealth) and drives the repair of every lost piece, or of a
 * piece whose repair it already started, one step at a time (offchain/sdk/repair/driver.ts): rebuild from k live
 * pieces, choose the cheapest provider within the mandate, openRepair, have the provider's agent create the data
 * set, bindRepair, upload the piece and its state, and once the new provider has proven a period, claimRepair.
 * Every step is saved in `repairs` before the next starts, so a restarted worker resumes where it stopped and
 * never opens a second repair of the same piece. A read-only worker indexes mandates and logs lost pieces only.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { getAddress } from "ethers";
import { RepairMandate__factory, RepairMandateFactory__factory } from "../../../typechain-types/index.js";
import { createAgentClient } from "../../sdk/client/agentClient.js";
import { StrataError } from "../../sdk/errors.js";
import { checkRepairBrief, parseRepairBrief, type RepairBrief } from "../../sdk/repair/brief.js";
import { advanceRepair, type RepairDeps, type RepairOutcome } from "../../sdk/repair/driver.js";
import { pieceHealth } from "../../sdk/repair/lostPieces.js";
import type { Duty, WorkerContext } from "../context.js";

/** Meta key of the last block whose MandateOpened events are indexed. */
export const REPAIR_CURSOR_KEY = "repair.cursor";

export interface RepairDutyResult {
  [key: string]: unknown;
  mandates: number;
  withBrief: number;
  lost: number;
  advanced: number;
  claimed: number;
  failed: number;
}

/** The repair duty (run only when `repair.enabled` and `repair.factory` are set; see duties/index.ts). */
export function repairDuty(options: { agentFor?: RepairDeps["agentFor"] } = {}): Duty {
  return {
    name: "repair",
    async run(ctx) {
      return { ...(await runRepairRound(ctx, options)) };
    },
  };
}

/** Mandates already logged as unrecoverable, per worker (logged once each). */
const unrecoverableSaid = new WeakMap<WorkerContext, Set<string>>();

/** One round: index mandates, load briefs, drive every repair one step further. */
export async function runRepairRound(
  ctx: WorkerContext,
  options: { agentFor?: RepairDeps["agentFor"] } = {},
): Promise<RepairDutyResult> {
  const log = ctx.logger.child({ duty: "repair" });
  const result: RepairDutyResult = { mandates: 0, withBrief: 0, lost: 0, advanced: 0, claimed: 0, failed: 0 };
  const { factory } = ctx.config.repair;
  if (!ctx.config.repair.enabled || factory === null) return result;
  await indexMandates(ctx, factory);
  await loadBriefs(ctx);
  const tables = ctx.db.repairs;
  const mandates = tables.mandates();
  result.mandates = mandates.length;
  for (const row of mandates) {
    if (row.brief === null) continue;
    result.withBrief++;
    const brief = parseRepairBrief(JSON.parse(row.brief));
    try {
      await repairMandate(ctx, brief, result, options);
    } catch (error) {
      result.failed++;
      log.warn({ mandate: row.mandate, err: describe(error) }, "repair pass failed; retried next tick");
    }
  }
  return result;
}

async function repairMandate(
  ctx: WorkerContext,
  brief: RepairBrief,
  result: RepairDutyResult,
  options: { agentFor?: RepairDeps["agentFor"] },
): Promise<void> {
  const log = ctx.logger.child({ duty: "repair", mandate: brief.mandate });
  const { chain } = ctx;
  const reader = RepairMandate__factory.connect(brief.mandate, chain.provider);
  const pieces = brief.pieces;
  const [health, closed] = await chain.read("mandate health", () =>
    Promise.all([pieceHealth(chain.market, reader, pieces), reader.closed()]),
  );
  const tables = ctx.db.repairs;
  const live = health.filter((p) => !p.lost).length;
  const unrecoverable = live < brief.k;
  if (unrecoverable) {
    // Nothing can rebuild a piece from fewer than k: say so once, not a failed fetch every tick.
    const said = unrecoverableSaid.get(ctx) ?? new Set<string>();
    unrecoverableSaid.set(ctx, said);
    if (!said.has(brief.mandate)) {
      said.add(brief.mandate);
      log.warn({ live, k: brief.k }, "file unrecoverable: fewer than k pieces are live; no repair can start");
    }
  }
  for (const piece of health) {
    const started = tables.openRepair(brief.mandate, piece.piece.index);
    if (!piece.lost && started === null) continue;
    if (unrecoverable && started === null) {
      result.lost++;
      continue;
    }
    if (piece.lost) result.lost++;
    if (chain.signer === null || chain.me === null) {
      log.warn({ index: piece.piece.index, holder: piece.holder }, "piece lost; this worker is read-only");
      continue;
    }
    if (closed && started === null) continue; // the owner closed the mandate: no new repairs
    const deps: RepairDeps = {
      mandate: RepairMandate__factory.connect(brief.mandate, chain.signer),
      market: chain.market,
      registry: chain.registry,
      agentFor:
        options.agentFor ??
        ((endpoint) =>
          createAgentClient(endpoint, { fetch: ctx.fetch, timeoutMs: ctx.config.repair.fetchTimeoutMs })),
      repairer: chain.me,
      chainId: chain.chainId,
      marketAddress: ctx.config.deployment.market,
      provingPeriod: chain.provingPeriod,
      now: () => chain.now(),
      execute: (_label, simulate, send) => chain.execute(simulate, send),
      journal: {
        load: (mandate, index) => tables.openRepair(mandate, index),
        save: (record) => {
          tables.saveRepair(record);
        },
      },
      progress: (step, detail) => {
        log.info({ step, ...detail }, `repair: ${step}`);
      },
    };
    let outcome: RepairOutcome;
    try {
      outcome = await advanceRepair(brief, piece.piece.index, deps);
    } catch (error) {
      result.failed++;
      log.warn({ index: piece.piece.index, err: describe(error) }, "repair step failed; retried next tick");
      continue;
    }
    if (outcome.kind === "advanced") result.advanced++;
    if (outcome.kind === "claimed") {
      result.claimed++;
      log.info(
        { index: piece.piece.index, repairId: outcome.record.repairId, reward: outcome.reward },
        "repair claimed (withdraw the reward with `strata repair <brief> --withdraw`)",
      );
    }
  }
}

/** Index MandateOpened events from the cursor to the confirmed head, `maxBlockRange` blocks at a time. */
async function indexMandates(ctx: WorkerContext, factoryAddress: string): Promise<void> {
  const { chain, db, config } = ctx;
  const factory = RepairMandateFactory__factory.connect(factoryAddress, chain.provider);
  const head = (await chain.head()) - config.confirmations;
  const stored = db.getMeta(REPAIR_CURSOR_KEY);
  let from = stored === undefined ? config.startBlock : Number(stored) + 1;
  while (from <= head) {
    const to = Math.min(head, from + config.maxBlockRange - 1);
    const events = await chain.read("MandateOpened logs", () =>
      factory.queryFilter(factory.filters.MandateOpened(), from, to),
    );
    db.tx(() => {
      for (const event of events) {
        db.repairs.addMandate({
          mandate: event.args.mandate,
          owner: event.args.owner,
          piecesRoot: event.args.piecesRoot,
          pieceCount: Number(event.args.pieceCount),
          blockNumber: event.blockNumber,
        });
      }
      db.setMeta(REPAIR_CURSOR_KEY, String(to));
    });
    from = to + 1;
  }
}

/** Read `briefsDir` and attach each brief that matches a known mandate's signed piece list. */
async function loadBriefs(ctx: WorkerContext): Promise<void> {
  const dir = ctx.config.repair.briefsDir;
  if (dir === null) return;
  const log = ctx.logger.child({ duty: "repair" });
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(".json")).sort();
  } catch {
    return; // no folder yet
  }
  const tables = ctx.db.repairs;
  for (const name of names) {
    let brief: RepairBrief;
    let text: string;
    try {
      text = await readFile(join(dir, name), "utf8");
      brief = parseRepairBrief(JSON.parse(text));
    } catch (error) {
      log.debug({ file: name, err: describe(error) }, "not a repair brief");
      continue;
    }
    const row = tables.mandate(brief.mandate);
    if (row?.brief !== null) continue; // unknown mandate, or its brief is already accepted
    try {
      checkRepairBrief(brief, {
        chainId: ctx.chain.chainId,
        piecesRoot: row.piecesRoot,
        pieceCount: row.pieceCount,
      });
      tables.setBrief(brief.mandate, text, null);
      log.info({ mandate: getAddress(brief.mandate), pieces: brief.pieces.length }, "repair brief accepted");
    } catch (error) {
      if (row.briefError === null) log.warn({ file: name, err: describe(error) }, "repair brief refused");
      tables.setBrief(brief.mandate, null, describe(error));
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof StrataError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
