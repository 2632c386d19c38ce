/** The page shell and the small pieces every page uses (links, tables, cards, times, amounts). */
import { formatCount, formatTime, formatTokenAmount, shortAddress, type TokenInfo } from "../format.js";
import { html, type HtmlValue, type SafeHtml } from "../html.js";

/** What every view needs besides its data: the token, the proving clock and block times. */
export interface ViewContext {
  token: TokenInfo;
  chainId: string;
  indexedBlock: number | null;
  /** Latest block time (chain time, not the wall clock). */
  now: bigint;
  provingPeriod: bigint;
  genesis: bigint;
  /** Timestamps of the blocks the page's rows come from. */
  blockTimes: ReadonlyMap<number, bigint>;
}

export function page(ctx: ViewContext, title: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Strata dashboard</title>
        <link rel="stylesheet" href="/dashboard.css" />
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">Strata dashboard</a>
          <nav><a href="/">Network</a> · <a href="/watchers">Watchers</a></nav>
          <span class="meta"
            >chain ${ctx.chainId} · indexed block ${ctx.indexedBlock ?? "none yet"} · chain time
            ${formatTime(ctx.now)}</span
          >
        </header>
        <main>${body}</main>
      </body>
    </html>`;
}

export function tokens(ctx: ViewContext, units: bigint): string {
  return formatTokenAmount(units, ctx.token);
}

export function providerLink(address: string): SafeHtml {
  return html`<a class="mono" href="/providers/${address}" title="${address}">${shortAddress(address)}</a>`;
}

export function watcherLink(address: string): SafeHtml {
  return html`<a class="mono" href="/watchers/${address}" title="${address}">${shortAddress(address)}</a>`;
}

export function addressText(address: string): SafeHtml {
  return html`<span class="mono" title="${address}">${shortAddress(address)}</span>`;
}

/** When a block was made, from the page's block times ("block 123" when the time is unknown). */
export function blockTime(ctx: ViewContext, block: number): SafeHtml {
  const t = ctx.blockTimes.get(block);
  return t === undefined
    ? html`<span class="muted">block ${block}</span>`
    : html`<span title="block ${block}">${formatTime(t)}</span>`;
}

export function badge(text: string): SafeHtml {
  return html`<span class="badge ${text.replace(/[^a-z-]/gi, "")}">${text}</span>`;
}

/** A table; columns whose header starts with "#" are numeric (right-aligned, "#" dropped). */
export function table(
  id: string,
  headers: readonly string[],
  rows: readonly (readonly HtmlValue[])[],
  empty: string,
): SafeHtml {
  if (rows.length === 0) return html`<p class="empty" id="${id}">${empty}</p>`;
  const numeric = headers.map((h) => h.startsWith("#"));
  return html`<div class="table-wrap">
    <table id="${id}">
      <thead>
        <tr>
          ${headers.map((h, i) => html`<th${numeric[i] === true ? html` class="num"` : ""}>${numeric[i] === true ? h.slice(1) : h}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (r) =>
            html`<tr>
              ${r.map((cell, i) => html`<td${numeric[i] === true ? html` class="num"` : ""}>${cell}</td>`)}
            </tr> `,
        )}
      </tbody>
    </table>
  </div>`;
}

/** Key figures as a definition list of cards; each value gets `id` for tests and bookmarks. */
export function cards(items: readonly { id: string; label: string; value: HtmlValue }[]): SafeHtml {
  return html`<dl class="cards">
    ${items.map(
      (c) =>
        html`<div>
          <dt>${c.label}</dt>
          <dd id="${c.id}">${c.value}</dd>
        </div>`,
    )}
  </dl>`;
}

export function count(n: bigint | number): string {
  return formatCount(n);
}
