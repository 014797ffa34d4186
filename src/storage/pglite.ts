import { mkdirSync } from "node:fs";
import { PGlite, type Results, type Transaction, types } from "@electric-sql/pglite";
import type { Database, Queryable, QueryResult } from "./db.ts";
import { storageError } from "./db.ts";
import { PgliteStatements } from "./pgliteStatements.ts";

/** bigint columns (counts, identities) come back as JS numbers, as they do from `pg` with our parser. */
const parsers = { [types.INT8]: (value: string) => Number(value) };

/** Opens the embedded database in `dataDir` (a directory), or in memory when `dataDir` is undefined. */
export async function openPglite(
  dataDir?: string,
  options: { preparedStatements?: boolean } = {},
): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const pg = await PGlite.create(dataDir ?? "memory://", { parsers });
  return new PgliteDatabase(pg, options.preparedStatements === false ? null : new PgliteStatements(pg));
}

/**
 * PGlite runs SQL synchronously in WebAssembly and resolves through promises only, so a chain of
 * queries (the job worker's) never returns to the event loop: HTTP requests, timers and signals
 * starve until the job queue is empty. Yielding before each statement keeps the process responsive.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Command tags after which statements prepared before still describe the schema. */
const schemaKeeping = new Set([
  "SELECT",
  "INSERT",
  "UPDATE",
  "DELETE",
  "MERGE",
  "BEGIN",
  "COMMIT",
  "ROLLBACK",
]);

class PgliteQueryable implements Queryable {
  protected readonly target: Pick<PGlite, "query" | "exec">;
  protected readonly statements: PgliteStatements | null;
  /** The open transaction this runs in, or null for the database itself. */
  private readonly openTransaction: Transaction | null;
  constructor(
    target: Pick<PGlite, "query" | "exec">,
    statements: PgliteStatements | null,
    transaction: Transaction | null,
  ) {
    this.target = target;
    this.statements = statements;
    this.openTransaction = transaction;
  }

  async exec(sql: string): Promise<void> {
    await yieldToEventLoop();
    try {
      await this.target.exec(sql);
    } catch (error) {
      throw storageError(sql, error);
    } finally {
      // Scripts are migrations and test schemas.
      this.statements?.invalidate();
    }
  }

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    await yieldToEventLoop();
    try {
      // Statements with parameters are the repeated ones; the rest (DDL, BEGIN…) run as they are.
      const prepared =
        params.length > 0 ? await this.statements?.query<Row>(sql, params, this.openTransaction) : undefined;
      const result = prepared ?? (await this.unnamed<Row>(sql, params));
      return {
        rows: result.rows,
        rowCount: result.fields.length > 0 ? result.rows.length : (result.affectedRows ?? 0),
      };
    } catch (error) {
      throw storageError(sql, error);
    }
  }

  private async unnamed<Row>(sql: string, params: readonly unknown[]): Promise<Results<Row>> {
    const result = await this.target.query<Row>(sql, params as unknown[]);
    if (!schemaKeeping.has(result.command ?? "")) this.statements?.invalidate();
    return result;
  }
}

class PgliteDatabase extends PgliteQueryable implements Database {
  readonly dialect = "pglite" as const;
  private readonly pg: PGlite;
  constructor(pg: PGlite, statements: PgliteStatements | null) {
    super(pg, statements, null);
    this.pg = pg;
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const generation = this.statements?.generation;
    try {
      return await this.pg.transaction((tx) => work(new PgliteQueryable(tx, this.statements, tx)));
    } finally {
      // A schema change rolled back (or committed) changes the schema again: prepare afresh.
      if (this.statements && this.statements.generation !== generation) this.statements.invalidate();
    }
  }

  async close(): Promise<void> {
    if (!this.pg.closed) await this.pg.close();
  }
}
