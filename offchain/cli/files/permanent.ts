// `strata store --permanent`, `strata status --permanent <fileId>`, `strata ls --permanent` and
// `strata get --permanent <fileId>`: permanent files paid once (docs/SPEC.md §16.2), through the SDK's
// offchain/sdk/durability/permanent.ts.
import { dirname } from "node:path";
import { createInterface } from "node:readline/promises";
import { PermanentStorage__factory, type PermanentStorage } from "../../../typechain-types/index.js";
import {
  permanentFile,
  permanentStorageAddress,
  quotePermanent,
  fileSource,
  retrievePermanent,
  storePermanent,
  type PermanentFileView,
  type PermanentQuote,
  type StorePermanentProgress,
  type StorePermanentResult,
} from "../../sdk/durability/permanent.js";
import { createPermanentAgentClient } from "../../sdk/durability/permanentAgent.js";
import { StrataError } from "../../sdk/errors.js";
import type { CliContext, TokenUnits } from "../context.js";
import { collectInputs } from "./inputs.js";
import { checkOutputPath, openOutput, STDOUT } from "./outputs.js";
import { formatBytes } from "../format/units.js";
import { confirmTransaction } from "../../sdk/chain/confirm.js";

export interface PermanentStoreOptions {
  yes?: boolean;
  dryRun?: boolean;
  /** Seconds to wait for every piece to be live (0: return once the pieces are staged). */
  wait: number;
  maxPayment?: string;
  /** Agents to hand the pieces to (addresses or endpoints). */
  providers?: string[];
}

/** The deployment's PermanentStorage, bound to the signer when `signed`. PERMANENT_NOT_DEPLOYED without one. */
export async function permanentContract(ctx: CliContext, signed: boolean): Promise<PermanentStorage> {
  const chain = await ctx.chain();
  const address = await permanentStorageAddress(chain.deployment);
  if (address === null) {
    throw new StrataError("PERMANENT_NOT_DEPLOYED", "this deployment has no PermanentStorage", {
      details: `${chain.deployment.source} lists no ${chain.deployment.module}#PermanentStorage`,
    });
  }
  return PermanentStorage__factory.connect(address, signed ? (await ctx.signed()).signer : chain.provider);
}

export function quoteLines(name: string, q: PermanentQuote, units: TokenUnits): string[] {
  return [
    `${name} (${formatBytes(q.fileSize)}): ${q.n} pieces (any ${q.k} rebuild it) of ${formatBytes(q.pieceSize)}`,
    `  one-time price ${units.format(q.total)} = principal ${units.format(q.principal)} + fee ${units.format(q.fee)}`,
    `  covers ${q.horizonYears} years of ${q.n} replicas at ${units.format(q.referencePricePerTiBMonth)} per TiB-month ` +
      `today, assuming storage costs fall ${q.declineBps / 100}% a year`,
  ];
}

export function quoteJson(q: PermanentQuote) {
  return {
    k: q.k,
    n: q.n,
    fileSize: q.fileSize,
    pieceSize: q.pieceSize,
    principal: q.principal,
    fee: q.fee,
    total: q.total,
    horizonYears: q.horizonYears,
    declineBps: q.declineBps,
    referencePricePerTiBMonth: q.referencePricePerTiBMonth,
  };
}

