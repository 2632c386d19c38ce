import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { ContractTransactionResponse } from "ethers";
import { RepairMandate__factory } from "../../../typechain-types/index.js";
import { chainRevert } from "../../sdk/chain/revert.js";
import { StrataError } from "../../sdk/errors.js";
import { parseRepairBrief, type RepairBrief } from "../../sdk/repair/brief.js";
import {
  advanceRepair,
  mandateHealth,
  type RepairOutcome,
  type RepairProgress,
} from "../../sdk/repair/driver.js";
import { defaultBriefPath, fileJournal } from "../../sdk/repair/forFile.js";
import type { CliContext } from "../context.js";
import { nonNegativeInt, positiveInt } from "../parse.js";
import type { Runner } from "../runner.js";
import { confirmTransaction } from "../../sdk/chain/confirm.js";

interface RepairOptions {
  piece?: number;
  wait?: boolean;
  timeout: number;
  journal?: string;
  withdraw?: boolean;
}

export function registerRepairCommand(program: Command, run: Runner): void {
  program
    .command("repair")
    .summary("rebuild a mandated file's lost pieces onto new providers, by hand")
    .description(
      "repair a file under a repair mandate (strata mandate), as the worker's repair duty does: for every piece " +
        "whose data set is no longer live (the contract's own rule), fetch k live pieces, rebuild the lost one " +
        "(no key needed), choose the cheapest provider within the mandate, open the repair, have that provider " +
        "create the data set and take the piece, bind it, and once the provider has proven a period claim the " +
        "reward (paid to you from the mandate's budget). Each step is saved in a journal, so running the command " +
        "again resumes where it stopped. <file> is the repair brief, or the manifest whose brief lies next to it.",
    )
    .argument("<file>", "the repair brief written by strata mandate, or the file's manifest")
    .option("--piece <index>", "repair only this piece", nonNegativeInt)
    .option("--wait", "keep going until every repair is claimed (polls the chain)")
    .option("--timeout <seconds>", "with --wait: give up after this long", positiveInt, 3600)
    .option("--journal <file>", "where the repair steps are saved (default: <brief>.repairs.json)")
    .option("--withdraw", "afterwards, withdraw the rewards this mandate owes you to your wallet")
    .action((file: string, opts: RepairOptions, command: Command) =>
      run(command, (ctx) => repair(ctx, file, opts)),
    );
}

async function readBrief(file: string): Promise<{ brief: RepairBrief; path: string }> {
  for (const path of [resolve(file), defaultBriefPath(file)]) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, "utf8"));
    } catch {
      continue;
    }
    if (typeof json === "object" && json !== null && "mandate" in json)
      return { brief: parseRepairBrief(json), path };
  }
  throw new StrataError("FILE_NOT_FOUND", `no repair brief at ${file} or ${defaultBriefPath(file)}`, {
    details: "open a mandate first (strata mandate <manifest>), or pass the brief it wrote",
  });
}

interface PieceReport {
  index: number;
  outcome: RepairOutcome["kind"];
  repairId: bigint | null;
  provider: string | null;
  dataSetId: bigint | null;
  stage: string | null;
  reward: bigint | null;
  note: string | null;
}

