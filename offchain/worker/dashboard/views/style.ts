/** The dashboard's one stylesheet (served at /dashboard.css; no external fonts, images or scripts). */
export const STYLESHEET = `
:root { --fg: #1d2330; --muted: #5b6474; --bg: #f6f7f9; --card: #fff; --line: #dde1e7; --accent: #2457c5;
  --ok: #2e8b57; --bad: #c2410c; --warn: #b7791f; --other: #7c3aed; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  background: var(--bg); }
header.top { background: #152033; color: #fff; padding: 0.6rem 1.2rem; display: flex; gap: 1.5rem;
  align-items: baseline; flex-wrap: wrap; }
header.top a { color: #fff; text-decoration: none; }
header.top .brand { font-weight: 700; font-size: 1.1rem; }
header.top .meta { color: #b8c3d6; font-size: 0.85rem; margin-left: auto; }
main { max-width: 1100px; margin: 0 auto; padding: 1rem 1.2rem 3rem; }
h1 { font-size: 1.5rem; margin: 0.6rem 0 1rem; word-break: break-all; }
h2 { font-size: 1.15rem; margin: 1.8rem 0 0.6rem; }
a { color: var(--accent); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 0.7rem; margin: 0; }
.cards div { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 0.6rem 0.8rem; }
.cards dt { color: var(--muted); font-size: 0.8rem; }
.cards dd { margin: 0.15rem 0 0; font-size: 1.1rem; font-weight: 600; word-break: break-word; }
.table-wrap { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line);
  font-size: 0.9rem; }
th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td .mono, td.num { white-space: nowrap; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.85rem; }
.muted { color: var(--muted); }
.empty { color: var(--muted); font-style: italic; }
.badge { display: inline-block; padding: 0 0.45rem; border-radius: 9px; font-size: 0.8rem; background: #e5e9f0; }
.badge.live, .badge.ok, .badge.registered, .badge.updated, .badge.open { background: #d7f0e0; color: #1d5e3a; }
.badge.ending, .badge.mismatch { background: #fdecc8; color: #7a4d00; }
.badge.finalized, .badge.closed, .badge.deregistered, .badge.error { background: #e8e3f5; color: #4b2e83; }
figure.chart { margin: 0.5rem 0 1rem; background: var(--card); border: 1px solid var(--line); border-radius: 6px;
  padding: 0.6rem; }
figure.chart svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 0.85rem; margin-top: 0.3rem; }
svg .axis { stroke: #9aa3b2; } svg .grid { stroke: #e3e6eb; stroke-dasharray: 3 3; }
svg .tick, svg .label, svg .value { font-size: 11px; fill: var(--muted); } svg .label { fill: var(--fg); }
.s-proof, .period-heartbeat, .swatch.s-proof, .swatch.period-heartbeat { fill: var(--ok); background: var(--ok); }
.s-declared, .swatch.s-declared, .period-due, .swatch.period-due { fill: var(--warn); background: var(--warn); }
.s-missed, .swatch.s-missed, .period-missed, .swatch.period-missed { fill: var(--bad); background: var(--bad); }
.period-open, .swatch.period-open { fill: #cfd5de; background: #cfd5de; }
.s-in { fill: var(--accent); } .s-out { fill: var(--ok); } .s-slash { fill: var(--bad); } .s-bounty { fill: var(--other); }
ul.legend { list-style: none; display: flex; gap: 1rem; padding: 0; margin: 0.3rem 0 0; font-size: 0.8rem;
  color: var(--muted); flex-wrap: wrap; }
.swatch { display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 2px; margin-right: 0.3rem;
  vertical-align: -1px; }
.two { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
.note { color: var(--muted); font-size: 0.85rem; }
`;
