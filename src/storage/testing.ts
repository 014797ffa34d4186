import { randomBytes } from "node:crypto";
import type { Database } from "./db.ts";
import { migrate } from "./migrate.ts";
import { openPglite } from "./pglite.ts";
import { openPostgres } from "./postgres.ts";

/** A database under test, migrated and isolated, with a way to throw it away. */
export interface TestDatabase {
  name: "pglite" | "postgres";
  open(): Promise<Database>;
}

/**
 * The storage backends every storage test runs against: PGlite always; PostgreSQL when
 * CQA_TEST_DATABASE_URL is set (CI sets it to the server on 127.0.0.1:5432). Each PostgreSQL
 * database gets a fresh schema so parallel test files never see each other's rows.
 */
export function testDatabases(): TestDatabase[] {
  const backends: TestDatabase[] = [
    {
      name: "pglite",
      open: async () => {
        const db = await openPglite();
        await migrate(db);
        return db;
      },
    },
  ];
  const url = process.env["CQA_TEST_DATABASE_URL"];
  if (url) {
    backends.push({ name: "postgres", open: () => openPostgresInFreshSchema(url, { maxConnections: 5 }) });
  }
  return backends;
}

/**
 * PostgreSQL in a schema of its own, made and migrated now and dropped when the database is closed.
 * `maxConnections` defaults to the pool size of `cqa serve` (tests use a smaller one).
 */
export async function openPostgresInFreshSchema(
  connectionString: string,
  options: { maxConnections?: number; prefix?: string } = {},
): Promise<Database> {
  const schema = `${options.prefix ?? "cqa_test"}_${randomBytes(6).toString("hex")}`;
  const db = await openPostgres({
    connectionString,
    schema,
    ...(options.maxConnections ? { maxConnections: options.maxConnections } : {}),
  });
  await migrate(db);
  const close = db.close.bind(db);
  return Object.assign(db, {
    close: async () => {
      await db.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
      await close();
    },
  });
}
