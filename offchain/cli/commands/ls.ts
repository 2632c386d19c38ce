import type { Command } from "commander";
import { filesOf } from "../../runtime/catalog/catalog.js";
import type { CliContext } from "../context.js";
import { catalogOption, openCatalog, type CatalogOption } from "../files/catalogOption.js";
import { fileShare, payloadHealth, type PayloadHealth } from "../files/health.js";
import { resolveOneFile } from "../files/resolveFile.js";
import { formatBytes, isoTime } from "../format/units.js";
import type { Runner } from "../runner.js";
import { listPermanent } from "../files/permanent.js";

interface LsOptions extends CatalogOption {
  offline?: boolean;
  all?: boolean;
}

export function registerListCommands(program: Command, run: Runner): void {
  catalogOption(
    program
      .command("ls")
      .summary("list your stored files: size, cost per month, health, paid until")
      .description(
        "list the files in your local catalog with their size, their share of the monthly cost, their health " +
          "(pieces live and healthy of n, k needed) and the date until which the escrow pays. Exits with 2 when a " +
          "listed file is not safe (at risk, lost, or a store that did not finish)",
      )
      .option("--offline", "do not read the chain (no health, cost or paid-until)")
      .option("--all", "include removed files")
      .option("--permanent", "list the permanent files this account paid for, with their solvency"),
  ).action((opts: LsOptions & { permanent?: boolean }, command: Command) =>
    run(command, (ctx) => (opts.permanent === true ? listPermanent(ctx) : list(ctx, opts))),
  );
  catalogOption(
    program
      .command("info")
      .summary("one stored file: where it is, its ids, its pieces and their health")
      .description(
        "show one stored file: its payload, manifest, offset and size in the payload, SHA-256, content id, and " +
          "the health of every piece of its payload. Exits with 2 when the file is not safe",
      )
      .argument("<file>", "a name, path in a bundle, content id, payload id or manifest"),
  ).action((ref: string, opts: CatalogOption, command: Command) =>
    run(command, (ctx) => info(ctx, ref, opts)),
  );
}

async function list(ctx: CliContext, opts: LsOptions): Promise<void> {
  const catalog = openCatalog(ctx, opts);
  let rows;
  const health = new Map<string, PayloadHealth | null>();
  try {
    rows = catalog.files({ includeRemoved: opts.all === true });
    for (const row of rows) {
      if (health.has(row.manifestId)) continue;
      if (opts.offline === true || row.status === "removed") {
        health.set(row.manifestId, null);
        continue;
      }
      const { manifest } = catalog.manifest(row.manifestId);
      health.set(row.manifestId, await payloadHealth(ctx, manifest, row.status));
    }
  } finally {
    catalog.close();
  }
  const units = opts.offline === true ? null : await ctx.tokenUnits();
  // Cost per file: its share (by bytes) of its payload's monthly cost.
  const payloadSize = new Map<string, number>();
  for (const row of rows) payloadSize.set(row.manifestId, (payloadSize.get(row.manifestId) ?? 0) + row.size);
  const items = rows.map((row) => {
    const h = health.get(row.manifestId) ?? null;
    return {
      name: row.name,
      size: row.size,
      id: row.contentId,
      public: row.public,
      payload: row.manifestId,
      manifest: row.manifestPath,
      status: row.removed ? "removed" : row.status,
      health: h?.health ?? null,
      live: h?.live ?? null,
      k: h?.k ?? null,
      n: h?.n ?? null,
      perMonth: fileShare(h?.perMonth ?? null, row.size, payloadSize.get(row.manifestId) ?? 0),
      paidUntil: h?.paidUntil ?? null,
    };
  });
  if (items.some((i) => i.health !== null && i.health !== "ok")) ctx.exitCode = 2;
  ctx.result({ files: items }, () =>
    items.length === 0
      ? ["no stored files in the catalog (strata store <files>, or strata import <manifest>)"]
      : items.map(
          (i) =>
            `${i.name}  ${formatBytes(i.size)}  ` +
            (i.health === null
              ? i.status
              : `${i.perMonth === null || units === null ? "?" : units.format(i.perMonth)}/month  ` +
                `${healthText(i.health)} (${i.live ?? 0} of ${i.n ?? 0} live, ${i.k ?? 0} needed)  ` +
                `paid until ${i.paidUntil === null ? "-" : isoTime(i.paidUntil).slice(0, 10)}`) +
            `  ${i.id}${i.public ? " (public)" : ""}`,
        ),
  );
}

function healthText(health: string): string {
  switch (health) {
    case "ok":
      return "ok";
    case "at-risk":
      return "AT RISK";
    case "lost":
      return "LOST";
    case "pending":
      return "NOT FINISHED (strata store --resume)";
    default:
      return health;
  }
}

async function info(ctx: CliContext, ref: string, opts: CatalogOption): Promise<void> {
  const catalog = openCatalog(ctx, opts);
  let found;
  let status: string | null = null;
  try {
    found = await resolveOneFile(catalog, ref);
    if (found.catalog !== null) status = found.catalog.status;
  } finally {
    catalog.close();
  }
  const { manifest, file } = found;
  const h = await payloadHealth(ctx, manifest, status);
  const units = await ctx.tokenUnits();
  if (h.health !== "ok") ctx.exitCode = 2;
  const perMonth = fileShare(h.perMonth, file.size, manifest.fileSize);
  ctx.result(
    {
      ...file,
      payload: manifest.fileId,
      manifest: found.manifestPath,
      payloadFiles: filesOf(manifest).length,
      payloadSize: manifest.fileSize,
      k: h.k,
      n: h.n,
      live: h.live,
      health: h.health,
      perMonth,
      paidUntil: h.paidUntil,
      pieces: (h.status?.pieces ?? []).map((p) => ({
        piece: p.piece,
        provider: p.provider,
        dataSetId: p.dataSetId,
        health: p.health,
        reasons: p.reasons,
        paidUntil: p.paidUntil,
      })),
    },
    () => [
      `${file.name}: ${formatBytes(file.size)}, ${healthText(h.health)} (${h.live} of ${h.n} pieces live, ${h.k} needed)`,
      `  id ${file.id}${file.public ? " (public: ipfs add --cid-version 1)" : " (of the ciphertext)"}`,
      `  sha256 ${file.sha256}`,
      `  payload ${manifest.fileId}: bytes ${file.offset}..${file.offset + file.size} of ${formatBytes(manifest.fileSize)}, ${filesOf(manifest).length} file(s); manifest ${found.manifestPath ?? "-"}`,
      `  cost ${perMonth === null ? "?" : units.format(perMonth)} per month; paid until ${h.paidUntil === null ? "-" : isoTime(h.paidUntil)}`,
      ...(h.status?.pieces ?? []).map(
        (p) =>
          `  piece ${p.piece}: ${p.health} — data set #${p.dataSetId} with ${p.provider}${p.reasons.length > 0 ? `: ${p.reasons.join("; ")}` : ""}`,
      ),
    ],
  );
}
