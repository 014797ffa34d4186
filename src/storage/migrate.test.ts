import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import type { Database } from "./db.ts";
import { listMigrations, migrate } from "./migrate.ts";
import { openPostgres } from "./postgres.ts";
import { testDatabases } from "./testing.ts";

for (const backend of testDatabases()) {
  describe(`migrations on ${backend.name}`, () => {
    test("apply once, then are a no-op on the next start", async () => {
      const db = await backend.open();
      try {
        const again = await migrate(db);
        assert.deepEqual(again.applied, []);
        const rows = await db.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY 1");
        assert.deepEqual(
          rows.rows.map((r) => r.version),
          listMigrations().map((m) => m.version),
        );
      } finally {
        await db.close();
      }
    });

    test("refuse a database migrated by a newer cqa, saying what to do", async () => {
      const db = await backend.open();
      try {
        await db.query("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')");
        await assert.rejects(migrate(db), /newer cqa/);
      } finally {
        await db.close();
      }
    });
  });
}

const postgresUrl = process.env["CQA_TEST_DATABASE_URL"];
if (postgresUrl !== undefined) {
  const url: string = postgresUrl;
  describe("migrations on postgres, several cqa processes starting at once", () => {
    test("all come up on a fresh schema and each migration is applied once", async () => {
      for (let round = 0; round < 3; round++) {
        const schema = `cqa_test_${randomBytes(6).toString("hex")}`;
        // Each process opens its own pool, as separate cqa processes would.
        const dbs: Database[] = await Promise.all(
          [1, 2, 3, 4].map(() => openPostgres({ connectionString: url, schema, maxConnections: 2 })),
        );
        try {
          const results = await Promise.all(dbs.map((db) => migrate(db)));
          assert.deepEqual(
            results.flatMap((r) => r.applied).sort(),
            listMigrations().map((m) => m.version),
            "every migration applied exactly once across the processes",
          );
        } finally {
          await dbs[0]!.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
          await Promise.all(dbs.map((db) => db.close()));
        }
      }
    });
  });
}
