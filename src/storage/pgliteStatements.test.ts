import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import { PgliteStatements } from "./pgliteStatements.ts";

/** SQLSTATE of a rejection, for assert.rejects. */
function withCode(code: string) {
  return (error: unknown) => (error as { code?: unknown }).code === code;
}

describe("PGlite named prepared statements", () => {
  let pg: PGlite;
  before(async () => {
    pg = await PGlite.create("memory://");
    await pg.exec("CREATE TABLE t (id int PRIMARY KEY, name text)");
  });
  after(() => pg.close());

  test("PGlite still has the locks and protocol calls they rely on", () => {
    // If an upgrade of PGlite renames these, statements would lose their isolation: fail here.
    assert.equal(typeof pg.runExclusive, "function");
    assert.equal(typeof pg._runExclusiveTransaction, "function");
    assert.equal(typeof pg._checkReady, "function");
    assert.equal(typeof pg.execProtocolStream, "function");
  });

  test("a statement is parsed once, then runs in one exchange with PostgreSQL", async () => {
    const statements = new PgliteStatements(pg);
    const exchange = pg.execProtocolStream.bind(pg);
    let exchanges = 0;
    pg.execProtocolStream = (message, options) => {
      exchanges++;
      return exchange(message, options);
    };
    try {
      const sql = "SELECT $1::int + 1 AS n";
      assert.deepEqual((await statements.query(sql, [1], null))?.rows, [{ n: 2 }]);
      assert.equal(exchanges, 2, "prepare, then execute");
      assert.deepEqual((await statements.query(sql, [41], null))?.rows, [{ n: 42 }]);
      assert.equal(exchanges, 3, "execute only");
      const named = await pg.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_prepared_statements");
      assert.equal(named.rows[0]?.n, 1);
    } finally {
      pg.execProtocolStream = exchange;
    }
  });

  test("a statement that fails to parse is not remembered, and the session goes on", async () => {
    const statements = new PgliteStatements(pg);
    await assert.rejects(statements.query("SELEC $1", [1], null), withCode("42601"));
    await assert.rejects(
      statements.query("SELECT * FROM missing WHERE id = $1", [1], null),
      withCode("42P01"),
    );
    assert.equal(statements.size, 0);
    assert.deepEqual((await statements.query("SELECT $1::text AS s", ["ok"], null))?.rows, [{ s: "ok" }]);
  });

  test("beyond its capacity, statements are left to run unnamed", async () => {
    const statements = new PgliteStatements(pg, 2);
    assert.ok(await statements.query("SELECT $1::int AS a", [1], null));
    assert.ok(await statements.query("SELECT $1::int AS b", [1], null));
    assert.equal(await statements.query("SELECT $1::int AS c", [1], null), undefined);
    assert.ok(
      await statements.query("SELECT $1::int AS a", [2], null),
      "known statements still run prepared",
    );
    assert.equal(statements.size, 2);
  });

  test("after a schema change it did not see, a statement is prepared again and retried", async () => {
    const statements = new PgliteStatements(pg);
    await pg.exec("CREATE TABLE wide (id int PRIMARY KEY); INSERT INTO wide VALUES (1)");
    const sql = "SELECT * FROM wide WHERE id = $1";
    assert.deepEqual((await statements.query(sql, [1], null))?.rows, [{ id: 1 }]);
    // Behind its back: PostgreSQL answers "cached plan must not change result type" (0A000).
    await pg.exec("ALTER TABLE wide ADD COLUMN extra text DEFAULT 'x'");
    assert.deepEqual((await statements.query(sql, [1], null))?.rows, [{ id: 1, extra: "x" }]);

    // Inside a transaction the error aborts it: it rolls back, and the next run prepares afresh.
    await pg.exec("ALTER TABLE wide ADD COLUMN more int DEFAULT 7");
    await assert.rejects(
      pg.transaction(async (tx) => {
        await tx.query("INSERT INTO t VALUES (100, 'rolled back')");
        await statements.query(sql, [1], tx);
      }),
      withCode("0A000"),
    );
    assert.equal((await pg.query("SELECT * FROM t WHERE id = 100")).rows.length, 0);
    assert.deepEqual((await statements.query(sql, [1], null))?.rows, [{ id: 1, extra: "x", more: 7 }]);
  });

  test("invalidate closes the statements it forgets", async () => {
    await pg.query("DEALLOCATE ALL");
    const statements = new PgliteStatements(pg);
    await statements.query("SELECT $1::int AS a", [1], null);
    await statements.query("SELECT $1::int AS b", [1], null);
    statements.invalidate();
    assert.equal(statements.size, 0);
    await statements.query("SELECT $1::int AS a", [1], null);
    const named = await pg.query<{ name: string }>("SELECT name FROM pg_prepared_statements");
    assert.equal(named.rows.length, 1);
  });

  test("a closed transaction is refused", async () => {
    const statements = new PgliteStatements(pg);
    let leaked: Parameters<Parameters<PGlite["transaction"]>[0]>[0] | undefined;
    await pg.transaction(async (tx) => {
      leaked = tx;
    });
    assert.ok(leaked);
    await assert.rejects(statements.query("SELECT $1::int", [1], leaked), /Transaction is closed/);
  });
});
