import { userInfo } from "node:os";
import pg from "pg";
import type { Database, Queryable, QueryResult } from "./db.ts";
import { storageError } from "./db.ts";

// bigint (counts, identities) as numbers; our values stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

export interface PostgresOptions {
  connectionString: string;
  /** Schema to use as search_path (created if missing); tests use one per run for isolation. */
  schema?: string;
  maxConnections?: number;
}

/** Opens a pooled connection to a PostgreSQL server. */
export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const connectionString = withDefaultUser(options.connectionString);
  const config: pg.PoolConfig = {
    connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 10_000,
  };
  if (options.schema) {
    if (!/^[a-z_][a-z0-9_]*$/.test(options.schema)) {
      throw new Error(`Database schema name '${options.schema}' must be lower-case letters, digits and _`);
    }
    const bootstrap = new pg.Client({ connectionString });
    await bootstrap.connect();
    try {
      await bootstrap.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`).catch((error: unknown) => {
        // Processes starting together race on IF NOT EXISTS; the loser's unique violation means it exists.
        if ((error as { code?: unknown }).code !== "23505") throw error;
      });
    } finally {
      await bootstrap.end();
    }
    config.options = `-c search_path=${options.schema}`;
  }
  const pool = new pg.Pool(config);
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  const db = new PostgresDatabase(pool);
  await db.query("SELECT 1");
  return db;
}

class PostgresQueryable implements Queryable {
  protected readonly target: pg.Pool | pg.PoolClient;
  constructor(target: pg.Pool | pg.PoolClient) {
    this.target = target;
  }

  async exec(sql: string): Promise<void> {
    try {
      await this.target.query(sql);
    } catch (error) {
      throw storageError(sql, error);
    }
  }

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    try {
      const result = await this.target.query(sql, params as unknown[]);
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
    } catch (error) {
      throw storageError(sql, error);
    }
  }
}

class PostgresDatabase extends PostgresQueryable implements Database {
  readonly dialect = "postgres" as const;
  #closed = false;
  private readonly pool: pg.Pool;
  constructor(pool: pg.Pool) {
    super(pool);
    this.pool = pool;
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx = new PostgresQueryable(client);
    let broken = false;
    try {
      await tx.query("BEGIN");
      const result = await work(tx);
      await tx.query("COMMIT");
      return result;
    } catch (error) {
      // A client whose ROLLBACK fails has lost its connection: destroy it rather than reuse it.
      await client.query("ROLLBACK").catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.pool.end();
  }
}

/** Like libpq: without a user in the URL or PGUSER, connect as the operating-system user. */
export function withDefaultUser(connectionString: string): string {
  if (process.env["PGUSER"]) return connectionString;
  try {
    const url = new URL(connectionString);
    if (url.username !== "") return connectionString;
    url.username = userInfo().username;
    return url.toString();
  } catch {
    return connectionString;
  }
}