/** Ask on stderr, read one line from stdin: only "y" or "yes" pays. */
export async function askToPay(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  try {
    process.stderr.write(question);
    const answer = await new Promise<string>((resolve) => {
      rl.once("line", resolve);
      rl.once("close", () => {
        resolve("");
      });
    });
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}

/** `strata store --permanent <paths...>`: quote every file, confirm once, pay each once, stage, wait. */
export async function storePermanentFiles(
  ctx: CliContext,
  paths: readonly string[],
  opts: PermanentStoreOptions,
): Promise<void> {
  const inputs = await collectInputs(paths);
  for (const skipped of inputs.skipped) ctx.note(`skipped ${skipped} (not a regular file)`);
  const units = await ctx.tokenUnits();
  const perm = await permanentContract(ctx, opts.dryRun !== true);
  const quotes = await Promise.all(inputs.files.map((f) => quotePermanent(perm, f.size)));
  const total = quotes.reduce((sum, q) => sum + q.total, 0n);
  const quoted = inputs.files.flatMap((f, i) => {
    const quote = quotes[i];
    return quote === undefined ? [] : [{ name: f.name, path: f.path, quote }];
  });
  const human = () => [
    ...quoted.flatMap((q) => quoteLines(q.name, q.quote, units)),
    `total, paid once: ${units.format(total)}`,
  ];
  if (opts.dryRun === true) {
    ctx.result(
      { dryRun: true, files: quoted.map((q) => ({ name: q.name, quote: quoteJson(q.quote) })), total },
      human,
    );
    return;
  }
  const maxTotal = opts.maxPayment === undefined ? null : units.parse(opts.maxPayment);
  if (maxTotal !== null && total > maxTotal) {
    throw new StrataError(
      "AMOUNT_OUT_OF_RANGE",
      `the quote ${units.format(total)} is above --max-payment ${units.format(maxTotal)}`,
    );
  }
  if (opts.yes !== true) {
    for (const line of human()) ctx.io.stderr(`${line}\n`);
    if (!(await askToPay(`Pay ${units.format(total)} once? [y/N] `))) {
      throw new StrataError("STORE_DECLINED", "not paid: the quote was declined", {
        details: "answer y to pay, or pass --yes",
      });
    }
  }
  const { signer, registry, token } = await ctx.signed();
  const balance = await token.balanceOf(await signer.getAddress());
  if (balance < total) {
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `the account holds ${units.format(balance)}; the files cost ${units.format(total)}`,
    );
  }
  const results: StorePermanentResult[] = [];
  for (const q of quoted) {
    const source = await fileSource(q.path);
    let last = "";
    const onProgress = (event: StorePermanentProgress) => {
      const line = progressLine(q.name, event);
      if (line !== null && line !== last) {
        last = line;
        if (ctx.json) ctx.io.stderr(`${JSON.stringify({ file: q.name, ...jsonOf(event) })}\n`);
        else ctx.note(line);
      }
    };
    const stored = await storePermanent(
      {
        source,
        maxPayment: q.quote.total,
        waitMs: opts.wait * 1000,
        pollMs: 1000,
        onProgress,
        ...(opts.providers === undefined ? {} : { providers: opts.providers }),
      },
      {
        permanent: perm,
        registry,
        agentFor: (endpoint) => createPermanentAgentClient(endpoint, { timeoutMs: 120_000 }),
        approve: async (spender, amount) => {
          if ((await token.allowance(await signer.getAddress(), spender)) >= amount) return;
          await confirmTransaction(await token.approve(spender, amount));
        },
      },
    ).finally(() => source.close());
    results.push(stored);
  }
  const incomplete = results.some((r) => !r.complete);
  if (opts.wait > 0 && incomplete) ctx.exitCode = 2;
  ctx.result(
    {
      files: results.map((r, i) => ({
        name: quoted[i]?.name,
        fileId: r.fileId,
        txHash: r.txHash,
        paid: r.quote.total,
        piecesRoot: r.piecesRoot,
        staged: r.staged,
        live: r.live,
        needed: r.needed,
        complete: r.complete,
        solvency: solvencyJson(r.file),
      })),
      total,
    },
    () =>
      results.flatMap((r, i) => [
        `${quoted[i]?.name ?? "?"}: permanent file ${r.fileId}, paid ${units.format(r.quote.total)} once; ` +
          `${r.live}/${r.needed} pieces live${r.complete ? "" : opts.wait > 0 ? " (still placing when the wait ended)" : " (providers are placing them)"}`,
        ...solvencyLines(r.file, units),
        `  get it back with: strata get --permanent ${r.fileId} --out <path>`,
      ]),
  );
}

function progressLine(name: string, event: StorePermanentProgress): string | null {
  switch (event.kind) {
    case "quoted":
      return `${name}: ${event.stagers} provider agent(s) take permanent pieces`;
    case "paid":
      return `${name}: paid, permanent file ${event.fileId} (tx ${event.txHash})`;
    case "staged":
      return `${name}: piece ${event.index} handed to ${event.provider}`;
    case "placing":
      return (
        `${name}: ${event.live}/${event.needed} live, ${event.placed} placed, ${event.awarded} awarded, ` +
        `${event.offered} with offers`
      );
  }
}

function jsonOf(event: StorePermanentProgress): Record<string, unknown> {
  if (event.kind === "quoted")
    return { event: "quoted", stagers: event.stagers, total: event.quote.total.toString() };
  if (event.kind === "paid") return { event: "paid", fileId: event.fileId.toString(), txHash: event.txHash };
  const { kind, ...rest } = event;
  return { event: kind, ...rest };
}

