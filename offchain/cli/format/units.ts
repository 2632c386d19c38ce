import { formatUnits } from "ethers";

/** Base units as a decimal token amount with its symbol ("12.5 tUSD"). */
export function formatAmount(units: bigint, decimals: number, symbol: string): string {
  let text = formatUnits(units, decimals);
  if (text.endsWith(".0")) text = text.slice(0, -2);
  return `${text} ${symbol}`;
}

/** A byte count in binary units ("1.50 MiB", "512 B"). */
export function formatBytes(bytes: bigint | number): string {
  const n = Number(bytes);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${units[unit] ?? "B"}`;
}

/** A Unix time in seconds as an ISO 8601 date. */
export function isoTime(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString();
}

/** Seconds as proving periods plus clock time ("12 periods, 12h 0m"). */
export function formatDuration(seconds: bigint, provingPeriod: bigint): string {
  const periods = provingPeriod > 0n ? seconds / provingPeriod : 0n;
  const days = seconds / 86_400n;
  const hours = (seconds % 86_400n) / 3600n;
  const minutes = (seconds % 3600n) / 60n;
  const clock =
    days > 0n ? `${days}d ${hours}h` : hours > 0n ? `${hours}h ${minutes}m` : `${minutes}m ${seconds % 60n}s`;
  return `${periods} period${periods === 1n ? "" : "s"}, ${clock}`;
}

/** What the JSON form of an amount needs from the token. */
export interface AmountUnits {
  decimals: number;
  symbol: string;
}

/**
 * An amount for --json: `{name: "12.5", nameRaw: "12500000"}` — the decimal token amount under the concept's
 * name, the base units only in a field named as such.
 */
export function amountJson<N extends string>(
  name: N,
  units: bigint,
  token: AmountUnits,
): Record<N, string> & Record<`${N}Raw`, string> {
  const text = formatAmount(units, token.decimals, token.symbol).replace(/ .*$/, "");
  return { [name]: text, [`${name}Raw`]: units.toString() } as Record<N, string> & Record<`${N}Raw`, string>;
}

/** Several amounts at once (see amountJson). */
export function amountsJson(
  amounts: Readonly<Record<string, bigint>>,
  token: AmountUnits,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, units] of Object.entries(amounts)) Object.assign(out, amountJson(name, units, token));
  return out;
}

/** The token amounts are in, for --json: `{symbol, decimals}`. */
export function tokenJson(token: AmountUnits): AmountUnits {
  return { symbol: token.symbol, decimals: token.decimals };
}

/** A Unix time as "2026-12-05T10:00:00.000Z (in 2d 3h)" relative to `now` (both seconds). */
export function timeFromNow(at: bigint, now: bigint): string {
  const delta = at - now;
  const span = formatSpan(delta < 0n ? -delta : delta);
  return `${isoTime(at)} (${delta < 0n ? `${span} ago` : delta === 0n ? "now" : `in ${span}`})`;
}

/** Seconds as clock time ("2d 3h", "4h 10m", "5m 0s"). */
export function formatSpan(seconds: bigint): string {
  const days = seconds / 86_400n;
  const hours = (seconds % 86_400n) / 3600n;
  const minutes = (seconds % 3600n) / 60n;
  return days > 0n
    ? `${days}d ${hours}h`
    : hours > 0n
      ? `${hours}h ${minutes}m`
      : `${minutes}m ${seconds % 60n}s`;
}

/** The proving clock of a market, to show a period next to its clock time. */
export interface PeriodClock {
  genesis: bigint;
  provingPeriod: bigint;
  /** The latest block's timestamp. */
  now: bigint;
}

/** "period 27 (starts 2026-12-05T03:00:00.000Z, in 3h 0m)". */
export function periodWhen(period: bigint, clock: PeriodClock): string {
  const at = clock.genesis + period * clock.provingPeriod;
  return `period ${period} (${at <= clock.now ? "started" : "starts"} ${timeFromNow(at, clock.now)})`;
}
