import { messages, type PGlite, parse, protocol, type Results, type Transaction } from "@electric-sql/pglite";

/**
 * Named prepared statements for PGlite, by SQL text.
 *
 * `PGlite.query` sends, for every call, Parse (unnamed) → Describe statement → Bind → Describe
 * portal → Execute → Sync, each a separate call into WebAssembly, so every statement is parsed
 * and analysed anew. Here a statement is parsed and described once per SQL text (one call:
 * Parse → Describe → Sync), then each execution is one call: Bind → Describe portal → Execute →
 * Sync. Values are serialised and rows parsed with PGlite's own serializers and parsers, so the
 * results are those `PGlite.query` gives.
 *
 * It uses PGlite's public protocol API (`execProtocolStream`, `parse`, `protocol.serialize`) and
 * two of its locks, as `PGlite.query` and `Transaction.query` take them: `runExclusive` (the
 * query lock, one protocol exchange at a time) and `_runExclusiveTransaction` (held by a
 * transaction from BEGIN to COMMIT, so that no other caller's statement runs inside it).
 */
export class PgliteStatements {
  readonly #pg: PGlite;
  readonly #capacity: number;
  readonly #prepared = new Map<string, PreparedStatement>();
  /** Names forgotten by {@link invalidate}, closed (deallocated) with the next preparation. */
  #retired: string[] = [];
  #generation = 0;

  /** Beyond `capacity` distinct texts (statements whose shape varies), statements run unnamed. */
  constructor(pg: PGlite, capacity = 500) {
    this.#pg = pg;
    this.#capacity = capacity;
  }

  /** How many statements are prepared. */
  get size(): number {
    return this.#prepared.size;
  }

  /** Counts {@link invalidate} calls, so a transaction can tell whether it changed the schema. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Forgets every prepared statement: after a schema change a statement prepared before could
   * fail with "cached plan must not change result type" (its `SELECT *` grew a column).
   */
  invalidate(): void {
    for (const statement of this.#prepared.values()) this.#retired.push(statement.name);
    this.#prepared.clear();
    this.#generation++;
  }

  /**
   * Runs `sql` as a named prepared statement: inside `transaction` when given (whose lock the
   * caller holds), else alone. Resolves to undefined, having run nothing, when `sql` is not
   * prepared and the cache is full: the caller then runs it unnamed.
   */
  async query<Row>(
    sql: string,
    params: readonly unknown[],
    transaction: Transaction | null,
  ): Promise<Results<Row> | undefined> {
    if (transaction?.closed) throw new Error("Transaction is closed");
    await this.#pg._checkReady();
    const locked = () => this.#pg.runExclusive(() => this.#runLocked<Row>(sql, params, transaction !== null));
    return transaction ? locked() : this.#pg._runExclusiveTransaction(locked);
  }

  async #runLocked<Row>(
    sql: string,
    params: readonly unknown[],
    inTransaction: boolean,
  ): Promise<Results<Row> | undefined> {
    const known = this.#prepared.get(sql);
    if (!known && this.#prepared.size >= this.#capacity) return undefined;
    let result: Results<Row>;
    try {
      result = await this.#execute<Row>(known ?? (await this.#prepare(sql)), params);
    } catch (error) {
      if (!(known && isStalePlan(error))) throw describeError(error, sql, params);
      // Prepared before a schema change we did not see (DDL inside a function, say). Outside a
      // transaction the failed statement was rolled back, so preparing it again and retrying is
      // safe; inside one the transaction is aborted, so the caller gets the error (and a retry of
      // the transaction finds the statement prepared afresh).
      this.#forget(sql);
      if (inTransaction) throw describeError(error, sql, params);
      try {
        result = await this.#execute<Row>(await this.#prepare(sql), params);
      } catch (retryError) {
        throw describeError(retryError, sql, params);
      }
    }
    // As PGlite.query does: a statement outside a transaction is synced to the file system.
    if (!inTransaction) await this.#pg.syncToFs();
    return result;
  }

  /** Parse and Describe in one exchange; nothing is remembered when Parse fails. */
  async #prepare(sql: string): Promise<PreparedStatement> {
    const name = `cqa_${nextStatementId++}`;
    const retired = this.#retired;
    this.#retired = [];
    const serialize = protocol.serialize;
    const replies = await this.#exchange([
      // Close never fails, not even in an aborted transaction, and a missing name is no error.
      ...retired.map((old) => serialize.close({ type: "S", name: old })),
      serialize.parse({ name, text: sql }),
      serialize.describe({ type: "S", name }),
      serialize.sync(),
    ]);
    const statement = { name, paramTypes: parse.parseDescribeStatementResults(replies) };
    this.#prepared.set(sql, statement);
    return statement;
  }

  async #execute<Row>(statement: PreparedStatement, params: readonly unknown[]): Promise<Results<Row>> {
    const serialize = protocol.serialize;
    const replies = await this.#exchange([
      serialize.bind({ statement: statement.name, values: this.#serializeParams(statement, params) }),
      serialize.describe({ type: "P" }),
      serialize.execute(),
      serialize.sync(),
    ]);
    return parse.parseResults(replies, this.#pg.parsers)[0] as Results<Row>;
  }

  /** Exactly as PGlite.query serialises values: by the parameter's type, as text. */
  #serializeParams(statement: PreparedStatement, params: readonly unknown[]): (string | null)[] {
    return params.map((param, i) => {
      if (param === null || param === undefined) return null;
      const oid = statement.paramTypes[i];
      const serializer = oid === undefined ? undefined : this.#pg.serializers[oid];
      return serializer ? serializer(param) : String(param);
    });
  }

  /**
   * One call into PostgreSQL for the whole batch, ending with Sync: after an error it skips to the
   * Sync and answers ReadyForQuery, so the session is ready for the next statement; PGlite then
   * throws the first error. No file-system sync here: {@link #runLocked} does it as PGlite would.
   */
  #exchange(parts: Uint8Array[]): Promise<messages.BackendMessage[]> {
    const batch = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      batch.set(part, offset);
      offset += part.length;
    }
    return this.#pg.execProtocolStream(batch, { syncToFs: false });
  }

  #forget(sql: string): void {
    const statement = this.#prepared.get(sql);
    if (!statement) return;
    this.#prepared.delete(sql);
    this.#retired.push(statement.name);
  }
}

/** Shared by all instances, so that two on one database never pick the same name. */
let nextStatementId = 1;

interface PreparedStatement {
  name: string;
  /** Type OIDs of the parameters, as PostgreSQL inferred them: they choose the serializers. */
  paramTypes: number[];
}

/** SQLSTATE 0A000 on a statement that ran before: "cached plan must not change result type". */
function isStalePlan(error: unknown): boolean {
  return error instanceof messages.DatabaseError && error.code === "0A000";
}

/** PGlite adds the statement to its errors; so do we, so that errors look the same either way. */
function describeError(error: unknown, sql: string, params: readonly unknown[]): unknown {
  if (error instanceof messages.DatabaseError)
    Object.assign(error, { query: sql, params, queryOptions: undefined });
  return error;
}
