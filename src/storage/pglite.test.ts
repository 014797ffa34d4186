import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { isAppError } from "../core/errors.ts";
import { lockDataDir } from "../server/dataDirLock.ts";
import { type Database, sqlStateOf } from "./db.ts";
import { openPglite } from "./pglite.ts";

const committer = fileURLToPath(new URL("../../test/support/pgliteCommitter.ts", import.meta.url));

/** Starts the committer and resolves once it has printed `commits` committed account ids. */
function runCommitter(dataDir: string, commits: number): { child: ChildProcess; reached: Promise<string[]> } {
  const child = spawn(process.execPath, [committer, dataDir], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const reached = new Promise<string[]>((resolve, reject) => {
    const ids: string[] = [];
    let pending = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith("committed ")) ids.push(line.slice("committed ".length));
      }
      if (ids.length >= commits) resolve(ids);
    });
    child.once("exit", (code, signal) => {
      reject(new Error(`the committer exited early (code ${code}, signal ${signal}):\n${stderr}`));
    });
  });
  return { child, reached };
}

async function killHard(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

describe("the embedded database survives kill -9", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "cqa-pglite-kill-"));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test("every transaction committed before the kill is there after restart, and none is half there", async () => {
    const printed: string[] = [];
    for (let round = 1; round <= 2; round++) {
      const { child, reached } = runCommitter(dataDir, 40);
      const ids = await reached;
      // While it runs, the data directory is its alone.
      assert.throws(
        () => lockDataDir(dataDir),
        (error: unknown) => isAppError(error) && /Another cqa process \(pid \d+\)/.test(error.message),
      );
      await killHard(child);
      printed.push(...ids);
      // The second round restarts on the same directory: the stale lock is taken over.
    }

    const unlock = lockDataDir(dataDir);
    try {
      assert.equal(
        readFileSync(join(dataDir, "cqa.lock"), "utf8"),
        String(process.pid),
        "the stale lock was taken over",
      );
      const db = await openPglite(join(dataDir, "db"));
      try {
        const counts = await db.query<{ account_id: string; n: number }>(
          "SELECT account_id, count(*)::int AS n FROM interactions GROUP BY account_id",
        );
        const perAccount = new Map(counts.rows.map((r) => [r.account_id, r.n]));
        const missing = printed.filter((id) => perAccount.get(id) !== 10);
        assert.deepEqual(
          missing,
          [],
          "accounts whose commit was acknowledged but whose rows are not all there",
        );
        const accounts = await db.query<{ id: string }>("SELECT id FROM accounts");
        const partial = accounts.rows.filter((a) => perAccount.get(a.id) !== 10);
        assert.deepEqual(partial, [], "an account stored without all ten of its interactions");
      } finally {
        await db.close();
      }
    } finally {
      unlock();
    }
  });
});

