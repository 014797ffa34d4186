import { AppError } from "../core/errors.ts";

/** Anything that runs SQL: the database itself or an open transaction. */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** One database, embedded (PGlite) or server (PostgreSQL), behind the same SQL. */
export interface Database extends Queryable {
  readonly dialect: "pglite" | "postgres";
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Wraps a driver error with the statement that failed, so logs say what was being done. */
export function storageError(sql: string, cause: unknown): AppError {
  const statement = sql.replace(/\s+/g, " ").trim().slice(0, 200);
  const reason = cause instanceof Error ? cause.message : String(cause);
  const sqlState = (cause as { code?: unknown } | null)?.code;
  return new AppError("STORAGE_ERROR", `Database query failed (${reason}) in: ${statement}`, {
    cause,
    retryable: typeof sqlState === "string" && isTransientSqlState(sqlState),
    details: { sqlState },
  });
}

/** Serialization failures, deadlocks and lost connections are worth retrying. */
function isTransientSqlState(code: string): boolean {
  return code === "40001" || code === "40P01" || code.startsWith("08") || code === "57P01";
}

/** The SQLSTATE of a driver error wrapped by {@link storageError}, if any. */
export function sqlStateOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let i = 0; i < 4 && current; i++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The parameters of a statement built from parts (see the `…Sql` builders of the repositories):
 * `bind(value)` adds a value and returns its placeholder.
 */
export class StatementParams {
  readonly values: unknown[] = [];
  readonly bind = (value: unknown): string => {
    this.values.push(value);
    return `$${this.values.length}`;
  };
}

/** Binds a value into a statement being built: see {@link StatementParams}. */
export type Bind = StatementParams["bind"];
