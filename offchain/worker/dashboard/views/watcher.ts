/** The watchers list and one watcher's page: reports, closes, challenges, and the bounties they earned. */
import { html, type SafeHtml } from "../html.js";
import type { WatcherAction, WatcherRow } from "../queries.js";
import { blockTime, cards, count, page, table, tokens, watcherLink, type ViewContext } from "./layout.js";

const KIND_NAMES: Record<WatcherAction["kind"], string> = {
  "missed-proofs-report": "reported missed proofs",
  "missed-heartbeats-report": "reported missed heartbeats",
  "lease-close": "closed a lease",
  "challenge-opened": "opened a retrieval challenge",
  "challenge-enforced": "enforced a retrieval challenge",
};

export function renderWatchers(ctx: ViewContext, rows: readonly WatcherRow[]): SafeHtml {
  return page(
    ctx,
    "Watchers",
    html`<h1>Watchers</h1>
      <p>
        Accounts that reported missed proofs or heartbeats, closed overdrawn leases, or challenged retrievals.
      </p>
      ${table(
        "watchers",
        ["watcher", "#actions", "#bounties earned"],
        rows.map((w) => [watcherLink(w.address), count(w.actions), tokens(ctx, w.bounties)]),
        "No watcher has reported anything yet.",
      )}`,
  );
}

export function renderWatcher(
  ctx: ViewContext,
  address: string,
  actions: readonly WatcherAction[],
): SafeHtml {
  const bounties = actions.reduce((s, a) => s + a.bounty, 0n);
  const of = (kind: WatcherAction["kind"]): number => actions.filter((a) => a.kind === kind).length;
  return page(
    ctx,
    `Watcher ${address}`,
    html`<h1>Watcher <span class="mono">${address}</span></h1>
      ${cards([
        { id: "watcher-bounties", label: "bounties earned", value: tokens(ctx, bounties) },
        {
          id: "watcher-proof-reports",
          label: "missed-proof reports",
          value: count(of("missed-proofs-report")),
        },
        {
          id: "watcher-heartbeat-reports",
          label: "missed-heartbeat reports",
          value: count(of("missed-heartbeats-report")),
        },
        { id: "watcher-closes", label: "leases closed", value: count(of("lease-close")) },
        {
          id: "watcher-challenges",
          label: "challenges opened / enforced",
          value: `${of("challenge-opened")} / ${of("challenge-enforced")}`,
        },
      ])}
      <h2>Reports and bounties</h2>
      ${table(
        "watcher-actions",
        ["when", "action", "about", "detail", "#bounty"],
        actions.map((a) => [
          blockTime(ctx, a.blockNumber),
          KIND_NAMES[a.kind],
          html`<a href="${a.subject.href}">${a.subject.label}</a>`,
          a.detail,
          tokens(ctx, a.bounty),
        ]),
        "Nothing reported by this address.",
      )}`,
  );
}
