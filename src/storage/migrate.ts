import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AppError } from "../core/errors.ts";
import type { Database } from "./db.ts";

const migrationsDir = fileURLToPath(new URL("./migrations/", import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The migrations shipped with this build, in order. File names are `NNN_name.sql`. */
export function listMigrations(): Migration[] {
  return readdirSync(migrationsDir)
    .filter((file) => /^\d{3}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 3)),
      name: file.slice(4, -4),
      sql: readFileSync(migrationsDir + file, "utf8"),
    }));
}

// Any constant works; it only has to be the same for every cqa process sharing a database.
const migrationLockKey = 7_237_001;

/**
 * Brings the schema up to date, one transaction per migration. Concurrent starters (several
 * cqa processes on one PostgreSQL) serialise on an advisory lock, so each migration runs once.
 */
export async function migrate(db: Database): Promise<{ applied: number[] }> {
  // Under the lock too: concurrent CREATE TABLE IF NOT EXISTS can fail with a unique violation.
  await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [migrationLockKey]);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
  });
  const applied: number[] = [];
  const migrations = listMigrations();
  for (const migration of migrations) {
    await db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1)", [migrationLockKey]);
      const done = await tx.query("SELECT 1 FROM schema_migrations WHERE version = $1", [migration.version]);
      if (done.rowCount > 0) return;
      await tx.exec(migration.sql);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    });
  }
  const newest = await db.query<{ version: number }>("SELECT max(version) AS version FROM schema_migrations");
  const known = migrations.at(-1)?.version ?? 0;
  const current = newest.rows[0]?.version ?? 0;
  if (current > known) {
    throw new AppError(
      "CONFIG_INVALID",
      `The database schema is at version ${current} but this cqa only knows up to ${known}: ` +
        "it was migrated by a newer cqa. Run that version, or restore a backup taken before the upgrade.",
    );
  }
  return { applied };
}