async function repair(ctx: CliContext, file: string, opts: RepairOptions): Promise<void> {
  const { brief, path } = await readBrief(file);
  const { chain, signer, registry } = await ctx.signed();
  if (brief.chainId !== chain.chainId) {
    throw new StrataError(
      "WRONG_NETWORK",
      `the brief is for chain ${brief.chainId}, the RPC serves ${chain.chainId}`,
    );
  }
  const units = await ctx.tokenUnits();
  const me = await signer.getAddress();
  const mandate = RepairMandate__factory.connect(brief.mandate, signer);
  const provingPeriod = await chain.market.provingPeriod();
  const progress: RepairProgress = (step, detail) => {
    const piece = typeof detail.index === "number" ? `piece ${detail.index}: ` : "";
    const provider = typeof detail.provider === "string" ? ` (${detail.provider})` : "";
    ctx.note(`${piece}${step}${provider}`);
  };
  const deps = {
    mandate,
    market: chain.market,
    registry,
    agentFor: (endpoint: string) => ctx.agent(endpoint, { timeoutMs: 120_000 }),
    repairer: me,
    chainId: chain.chainId,
    marketAddress: chain.deployment.market,
    provingPeriod,
    now: async () => BigInt((await chain.provider.getBlock("latest"))?.timestamp ?? 0),
    execute: async (
      label: string,
      simulate: () => Promise<unknown>,
      send: () => Promise<ContractTransactionResponse>,
    ) => {
      try {
        await simulate();
      } catch (error) {
        throw chainRevert(`${label} would revert`, error);
      }
      const receipt = await confirmTransaction(await send());
      return receipt;
    },
    journal: fileJournal(opts.journal ?? `${path.replace(/\.json$/, "")}.repairs.json`),
    progress,
  };
  const deadline = Date.now() + opts.timeout * 1000;
  const reports = new Map<number, PieceReport>();
  for (;;) {
    const { health } = await mandateHealth(brief, deps);
    const journalled = await Promise.all(
      health.map(async (h) => (await deps.journal.load(brief.mandate, h.piece.index)) !== null),
    );
    const todo = health.filter(
      (h, i) =>
        (opts.piece === undefined || h.piece.index === opts.piece) && (h.lost || journalled[i] === true),
    );
    let waiting = false;
    for (const h of todo) {
      let outcome: RepairOutcome;
      do {
        outcome = await advanceRepair(brief, h.piece.index, deps);
      } while (outcome.kind === "advanced" && outcome.record.stage !== "cancelled");
      const record = "record" in outcome ? outcome.record : null;
      reports.set(h.piece.index, {
        index: h.piece.index,
        outcome: outcome.kind,
        repairId: record?.repairId ?? (outcome.kind === "pendingElsewhere" ? outcome.repairId : null),
        provider: record?.provider ?? null,
        dataSetId: record?.dataSetId ?? null,
        stage: record?.stage ?? null,
        reward: outcome.kind === "claimed" ? outcome.reward : null,
        note: outcome.kind === "waiting" ? outcome.reason : null,
      });
      if (outcome.kind === "waiting" || outcome.kind === "pendingElsewhere") waiting = true;
    }
    if (opts.wait !== true || !waiting) break;
    if (Date.now() > deadline) {
      ctx.exitCode = 2;
      ctx.note("gave up waiting (--timeout); run strata repair again to resume");
      break;
    }
    await new Promise((r) => setTimeout(r, 5000));
  }
  const pieces = [...reports.values()].sort((a, b) => a.index - b.index);
  let withdrawn = 0n;
  if (opts.withdraw === true) {
    const owed = await mandate.rewardsOwed(me);
    if (owed > 0n) {
      await deps.execute(
        "withdrawRewards",
        () => mandate.withdrawRewards.staticCall(),
        () => mandate.withdrawRewards(),
      );
      withdrawn = owed;
    }
  }
  const owedNow = await mandate.rewardsOwed(me);
  const lines = (): string[] => [
    ...(pieces.length === 0
      ? [`no lost piece in mandate ${brief.mandate}: nothing to repair`]
      : pieces.map((p) => {
          const where = p.provider === null ? "" : ` onto ${p.provider}`;
          switch (p.outcome) {
            case "claimed":
              return `piece ${p.index}: repaired${where} (data set ${String(p.dataSetId)}), reward ${units.format(p.reward ?? 0n)} credited`;
            case "waiting":
              return `piece ${p.index}: repair ${String(p.repairId)}${where} placed; ${p.note ?? "waiting"} (run again, or --wait)`;
            case "pendingElsewhere":
              return `piece ${p.index}: another repairer's repair ${String(p.repairId)} is under way`;
            case "healthy":
              return `piece ${p.index}: live`;
            case "advanced":
              return `piece ${p.index}: repair ${String(p.repairId)} ${p.stage ?? ""}`;
          }
        })),
    ...(withdrawn > 0n ? [`withdrew ${units.format(withdrawn)} of rewards to ${me}`] : []),
    ...(owedNow > 0n ? [`rewards owed to you: ${units.format(owedNow)} (strata repair --withdraw)`] : []),
  ];
  ctx.result({ mandate: brief.mandate, repairer: me, pieces, withdrawn, rewardsOwed: owedNow }, lines);
}
