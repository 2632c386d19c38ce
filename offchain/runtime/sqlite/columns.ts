/**
 * Typed readers of a row's columns: a column of the wrong type is a database that this program did not write
 * (DB_COLUMN_INVALID), never silently coerced.
 */
import { StrataError } from "../../sdk/errors.js";
import type { Row } from "./sql.js";

function bad(column: string, what: string): StrataError {
  return new StrataError("DB_COLUMN_INVALID", `column ${column} is not ${what}`);
}

export function str(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== "string") throw bad(column, "text");
  return value;
}

export function optStr(row: Row, column: string): string | null {
  const value = row[column];
  return value === null || value === undefined ? null : str(row, column);
}

export function num(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  throw bad(column, "an integer");
}

export function optNum(row: Row, column: string): number | null {
  const value = row[column];
  return value === null || value === undefined ? null : num(row, column);
}

/** An INTEGER or decimal TEXT column as a bigint. */
export function big(row: Row, column: string): bigint {
  const value = row[column];
  if (typeof value === "number" || typeof value === "bigint") return BigInt(value);
  if (typeof value === "string" && /^-?[0-9]+$/.test(value)) return BigInt(value);
  throw bad(column, "an integer");
}

export function optBig(row: Row, column: string): bigint | null {
  const value = row[column];
  return value === null || value === undefined ? null : big(row, column);
}
