/** A thin layer over node:sqlite: cached prepared statements, typed column readers, nested transactions. */
import type { DatabaseSync, SQLInputValue, SQLOutputValue, StatementSync } from "node:sqlite";
import { StrataError } from "../../sdk/errors.js";

export type Row = Record<string, SQLOutputValue>;
export type Param = SQLInputValue;

export class Sql {
  private readonly statements = new Map<string, StatementSync>();
  private depth = 0;

  constructor(readonly db: DatabaseSync) {}

  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  one(sql: string, ...params: Param[]): Row | undefined {
    return this.statement(sql).get(...params);
  }

  all(sql: string, ...params: Param[]): Row[] {
    return this.statement(sql).all(...params);
  }

  /** Run a statement; returns the number of changed rows. */
  run(sql: string, ...params: Param[]): number {
    return Number(this.statement(sql).run(...params).changes);
  }

  /** Run a statement; returns the new row's id. */
  insert(sql: string, ...params: Param[]): number {
    return Number(this.statement(sql).run(...params).lastInsertRowid);
  }

  /** A single COUNT(*)-style number from `sql` (column `n`). */
  count(sql: string, ...params: Param[]): number {
    const value = this.one(sql, ...params)?.n;
    return typeof value === "number" ? value : Number(value ?? 0);
  }

  /** Run `fn` in one IMMEDIATE transaction (nested calls join the outer one). */
  tx<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.db.exec("BEGIN IMMEDIATE");
    this.depth++;
    try {
      const result = fn();
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      throw error;
    } finally {
      this.depth--;
    }
  }
}

// ------------------------------------------------------------------ column readers

function bad(column: string, what: string): StrataError {
  return new StrataError("WORKER_DB_ERROR", `column ${column} is not ${what}`);
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
