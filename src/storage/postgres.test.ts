import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { openPostgres } from "./postgres.ts";

const url = process.env["CQA_TEST_DATABASE_URL"];

describe("PostgreSQL adapter", { skip: url ? false : "no PostgreSQL (CQA_TEST_DATABASE_URL unset)" }, () => {
  for (const preparedStatements of [true, false]) {
    test(`statements ${preparedStatements ? "prepared once per connection" : "run unprepared"} give the same answers, in and out of transactions`, async () => {
      const schema = `cqa_test_${randomBytes(6).toString("hex")}`;
      const db = await openPostgres({
        connectionString: url!,
        schema,
        maxConnections: 2,
        preparedStatements,
      });
      try {
        await db.exec("CREATE TABLE t (id integer PRIMARY KEY, name text NOT NULL)");
        const insert = "INSERT INTO t (id, name) VALUES ($1, $2)";
        // More runs than connections, so each connection runs a statement it has seen before.
        for (let id = 1; id <= 6; id++) await db.query(insert, [id, `row ${id}`]);
        await db.transaction(async (tx) => {
          await tx.query(insert, [7, "row 7"]);
          await tx.query("UPDATE t SET name = $2 WHERE id = $1", [1, "first"]);
        });
        await assert.rejects(
          db.transaction(async (tx) => {
            await tx.query(insert, [8, "row 8"]);
            await tx.query(insert, [8, "again"]);
          }),
          /duplicate key/,
        );
        const read = "SELECT id, name FROM t WHERE id = ANY($1::int[]) ORDER BY id";
        for (let i = 0; i < 3; i++) {
          const rows = await db.query<{ id: number; name: string }>(read, [[1, 7, 8]]);
          assert.deepEqual(rows.rows, [
            { id: 1, name: "first" },
            { id: 7, name: "row 7" },
          ]);
        }
        assert.equal((await db.query("SELECT count(*)::int AS n FROM t")).rows[0]?.["n"], 7);
      } finally {
        await db.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
        await db.close();
      }
    });
  }
});
