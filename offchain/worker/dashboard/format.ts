/**
 * How the dashboard shows values: amounts in tokens with the symbol, sizes in binary units, times as UTC clock
 * time, durations as days/hours/minutes/seconds. Pure functions (tests call them directly).
 */
import { formatUnits } from "ethers";

/** The payment token as the chain describes it. */
export interface TokenInfo {
  symbol: string;
  decimals: number;
}

/** Base units as tokens with the symbol, digits grouped ("12,500.25 tUSD"); exact (no rounding). */
export function formatTokenAmount(units: bigint, token: TokenInfo): string {
  const negative = units < 0n;
  const text = formatUnits(negative ? -units : units, token.decimals);
  const [whole = "0", fraction = "0"] = text.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const tail = fraction === "0" ? "" : `.${fraction}`;
  return `${negative ? "-" : ""}${grouped}${tail} ${token.symbol}`;
}

/** A byte count in binary units ("1.50 MiB", "512 B"). */
export function formatBytes(bytes: bigint | number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit] ?? "B"}`;
}

/** A Unix time in seconds as UTC clock time ("2026-12-05 00:31:02 UTC"). */
export function formatTime(seconds: bigint | number): string {
  const iso = new Date(Number(seconds) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** Seconds as a duration ("3d 4h", "2h 5m", "4m 10s", "12s"). */
export function formatDuration(seconds: bigint | number): string {
  const s = BigInt(seconds);
  if (s < 0n) return `-${formatDuration(-s)}`;
  const days = s / 86_400n;
  const hours = (s % 86_400n) / 3600n;
  const minutes = (s % 3600n) / 60n;
  const rest = s % 60n;
  if (days > 0n) return hours > 0n ? `${days}d ${hours}h` : `${days}d`;
  if (hours > 0n) return minutes > 0n ? `${hours}h ${minutes}m` : `${hours}h`;
  if (minutes > 0n) return rest > 0n ? `${minutes}m ${rest}s` : `${minutes}m`;
  return `${rest}s`;
}

/** "0x1234…abcd" for tables; the full address goes into the link and its title. */
export function shortAddress(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}

/** A whole number with grouped digits ("12,345"). */
export function formatCount(n: bigint | number): string {
  return BigInt(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
