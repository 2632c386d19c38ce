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
