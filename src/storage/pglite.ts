import { mkdirSync } from "node:fs";
import { PGlite, types } from "@electric-sql/pglite";
import type { Database, Queryable, QueryResult } from "./db.ts";
import { storageError } from "./db.ts";

/** bigint columns (counts, identities) come back as JS numbers, as they do from `pg` with our parser. */
const parsers = { [types.INT8]: (value: string) => Number(value) };

/** Opens the embedded database in `dataDir` (a directory), or in memory when `dataDir` is undefined. */
export async function openPglite(dataDir?: string): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const pg = await PGlite.create(dataDir ?? "memory://", { parsers });
  return new PgliteDatabase(pg);
}

/**
 * PGlite runs SQL synchronously in WebAssembly and resolves through promises only, so a chain of
 * queries (the job worker's) never returns to the event loop: HTTP requests, timers and signals
 * starve until the job queue is empty. Yielding before each statement keeps the process responsive.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

class PgliteQueryable implements Queryable {
  protected readonly target: Pick<PGlite, "query" | "exec">;
  constructor(target: Pick<PGlite, "query" | "exec">) {
    this.target = target;
  }

  async exec(sql: string): Promise<void> {
    await yieldToEventLoop();
    try {
      await this.target.exec(sql);
    } catch (error) {
      throw storageError(sql, error);
    }
  }

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    await yieldToEventLoop();
    try {
      const result = await this.target.query<Row>(sql, params as unknown[]);
      return {
        rows: result.rows,
        rowCount: result.fields.length > 0 ? result.rows.length : (result.affectedRows ?? 0),
      };
    } catch (error) {
      throw storageError(sql, error);
    }
  }
}

class PgliteDatabase extends PgliteQueryable implements Database {
  readonly dialect = "pglite" as const;
  private readonly pg: PGlite;
  constructor(pg: PGlite) {
    super(pg);
    this.pg = pg;
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.pg.transaction((tx) => work(new PgliteQueryable(tx)));
  }

  async close(): Promise<void> {
    if (!this.pg.closed) await this.pg.close();
  }
}
