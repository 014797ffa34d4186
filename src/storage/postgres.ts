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
  /**
   * Run statements as named prepared statements, parsed and planned once per connection (default
   * true). Turn off behind a pooler that cannot keep them: PgBouncer in transaction mode before 1.21
   * (or without `max_prepared_statements`).
   */
  preparedStatements?: boolean;
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
  const db = new PostgresDatabase(pool, options.preparedStatements === false ? null : new StatementNames());
  await db.query("SELECT 1");
  return db;
}

/**
 * Names of prepared statements, by SQL text. Bounded: beyond `capacity` distinct texts (statements
 * whose shape varies with their filters), statements run unnamed, so each connection keeps few.
 */
class StatementNames {
  readonly #names = new Map<string, string>();
  readonly #capacity: number;
  constructor(capacity = 500) {
    this.#capacity = capacity;
  }

  nameOf(sql: string): string | undefined {
    const known = this.#names.get(sql);
    if (known !== undefined || this.#names.size >= this.#capacity) return known;
    const name = `cqa_${this.#names.size + 1}`;
    this.#names.set(sql, name);
    return name;
  }
}

class PostgresQueryable implements Queryable {
  protected readonly target: pg.Pool | pg.PoolClient;
  protected readonly names: StatementNames | null;
  constructor(target: pg.Pool | pg.PoolClient, names: StatementNames | null) {
    this.target = target;
    this.names = names;
  }

  async exec(sql: string): Promise<void> {
    try {
      await this.target.query(sql);
    } catch (error) {
      throw storageError(sql, error);
    }
  }

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    // Statements with parameters are the repeated ones; the rest (BEGIN, COMMIT…) run as they are.
    const name = params.length > 0 ? this.names?.nameOf(sql) : undefined;
    try {
      const result = await this.target.query({
        text: sql,
        values: params as unknown[],
        ...(name ? { name } : {}),
      });
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
  constructor(pool: pg.Pool, names: StatementNames | null) {
    super(pool, names);
    this.pool = pool;
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx = new PostgresQueryable(client, this.names);
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