export function solvencyJson(f: PermanentFileView) {
  return {
    status: f.status,
    principal: f.principal,
    principalLeft: f.principalLeft,
    releasedLeft: f.releasedLeft,
    yearsCovered: f.yearsCovered,
    livePieces: f.livePieces,
    needed: f.n,
    k: f.k,
  };
}

export function solvencyLines(f: PermanentFileView, units: TokenUnits): string[] {
  return [
    `  ${f.status}: ${f.livePieces}/${f.n} replicas live (any ${f.k} rebuild it); principal left ` +
      `${units.format(f.principalLeft)} of ${units.format(f.principal)}, covering ${f.yearsCovered} years at the live prices`,
  ];
}

/** `strata status --permanent <fileId>`: the solvency view and every slot; exit 2 below k live pieces. */
export async function permanentStatus(ctx: CliContext, target: string): Promise<void> {
  if (!/^[0-9]{1,20}$/.test(target))
    throw new StrataError("INVALID_ARGUMENT", `${target} is not a permanent file id`);
  const perm = await permanentContract(ctx, false);
  const units = await ctx.tokenUnits();
  const fileId = BigInt(target);
  if (fileId === 0n || fileId > (await perm.fileCount())) {
    throw new StrataError("FILE_NOT_FOUND", `no permanent file ${fileId}`);
  }
  const f = await permanentFile(perm, fileId);
  if (f.livePieces < f.k) ctx.exitCode = 2;
  ctx.result({ fileId, uploader: f.uploader, ...solvencyJson(f), slots: f.slots }, () => [
    `permanent file ${fileId} (uploader ${f.uploader})`,
    ...solvencyLines(f, units),
    ...f.slots.map(
      (s) =>
        `  piece ${s.index}: ${s.stage}` +
        (s.provider === null
          ? ""
          : ` ${s.stage === "open" ? "best offer" : "with"} ${s.provider} at ${units.format(s.pricePerTiBMonth)}/TiB-month`) +
        (s.dataSetId === null ? "" : `, data set ${s.dataSetId}`),
    ),
  ]);
}

/** `strata ls --permanent`: the permanent files the signing account paid for (FileStored events). */
export async function listPermanent(ctx: CliContext): Promise<void> {
  const perm = await permanentContract(ctx, false);
  const units = await ctx.tokenUnits();
  const { signer } = await ctx.signed();
  const me = await signer.getAddress();
  const events = await perm.queryFilter(perm.filters.FileStored(undefined, me));
  const files = await Promise.all(events.map((e) => permanentFile(perm, e.args.fileId)));
  ctx.result({ uploader: me, files: files.map((f) => ({ fileId: f.fileId, ...solvencyJson(f) })) }, () =>
    files.length === 0
      ? ["no permanent files paid by this account"]
      : files.flatMap((f) => [`permanent file ${f.fileId}`, ...solvencyLines(f, units)]),
  );
}

/** `strata get --permanent <fileId> --out <path>`: any k pieces from their holders, checked, decoded. */
export async function getPermanent(
  ctx: CliContext,
  target: string,
  out: string,
  force: boolean,
): Promise<void> {
  if (!/^[0-9]{1,20}$/.test(target))
    throw new StrataError("INVALID_ARGUMENT", `${target} is not a permanent file id`);
  await checkOutputPath(out, force);
  const perm = await permanentContract(ctx, false);
  const chain = await ctx.chain();
  // The pieces are fetched to disk first (next to the output: a temporary folder may live in memory), then the file
  // is decoded into the output a segment at a time.
  const output = await openOutput(out, force);
  let length: number;
  try {
    ({ length } = await retrievePermanent(
      BigInt(target),
      {
        permanent: perm,
        registry: chain.registry,
        agentFor: (endpoint) => ctx.agent(endpoint, { timeoutMs: 120_000 }),
        ...(out === STDOUT ? {} : { scratchDir: dirname(out) }),
      },
      output,
    ));
    await output.commit();
  } catch (error) {
    await output.abort();
    throw error;
  }
  ctx.result(
    { fileId: BigInt(target), out, size: length },
    () => `permanent file ${target}: ${formatBytes(length)} written to ${out}`,
  );
}