describe("statements with parameters run as named prepared statements", () => {
  let db: Database;
  /** The same database code without prepared statements: what the results must equal. */
  let plain: Database;
  const schema = `CREATE TABLE typed (
    id int8 PRIMARY KEY, amount numeric, doc jsonb, at timestamptz, tags text[], counts int4[],
    data bytea, flag boolean, note text)`;
  before(async () => {
    [db, plain] = await Promise.all([openPglite(), openPglite(undefined, { preparedStatements: false })]);
    await Promise.all([db.exec(schema), plain.exec(schema)]);
  });
  after(async () => {
    await Promise.all([db.close(), plain.close()]);
  });

  const rows: unknown[][] = [
    [
      1,
      "12.3400",
      { a: [1, "two", null], b: { c: true } },
      new Date("2026-05-01T10:15:00.123Z"),
      ["x", "y z"],
      [1, 2],
      new Uint8Array([0, 1, 255]),
      true,
      "é",
    ],
    [
      9_007_199_254_740_991,
      "-0.5",
      [1, 2],
      "2026-05-01T12:00:00+02:00",
      [],
      [null, 3],
      new Uint8Array([]),
      false,
      "",
    ],
    [3, null, null, null, null, null, null, null, null],
  ];

  test("give the same rows, types and counts as plain queries", async () => {
    for (const target of [db, plain]) {
      for (const row of rows) {
        const inserted = await target.query(
          "INSERT INTO typed (id, amount, doc, at, tags, counts, data, flag, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
          row,
        );
        assert.deepEqual(inserted, { rows: [], rowCount: 1 });
      }
    }
    const statements: [string, unknown[]][] = [
      ["SELECT * FROM typed WHERE id = ANY($1) ORDER BY id", [[1, 3, 9_007_199_254_740_991]]],
      ["SELECT * FROM typed WHERE id > $1 ORDER BY id", [0]],
      [
        "SELECT count(*) AS n, sum(amount) AS total, $1::text AS label FROM typed WHERE flag IS NOT NULL",
        ["all"],
      ],
      [
        "SELECT doc->'b' AS b, tags[1] AS first, data FROM typed WHERE doc @> $1 ORDER BY id",
        [{ b: { c: true } }],
      ],
      ["SELECT id FROM typed WHERE at < $1 ORDER BY id", [new Date("2030-01-01T00:00:00Z")]],
      ["SELECT id FROM typed WHERE note = $1", [null]],
      ["UPDATE typed SET note = $1 WHERE id <= $2", ["n", 3]],
      ["UPDATE typed SET note = $1 WHERE id = $2 RETURNING id, note", ["m", 1]],
      ["DELETE FROM typed WHERE id = $1", [12345]],
      [
        "SELECT $1::int8 AS big, $2::numeric AS num, $3::jsonb AS j, $4::bytea AS b",
        [5, "1e3", { k: "v" }, new Uint8Array([7])],
      ],
    ];
    for (const [sql, params] of statements) {
      for (let run = 0; run < 2; run++) {
        // Twice: the first run prepares, the second uses the prepared statement.
        assert.deepEqual(
          await db.query(sql, params),
          await plain.query(sql, params),
          `${sql} (run ${run + 1})`,
        );
      }
    }
  });

  test("errors keep their SQLSTATE, and a failed statement does not break the next", async () => {
    const failures: [string, unknown[], string][] = [
      ["INSERT INTO typed (id) VALUES ($1)", [1], "23505"],
      ["SELECT $1::int AS n", ["not a number"], "22P02"],
      ["SELEKT $1", [1], "42601"],
      ["SELECT * FROM missing WHERE id = $1", [1], "42P01"],
    ];
    for (const [sql, params, code] of failures) {
      for (let run = 0; run < 2; run++) {
        await assert.rejects(db.query(sql, params), (error: unknown) => sqlStateOf(error) === code, sql);
      }
    }
    assert.deepEqual((await db.query("SELECT $1::int AS n", [7])).rows, [{ n: 7 }]);
  });

  test("work in a transaction, which rolls back after an error", async () => {
    await db.exec("CREATE TABLE ledger (id int PRIMARY KEY, note text)");
    const insert = "INSERT INTO ledger (id, note) VALUES ($1, $2)";
    const committed = await db.transaction(async (tx) => {
      await tx.query(insert, [1, "one"]);
      return (await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM ledger WHERE id >= $1", [0]))
        .rows[0]?.n;
    });
    assert.equal(committed, 1);
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query(insert, [2, "two"]);
        await tx.query("UPDATE ledger SET note = $1 WHERE id = $2", ["renamed", 1]);
        await tx.query(insert, [1, "duplicate"]);
      }),
      (error: unknown) => sqlStateOf(error) === "23505",
    );
    const after = await db.query("SELECT id, note FROM ledger WHERE id >= $1 ORDER BY id", [0]);
    assert.deepEqual(after.rows, [{ id: 1, note: "one" }], "nothing of the failed transaction is left");
    // Statements first prepared inside the rolled-back transaction still run.
    await db.query("UPDATE ledger SET note = $1 WHERE id = $2", ["renamed", 1]);
    assert.equal((await db.query("SELECT note FROM ledger WHERE id = $1", [1])).rows[0]?.note, "renamed");
  });

  test("a statement from outside never runs inside someone else's transaction", async () => {
    await db.exec("CREATE TABLE visits (id int PRIMARY KEY)");
    let outside: Promise<unknown> | undefined;
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO visits VALUES ($1)", [1]);
        // Started while the transaction is open: it must wait for the end, not join it.
        outside = db.query("INSERT INTO visits VALUES ($1)", [2]);
        await new Promise((resolve) => setTimeout(resolve, 30));
        await tx.query("INSERT INTO visits VALUES ($1)", [3]);
        throw new Error("give up");
      }),
      /give up/,
    );
    await outside;
    const visits = await db.query("SELECT id FROM visits WHERE id > $1 ORDER BY id", [0]);
    assert.deepEqual(
      visits.rows,
      [{ id: 2 }],
      "the outside insert survived the rollback; the others did not",
    );
  });

  test("see schema changes: columns added by a script, a statement or a migration", async () => {
    await db.exec("CREATE TABLE shape (id int PRIMARY KEY); INSERT INTO shape VALUES (1)");
    const select = "SELECT * FROM shape WHERE id = $1";
    assert.deepEqual((await db.query(select, [1])).rows, [{ id: 1 }]);
    await db.exec("ALTER TABLE shape ADD COLUMN a int DEFAULT 1");
    assert.deepEqual((await db.query(select, [1])).rows, [{ id: 1, a: 1 }]);
    await db.query("ALTER TABLE shape ADD COLUMN b int DEFAULT 2");
    assert.deepEqual((await db.query(select, [1])).rows, [{ id: 1, a: 1, b: 2 }]);
    await db.transaction(async (tx) => {
      await tx.exec("ALTER TABLE shape ADD COLUMN c int DEFAULT 3");
      assert.deepEqual((await tx.query(select, [1])).rows, [{ id: 1, a: 1, b: 2, c: 3 }]);
    });
    assert.deepEqual((await db.query(select, [1])).rows, [{ id: 1, a: 1, b: 2, c: 3 }]);
    // A schema change rolled back: the statement prepared inside it must not outlive it.
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.exec("ALTER TABLE shape ADD COLUMN d int DEFAULT 4");
        assert.deepEqual((await tx.query(select, [1])).rows, [{ id: 1, a: 1, b: 2, c: 3, d: 4 }]);
        throw new Error("undo");
      }),
      /undo/,
    );
    assert.deepEqual(await db.transaction((tx) => tx.query(select, [1])), {
      rows: [{ id: 1, a: 1, b: 2, c: 3 }],
      rowCount: 1,
    });
  });

  test("more distinct statements than the cache holds still run", async () => {
    for (let i = 0; i < 520; i++) {
      const result = await db.query<{ n: number }>(`SELECT $1::int + ${i} AS n`, [1]);
      assert.equal(result.rows[0]?.n, i + 1);
    }
  });
});
