/** A thin layer over node:sqlite: cached prepared statements and nested transactions. */
import type { DatabaseSync, SQLInputValue, SQLOutputValue, StatementSync } from "node:sqlite";

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

  /**
   * Run `fn` in one IMMEDIATE transaction (nested calls join the outer one). On failure the transaction is
   * rolled back if it is still open: SQLite may already have rolled it back itself (a failed COMMIT, some
   * constraint and I/O errors), and a ROLLBACK then would throw and hide the original error.
   */
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
