/**
 * The dashboard's pure parts: escaping by default, token/time/duration formats, the SVG charts, the heartbeat
 * strip's period states, and the error pages (a failing chain read is a 503 page, not a stack trace).
 */
import { expect } from "chai";
import { amountBarChart, periodStrip, stackedBarChart } from "../../../offchain/worker/dashboard/charts.js";
import type { DashboardChain } from "../../../offchain/worker/dashboard/chainReads.js";
import {
  formatBytes,
  formatDuration,
  formatTime,
  formatTokenAmount,
} from "../../../offchain/worker/dashboard/format.js";
import { escapeHtml, html, raw } from "../../../offchain/worker/dashboard/html.js";
import { heartbeatPeriods } from "../../../offchain/worker/dashboard/views/lease.js";
import { WorkerDb } from "../../../offchain/worker/db/index.js";
import { buildHttpApp } from "../../../offchain/worker/http/server.js";
import { createMetrics } from "../../../offchain/worker/metrics.js";
import type { HealthReport } from "../../../offchain/worker/http/health.js";
import { testLogger } from "../helpers.js";

const TOKEN = { symbol: "tUSD", decimals: 6 };

describe("worker dashboard: views", function () {
  it("test_html_escapesByDefault: text and attributes are escaped; html and raw are kept", function () {
    const hostile = `"><script>alert('x')</script>&`;
    const out = html`<a title="${hostile}">${hostile}</a>${html`<b>${hostile}</b>`}${raw("<i>ok</i>")}`.text;
    expect(out).to.not.include("<script>");
    expect(out).to.include("&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;");
    expect(out).to.include("<b>&quot;&gt;");
    expect(out).to.include("<i>ok</i>");
    expect(html`${[1n, "<", null, false, undefined, 2]}`.text).to.equal("1&lt;2");
    expect(escapeHtml("a&b")).to.equal("a&amp;b");
  });

  it("test_format: exact token amounts with the symbol, UTC clock time, durations, sizes", function () {
    expect(formatTokenAmount(12_345_678_901n, TOKEN)).to.equal("12,345.678901 tUSD");
    expect(formatTokenAmount(5_000_000_000n, TOKEN)).to.equal("5,000 tUSD");
    expect(formatTokenAmount(0n, TOKEN)).to.equal("0 tUSD");
    expect(formatTokenAmount(1n, TOKEN)).to.equal("0.000001 tUSD");
    expect(formatTokenAmount(-2_500_000n, TOKEN)).to.equal("-2.5 tUSD");
    expect(formatTime(0)).to.equal("1970-01-01 00:00:00 UTC");
    expect(formatTime(1_796_429_811n)).to.equal("2026-12-05 00:16:51 UTC");
    expect(formatDuration(0n)).to.equal("0s");
    expect(formatDuration(136n)).to.equal("2m 16s");
    expect(formatDuration(3600n)).to.equal("1h");
    expect(formatDuration(90_061n)).to.equal("1d 1h");
    expect(formatBytes(4096n)).to.equal("4.00 KiB");
    expect(formatBytes(512)).to.equal("512 B");
  });

  it("test_charts: bars per label with titles, amounts scaled exactly, empty series draw no bars", function () {
    const bars = stackedBarChart(
      "proofs",
      ["1", "2"],
      [
        { name: "proofs", className: "s-proof", values: [4, 0] },
        { name: "missed", className: "s-missed", values: [1, 2] },
      ],
    ).text;
    expect(bars.match(/<rect\b/g)).to.have.length(3);
    expect(bars).to.include("<title>1: 4 proofs</title>");
    expect(bars).to.include('aria-label="proofs"');
    // Amounts beyond 2^53 keep their ratio (the largest bar is full width, half of it half).
    const big = 2n ** 80n;
    const amounts = amountBarChart("flows", [
      { label: "a", value: big, display: "A", className: "s-in" },
      { label: "b", value: big / 2n, display: "B", className: "s-out" },
      { label: "c", value: 0n, display: "C", className: "s-out" },
    ]).text;
    const widths = [...amounts.matchAll(/width="([0-9.]+)"/g)].map((m) => Number(m[1]));
    // (plain numbers: the ethers chai matchers loaded by other suites take closeTo over for bigints)
    expect(Math.abs((widths[1] ?? 0) - (widths[0] ?? 0) / 2)).to.be.lessThan(0.2);
    expect(widths[2]).to.equal(0);
    expect(stackedBarChart("none", [], []).text).to.not.include("<rect");
  });

  it("test_heartbeatPeriods: resolved periods are heartbeats or reported misses; the current one is due", function () {
    const periods = heartbeatPeriods(5n, 6n, [{ from: 1n, count: 2n }]);
    expect(periods.map((p) => p.state)).to.deep.equal([
      "heartbeat",
      "missed",
      "missed",
      "heartbeat",
      "heartbeat",
      "open",
      "due",
    ]);
    // A closed lease (no current period) shows its resolved periods only.
    expect(heartbeatPeriods(3n, null, []).map((p) => p.period)).to.deep.equal([0n, 1n, 2n]);
    expect(heartbeatPeriods(0n, null, [])).to.deep.equal([]);
    // Long leases show their newest periods only.
    const long = heartbeatPeriods(10_000n, 10_000n, []);
    expect(long).to.have.length(400);
    expect(long[long.length - 1]).to.deep.equal({ period: 10_000n, state: "due" });
    expect(periodStrip("hb", periods).text.match(/<rect\b/g)).to.have.length(7);
  });

  describe("error pages", function () {
    const health = (): HealthReport => ({
      status: "ok",
      chainId: "31337",
      worker: null,
      readOnly: true,
      indexedBlock: null,
      head: null,
      blocksBehind: null,
      dataSetsTracked: 0,
      lastError: null,
      since: new Date(0).toISOString(),
      version: "test",
    });
    const failingChain: DashboardChain = {
      provingPeriod: 3600n,
      genesis: 0n,
      token: () => Promise.reject(new Error("connection refused")),
      now: () => Promise.reject(new Error("connection refused")),
      stake: () => Promise.reject(new Error("connection refused")),
      dataSet: () => Promise.reject(new Error("connection refused")),
      lease: () => Promise.reject(new Error("connection refused")),
      blockTimes: () => Promise.reject(new Error("connection refused")),
    };

    it("test_errors: 503 page when the chain cannot be read; 400 and 404 pages; JSON 404 for programs", async function () {
      const db = WorkerDb.open(":memory:");
      const app = buildHttpApp({
        logger: testLogger(),
        metrics: createMetrics({ defaults: false }),
        health,
        dashboard: { db, chain: failingChain, chainId: 31337n },
      });
      try {
        const down = await app.inject({ method: "GET", url: "/" });
        expect(down.statusCode).to.equal(503);
        expect(down.headers["content-type"]).to.match(/^text\/html/);
        expect(down.body).to.include("Chain unavailable").and.not.include("connection refused");
        const bad = await app.inject({ method: "GET", url: "/leases/-1" });
        expect(bad.statusCode).to.equal(400);
        expect(bad.body).to.include("an id is a whole number");
        const tooBig = await app.inject({ method: "GET", url: `/data-sets/${2n ** 64n}` });
        expect(tooBig.statusCode).to.equal(400);
        const badAddress = await app.inject({ method: "GET", url: "/providers/0x12%3Cb%3E" });
        expect(badAddress.statusCode).to.equal(400);
        expect(badAddress.body).to.not.include("<b>");
        // Unknown ids are 404 before any chain read.
        for (const url of [
          "/data-sets/7",
          "/leases/7",
          `/providers/0x${"12".repeat(20)}`,
          `/watchers/0x${"12".repeat(20)}`,
        ]) {
          const missing = await app.inject({ method: "GET", url });
          expect(missing.statusCode, url).to.equal(404);
          expect(missing.headers["content-type"], url).to.match(/^text\/html/);
        }
        const page = await app.inject({
          method: "GET",
          url: "/no/such/page",
          headers: { accept: "text/html" },
        });
        expect(page.statusCode).to.equal(404);
        expect(page.body).to.include("<h1>404");
        const json = await app.inject({ method: "GET", url: "/no/such/page" });
        expect(json.statusCode).to.equal(404);
        expect(json.json<{ error: { code: string } }>().error.code).to.equal("NOT_FOUND");
        // /health is not the dashboard's: it still answers JSON.
        expect((await app.inject({ method: "GET", url: "/health" })).json<HealthReport>().status).to.equal(
          "ok",
        );
      } finally {
        await app.close();
        db.close();
      }
    });
  });
});
