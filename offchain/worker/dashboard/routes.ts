/**
 * The dashboard's routes on the worker's fastify app: `/` (network overview), `/providers/:address`,
 * `/data-sets/:id`, `/leases/:id`, `/watchers`, `/watchers/:address` and `/dashboard.css`. Server-rendered
 * HTML (escaped by `html`), no scripts: a Content-Security-Policy allows only the stylesheet. Malformed ids or
 * addresses answer 400, unknown ones 404, an unreadable chain 503 — each as an HTML page. Read-only: the index
 * through `DashboardQueries`, the chain through `DashboardChain`.
 */
import { getAddress, isAddress } from "ethers";
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import type { WorkerDb } from "../db/index.js";
import type { DashboardChain } from "./chainReads.js";
import type { SafeHtml } from "./html.js";
import { DashboardQueries } from "./queries.js";
import { renderDataSet } from "./views/dataSet.js";
import { errorPage } from "./views/errors.js";
import type { ViewContext } from "./views/layout.js";
import { renderLease } from "./views/lease.js";
import { renderOverview } from "./views/overview.js";
import { renderProvider } from "./views/provider.js";
import { STYLESHEET } from "./views/style.js";
import { renderWatcher, renderWatchers } from "./views/watcher.js";

export interface DashboardDeps {
  db: WorkerDb;
  chain: DashboardChain;
  chainId: bigint;
}

/** Proving periods the overview's and a provider's activity charts cover. */
export const ACTIVITY_PERIODS = 24n;

const MAX_UINT64 = (1n << 64n) - 1n;

const idParam = z.object({
  id: z
    .string()
    .regex(/^[0-9]{1,20}$/, "an id is a whole number")
    .transform((s) => BigInt(s))
    .refine((n) => n <= MAX_UINT64, "an id fits in 64 bits"),
});

const addressParam = z.object({
  address: z
    .string()
    .refine((s) => isAddress(s), "not an address (0x and 40 hex digits)")
    .transform((s) => getAddress(s.toLowerCase())),
});

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

function send(reply: FastifyReply, status: number, body: SafeHtml): FastifyReply {
  return reply
    .code(status)
    .headers(SECURITY_HEADERS)
    .header("content-type", "text/html; charset=utf-8")
    .send(body.text);
}

/** A 400 page naming what was wrong with the input. */
function badInput(reply: FastifyReply, error: z.ZodError): FastifyReply {
  const message = error.issues.map((i) => i.message).join("; ");
  return send(reply, 400, errorPage(400, "Bad request", message));
}

export function notFoundPage(reply: FastifyReply, message: string): FastifyReply {
  return send(reply, 404, errorPage(404, "Not found", message));
}

/** Register the dashboard as an encapsulated plugin (its error handler covers only its own routes). */
export function registerDashboard(app: FastifyInstance, deps: DashboardDeps): void {
  void app.register((scope, _options, done) => {
    dashboardRoutes(scope, deps);
    done();
  });
}

function dashboardRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const q = new DashboardQueries(deps.db);
  const { chain } = deps;

  const context = async (blocks: readonly number[]): Promise<ViewContext> => {
    const [token, now, blockTimes] = await Promise.all([
      chain.token(),
      chain.now(),
      chain.blockTimes(blocks),
    ]);
    return {
      token,
      now,
      blockTimes,
      chainId: deps.chainId.toString(),
      indexedBlock: q.indexedBlock(),
      provingPeriod: chain.provingPeriod,
      genesis: chain.genesis,
    };
  };

  const periodNow = (now: bigint): bigint =>
    now < chain.genesis || chain.provingPeriod === 0n ? 0n : (now - chain.genesis) / chain.provingPeriod;

  const activityWindow = (now: bigint, provider?: string): [bigint, bigint] | null => {
    const last = q.lastActivePeriod(provider);
    if (last === null) return null;
    const current = periodNow(now);
    const to = current > last ? current : last;
    return [to >= ACTIVITY_PERIODS ? to - ACTIVITY_PERIODS + 1n : 0n, to];
  };

  // A chain read that fails (node down, timeout) is a 503 page, not a stack trace.
  app.setErrorHandler(async (error, request, reply) => {
    request.log.warn({ err: error, url: request.url }, "dashboard page failed");
    return send(
      reply,
      503,
      errorPage(503, "Chain unavailable", "the chain could not be read; try again shortly"),
    );
  });

  app.get("/dashboard.css", async (_request, reply) =>
    reply
      .header("content-type", "text/css; charset=utf-8")
      .header("cache-control", "public, max-age=300")
      .send(STYLESHEET),
  );

  app.get("/", async (_request, reply) => {
    const providers = q.providers();
    const stakes = await Promise.all(providers.map((p) => chain.stake(p.provider)));
    const ctx = await context([]);
    const window = activityWindow(ctx.now);
    const body = renderOverview(ctx, {
      totals: q.totals(),
      providers: providers.map((row, i) => ({
        row,
        stake: stakes[i] ?? { free: 0n, locked: 0n, unbonding: 0n, unbondingReleaseAt: 0n, proofBond: 0n },
      })),
      activity: window === null ? [] : q.activity(window[0], window[1]),
      flows: q.moneyFlows(),
      dataSets: q.dataSets(),
      leases: q.leases(),
      watchers: q.watchers(),
    });
    return send(reply, 200, body);
  });

  app.get("/providers/:address", async (request, reply) => {
    const parsed = addressParam.safeParse(request.params);
    if (!parsed.success) return badInput(reply, parsed.error);
    const address = parsed.data.address;
    const row = q.provider(address);
    if (row === undefined) return notFoundPage(reply, `no provider ${address} in this index`);
    const proofs = q.proofs(address);
    const faults = q.faults({ provider: address });
    const slashes = q.slashes({ provider: address });
    const [stake, ctx] = await Promise.all([
      chain.stake(address),
      context([...proofs, ...faults, ...slashes].map((r) => r.blockNumber)),
    ]);
    const window = activityWindow(ctx.now, address);
    const body = renderProvider(ctx, {
      row,
      stake,
      earnings: q.earnings(address),
      activity: window === null ? [] : q.activity(window[0], window[1], address),
      proofs,
      faults,
      slashes,
      dataSets: q.dataSets({ provider: address }),
      leases: q.leases({ provider: address }),
    });
    return send(reply, 200, body);
  });

  app.get("/data-sets/:id", async (request, reply) => {
    const parsed = idParam.safeParse(request.params);
    if (!parsed.success) return badInput(reply, parsed.error);
    const id = parsed.data.id;
    const set = deps.db.dataSetById(id);
    if (set === undefined) return notFoundPage(reply, `no data set ${id} in this index`);
    const updates = q.dataSetUpdates(id);
    const payments = q.dataSetPayments(id);
    const faults = q.faults({ dataSetId: id });
    const slashes = q.slashes({ dataSetId: id });
    const challenges = q.challenges(id);
    const blocks = [set.createdBlock, ...updates, ...payments, ...faults, ...slashes, ...challenges].map(
      (r) => (typeof r === "number" ? r : r.blockNumber),
    );
    const [onChain, ctx] = await Promise.all([chain.dataSet(id), context(blocks)]);
    const body = renderDataSet(ctx, {
      set,
      chain: onChain,
      updates,
      payments,
      faults,
      slashes,
      challenges,
      samples: deps.db.recentSamples(id),
    });
    return send(reply, 200, body);
  });

  app.get("/leases/:id", async (request, reply) => {
    const parsed = idParam.safeParse(request.params);
    if (!parsed.success) return badInput(reply, parsed.error);
    const id = parsed.data.id;
    const lease = deps.db.leaseById(id);
    if (lease === undefined) return notFoundPage(reply, `no lease ${id} in this index`);
    const events = q.leaseEvents(id);
    const slashes = q.slashes({ leaseId: id });
    const [onChain, ctx] = await Promise.all([
      lease.closed === null ? chain.lease(id) : Promise.resolve(null),
      context([...events, ...slashes].map((r) => r.blockNumber)),
    ]);
    const body = renderLease(ctx, {
      lease,
      chain: onChain,
      missed: q.leaseMissedRanges(id),
      events,
      slashes,
    });
    return send(reply, 200, body);
  });

  app.get("/watchers", async (_request, reply) => {
    const ctx = await context([]);
    return send(reply, 200, renderWatchers(ctx, q.watchers()));
  });

  app.get("/watchers/:address", async (request, reply) => {
    const parsed = addressParam.safeParse(request.params);
    if (!parsed.success) return badInput(reply, parsed.error);
    const address = parsed.data.address;
    const actions = q.watcherActions(address);
    if (actions.length === 0)
      return notFoundPage(reply, `${address} has not reported anything in this index`);
    const ctx = await context(actions.map((a) => a.blockNumber));
    return send(reply, 200, renderWatcher(ctx, address, actions));
  });
}
