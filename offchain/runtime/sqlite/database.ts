/**
 * Opening a program's SQLite database (node:sqlite) and bringing its schema up to date. WAL with
 * synchronous = FULL: a committed transaction survives a crash or power loss. Schema changes are numbered
 * migrations (PRAGMA user_version): migration i brings the version from i to i + 1, each in one transaction.
 * Errors carry the owning program's code (AGENT_DB_ERROR, WORKER_DB_ERROR) so operators see whose file it is.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { StrataError, type StrataErrorCode } from "../../sdk/errors.js";
import { Sql } from "./sql.js";

export interface DatabaseOptions {
  /** The code of every error thrown while opening or migrating. */
  errorCode: StrataErrorCode;
  /** Whose database, for messages: "agent", "worker". */
  owner: string;
  /** Schema migrations, append only. */
  migrations: readonly string[];
  /** PRAGMA foreign_keys (default false). */
  foreignKeys?: boolean;
  /** Create the file's folder first (default false). */
  createFolder?: boolean;
  /** Advice shown when the file cannot be opened. */
  openDetails?: string;
  /** Advice shown when the file's schema is newer than the program's. */
  newerDetails?: string;
}

/** Open (creating if needed) and migrate the database at `path` (":memory:" for tests). */
export function openDatabase(path: string, options: DatabaseOptions): Sql {
  let db: DatabaseSync;
  try {
    if (options.createFolder === true && path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    db = new DatabaseSync(path, { timeout: 5000 });
    db.exec(
      `PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ${options.foreignKeys === true ? "ON" : "OFF"};`,
    );
  } catch (cause) {
    throw new StrataError(options.errorCode, `cannot open the ${options.owner} database ${path}`, {
      ...(options.openDetails === undefined ? {} : { details: options.openDetails }),
      cause,
    });
  }
  const sql = new Sql(db);
  try {
    migrate(sql, options);
  } catch (error) {
    db.close();
    throw error;
  }
  return sql;
}

/** The schema version (PRAGMA user_version). */
export function schemaVersion(sql: Sql): number {
  return Number(sql.one("PRAGMA user_version")?.user_version ?? 0);
}

/** Apply the migrations the database lacks; refuses a database with a newer schema than `migrations`. */
export function migrate(
  sql: Sql,
  options: Pick<DatabaseOptions, "errorCode" | "owner" | "migrations" | "newerDetails">,
): void {
  const { migrations } = options;
  const version = schemaVersion(sql);
  if (version > migrations.length) {
    throw new StrataError(
      options.errorCode,
      `the ${options.owner} database has schema ${version}, newer than this ${options.owner} (${migrations.length})`,
      options.newerDetails === undefined ? {} : { details: options.newerDetails },
    );
  }
  for (let v = version; v < migrations.length; v++) {
    sql.tx(() => {
      sql.db.exec(migrations[v] ?? "");
      sql.db.exec(`PRAGMA user_version = ${v + 1}`);
    });
  }
}
