import { expect } from "chai";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { big, num, optBig, optNum, optStr, str } from "../../offchain/runtime/sqlite/columns.js";
import { migrate, openDatabase, schemaVersion } from "../../offchain/runtime/sqlite/database.js";
import type { Sql } from "../../offchain/runtime/sqlite/sql.js";
import { AgentDb } from "../../offchain/agent/db.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { WorkerDb } from "../../offchain/worker/db/index.js";
import { MIGRATIONS as WORKER_MIGRATIONS } from "../../offchain/worker/db/migrations.js";

const MIGRATIONS = [
  "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
  "ALTER TABLE notes ADD COLUMN author TEXT;",
];

function failure(fn: () => unknown): StrataError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(StrataError);
    return error as StrataError;
  }
  throw new Error("expected a StrataError");
}

describe("runtime SQLite", function () {
  const dirs: string[] = [];
  const open: Sql[] = [];
  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), "strata-sqlite-"));
    dirs.push(dir);
    return dir;
  };
  const opened = (path: string, migrations: readonly string[] = MIGRATIONS, foreignKeys = false): Sql => {
    const sql = openDatabase(path, {
      errorCode: "AGENT_DB_ERROR",
      owner: "agent",
      migrations,
      foreignKeys,
      createFolder: true,
    });
    open.push(sql);
    return sql;
  };

  afterEach(function () {
    for (const sql of open.splice(0)) if (sql.db.isOpen) sql.db.close();
  });

  after(async function () {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  describe("openDatabase and migrations", function () {
    it("test_open_migrates: every migration once, WAL + synchronous FULL, folders created, reopen keeps data", async function () {
      const path = join(await tempDir(), "nested", "deeper", "x.db");
      const sql = opened(path);
      expect(schemaVersion(sql)).to.equal(MIGRATIONS.length);
      expect(sql.one("PRAGMA journal_mode")).to.deep.equal({ journal_mode: "wal" });
      expect(sql.one("PRAGMA synchronous")).to.deep.equal({ synchronous: 2 });
      sql.run("INSERT INTO notes (body, author) VALUES (?, ?)", "kept", "ada");
      sql.db.close();
      const again = opened(path);
      expect(again.all("SELECT body, author FROM notes")).to.deep.equal([{ body: "kept", author: "ada" }]);
      const raw = new DatabaseSync(path);
      expect(raw.prepare("PRAGMA user_version").get()).to.deep.equal({ user_version: MIGRATIONS.length });
      raw.close();
    });

    it("test_open_appendedMigration: an older file gets only the migrations it lacks", async function () {
      const path = join(await tempDir(), "x.db");
      const first = opened(path, MIGRATIONS.slice(0, 1));
      expect(schemaVersion(first)).to.equal(1);
      first.run("INSERT INTO notes (body) VALUES ('old')");
      first.db.close();
      const upgraded = opened(path);
      expect(schemaVersion(upgraded)).to.equal(2);
      expect(upgraded.all("SELECT body, author FROM notes")).to.deep.equal([{ body: "old", author: null }]);
    });

    it("test_open_newerSchema: refused with the owner's code, the file is closed and untouched", async function () {
      const path = join(await tempDir(), "x.db");
      const raw = new DatabaseSync(path);
      raw.exec("PRAGMA user_version = 99");
      raw.close();
      for (const errorCode of ["AGENT_DB_ERROR", "WORKER_DB_ERROR"] as const) {
        const error = failure(() =>
          openDatabase(path, { errorCode, owner: "worker", migrations: MIGRATIONS, newerDetails: "upgrade" }),
        );
        expect(error.code).to.equal(errorCode);
        expect(error.details).to.equal("upgrade");
      }
      const check = new DatabaseSync(path);
      expect(check.prepare("PRAGMA user_version").get()).to.deep.equal({ user_version: 99 });
      check.close();
    });

    it("test_open_unopenable: a folder in the file's place fails with the owner's code and the advice", async function () {
      const path = join(await tempDir(), "is-a-folder");
      await mkdir(path);
      const error = failure(() =>
        openDatabase(path, {
          errorCode: "WORKER_DB_ERROR",
          owner: "worker",
          migrations: MIGRATIONS,
          openDetails: "check the folder",
        }),
      );
      expect(error.code).to.equal("WORKER_DB_ERROR");
      expect(error.details).to.equal("check the folder");
      expect(error.cause).to.be.instanceOf(Error);
    });

    it("test_migrate_atomic: a failing migration leaves the previous schema whole", function () {
      const sql = opened(":memory:", MIGRATIONS.slice(0, 1));
      expect(() => {
        migrate(sql, {
          errorCode: "AGENT_DB_ERROR",
          owner: "agent",
          migrations: [
            ...MIGRATIONS.slice(0, 1),
            "CREATE TABLE half (x INTEGER); CREATE TABLE notes (y TEXT);",
          ],
        });
      }).to.throw();
      expect(schemaVersion(sql)).to.equal(1);
      expect(sql.one("SELECT name FROM sqlite_master WHERE name = 'half'")).to.equal(undefined);
      expect(sql.db.isTransaction).to.equal(false);
    });

    it("test_open_foreignKeys: enforced only when asked for", function () {
      const fkMigrations = [
        "CREATE TABLE parents (id INTEGER PRIMARY KEY); CREATE TABLE kids (parent INTEGER REFERENCES parents (id));",
      ];
      const loose = opened(":memory:", fkMigrations, false);
      loose.run("INSERT INTO kids (parent) VALUES (7)");
      const strict = opened(":memory:", fkMigrations, true);
      expect(() => strict.run("INSERT INTO kids (parent) VALUES (7)")).to.throw(/FOREIGN KEY/);
    });
  });

  describe("the programs' databases", function () {
    it("test_owners_newerSchema: a database from a newer agent or worker is refused with the owner's code", async function () {
      const dir = await tempDir();
      const agentPath = join(dir, "agent.db");
      const raw = new DatabaseSync(agentPath);
      raw.exec("PRAGMA user_version = 99");
      raw.close();
      expect(() => AgentDb.open(agentPath))
        .to.throw()
        .with.property("code", "AGENT_DB_ERROR");
      const workerPath = join(dir, "w.db");
      const rawWorker = new DatabaseSync(workerPath);
      rawWorker.exec(`PRAGMA user_version = ${WORKER_MIGRATIONS.length + 1}`);
      rawWorker.close();
      expect(failure(() => WorkerDb.open(workerPath)).code).to.equal("WORKER_DB_ERROR");
    });
  });

  describe("transactions", function () {
    it("test_tx_rollsBackAsAWhole: nested calls join the outer transaction", function () {
      const sql = opened(":memory:");
      expect(() =>
        sql.tx(() => {
          sql.run("INSERT INTO notes (body) VALUES ('a')");
          sql.tx(() => sql.run("INSERT INTO notes (body) VALUES ('b')"));
          throw new StrataError("INVALID_ARGUMENT", "boom");
        }),
      ).to.throw(StrataError);
      expect(sql.count("SELECT COUNT(*) AS n FROM notes")).to.equal(0);
      expect(sql.tx(() => sql.insert("INSERT INTO notes (body) VALUES ('c')"))).to.equal(1);
      expect(sql.count("SELECT COUNT(*) AS n FROM notes")).to.equal(1);
    });

    it("test_tx_noOpenTransaction: when SQLite already ended the transaction, the original error surfaces", function () {
      const sql = opened(":memory:");
      const error = failure(() =>
        sql.tx(() => {
          sql.run("INSERT INTO notes (body) VALUES ('a')");
          sql.db.exec("ROLLBACK"); // as SQLite does itself on some errors
          throw new StrataError("INVALID_ARGUMENT", "the original failure");
        }),
      );
      expect(error.code).to.equal("INVALID_ARGUMENT"); // not "cannot rollback - no transaction is active"
      expect(sql.db.isTransaction).to.equal(false);
      expect(sql.count("SELECT COUNT(*) AS n FROM notes")).to.equal(0);
      sql.tx(() => sql.run("INSERT INTO notes (body) VALUES ('next')")); // the connection is usable
      expect(sql.count("SELECT COUNT(*) AS n FROM notes")).to.equal(1);
    });

    it("test_tx_failedCommit: a COMMIT refused by a deferred constraint is rolled back, not left open", function () {
      const sql = opened(
        ":memory:",
        [
          `CREATE TABLE parents (id INTEGER PRIMARY KEY);
           CREATE TABLE kids (parent INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED);`,
        ],
        true,
      );
      expect(() => sql.tx(() => sql.run("INSERT INTO kids (parent) VALUES (7)"))).to.throw(/FOREIGN KEY/);
      expect(sql.db.isTransaction).to.equal(false);
      expect(sql.count("SELECT COUNT(*) AS n FROM kids")).to.equal(0);
    });
  });

  describe("column readers", function () {
    it("test_columns: typed values, nulls, and DB_COLUMN_INVALID for the wrong type", function () {
      const row = { s: "x", n: 7, b: 5n, d: "123456789012345678901234567890", z: null };
      expect(str(row, "s")).to.equal("x");
      expect(num(row, "n")).to.equal(7);
      expect(num(row, "b")).to.equal(5);
      expect(big(row, "d")).to.equal(123456789012345678901234567890n);
      expect(big(row, "n")).to.equal(7n);
      expect(optStr(row, "z")).to.equal(null);
      expect(optNum(row, "z")).to.equal(null);
      expect(optBig(row, "missing")).to.equal(null);
      for (const read of [
        () => str(row, "n"),
        () => num(row, "s"),
        () => big(row, "s"),
        () => optStr(row, "n"),
      ]) {
        expect(failure(read).code).to.equal("DB_COLUMN_INVALID");
      }
    });
  });
});
