import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { listMigrations, migrate } from "./migrate.ts";
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
