// The analysis pipeline end to end, without Kafka or HTTP load in the way: N chat interactions with
// transcripts supplied are ingested through the batch endpoint of an in-process cqa (loops on, worker
// concurrency 4 unless --concurrency says otherwise, the pool size of `cqa serve`), then timed until
// every one is analysed and every result has left through the outbox. Counts the SQL statements per
// interaction by kind, so a change to the pipeline's database work shows up as a number.
//
//   node bench/pipeline.ts [--n 3000] [--only pglite|postgres] [--callback] [--concurrency 4]
//                          [--database-url URL]
//
// --callback gives each interaction a webhook callback to a local receiver (the webhook dispatcher
// then runs too). Figures are printed, not written anywhere.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Database, Queryable, QueryResult } from "../src/storage/db.ts";
import { migrate } from "../src/storage/migrate.ts";
import { openPglite } from "../src/storage/pglite.ts";
import { openPostgresInFreshSchema, type TestDatabase } from "../src/storage/testing.ts";
import { startLocalServer } from "../test/support/httpPeers.ts";
import { startTestCqa } from "../test/support/testCqa.ts";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "3000" },
    only: { type: "string" },
    callback: { type: "boolean", default: false },
    concurrency: { type: "string", default: "4" },
    "database-url": { type: "string" },
  },
});
const total = Number(values.n);
const databaseUrl = values["database-url"] ?? "postgres://127.0.0.1:5432/test";

/** Statement counts and time waited by the statement's first words, for the report. */
class StatementCounter {
  readonly byStatement = new Map<string, { count: number; ms: number }>();
  statements = 0;
  transactions = 0;

  count(sql: string, ms = 0): void {
    this.statements++;
    const key = sql.replace(/\s+/g, " ").trim().slice(0, 70);
    const entry = this.byStatement.get(key) ?? { count: 0, ms: 0 };
    entry.count++;
    entry.ms += ms;
    this.byStatement.set(key, entry);
  }
}

function countingQueryable(target: Queryable, counter: StatementCounter): Queryable {
  return {
    async query<Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
      const started = performance.now();
      try {
        return await target.query<Row>(sql, params);
      } finally {
        counter.count(sql, performance.now() - started);
      }
    },
    exec: (sql) => target.exec(sql),
  };
}

/** The database with every statement counted (BEGIN and COMMIT count as one each). */
function countingDatabase(db: Database, counter: StatementCounter): Database {
  return {
    dialect: db.dialect,
    ...countingQueryable(db, counter),
    async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      counter.transactions++;
      const started = performance.now();
      let inside = 0;
      try {
        return await db.transaction(async (tx) => {
          const entered = performance.now();
          counter.count("BEGIN", entered - started);
          try {
            return await work(countingQueryable(tx, counter));
          } finally {
            inside = performance.now();
          }
        });
      } finally {
        counter.count("COMMIT", performance.now() - (inside || started));
      }
    },
    close: () => db.close(),
  };
}

function item(i: number, callbackUrl: string | null) {
  return {
    external_interaction_id: `PIPE-${i}`,
    channel_type: "CHAT",
    interaction_start_time: "2026-05-01T10:15:00Z",
    duration_seconds: 312,
    metadata: { agent_id: `A-${i % 40}`, campaign: "billing-support" },
    transcript_text:
      "Agent: Thank you for calling Acme, my name is Priya. How can I help you today?\n" +
      `Customer: I was charged twice for my order ${i}.\n` +
      "Agent: I am sorry about that, let me check it for you.\n" +
      "Agent: Is there anything else I can help you with today?",
    ...(callbackUrl ? { callback_url: callbackUrl } : {}),
  };
}

async function measure(backend: TestDatabase): Promise<void> {
  const counter = new StatementCounter();
  const raw = await backend.open();
  const db = countingDatabase(raw, counter);
  const receiver = values.callback
    ? await startLocalServer((_request, response) => {
        response.statusCode = 204;
        response.end();
      })
    : null;
  const cqa = await startTestCqa({
    backend,
    database: db,
    loops: true,
    env: { CQA_WORKER_CONCURRENCY: values.concurrency },
  });
  try {
    const account = await cqa.createAccount({
      webhooks_enabled: values.callback,
      limits: { conversation_cap: "unlimited", ingest_posts_per_minute: 100_000 },
    });
    const path = `/api/v1/accounts/${account.accountId}/ingress/interactions/batch`;
    const baseline = counter.statements;
    const started = performance.now();
    for (let i = 0; i < total; i += 100) {
      const interactions = Array.from({ length: Math.min(100, total - i) }, (_, j) =>
        item(i + j, receiver ? `${receiver.url}/hook` : null),
      );
      const answer = await cqa.request("POST", path, { apiKey: account.apiKey, body: { interactions } });
      if (answer.status !== 202) throw new Error(`batch answered ${answer.status}: ${answer.text}`);
    }
    const ingestedAt = performance.now();
    for (;;) {
      const left = await raw.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM interactions WHERE status NOT IN ('completed', 'failed'))
           + (SELECT count(*) FROM outbox WHERE status = 'pending') AS n`,
      );
      if (Number(left.rows[0]?.n) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    const states = await raw.query<{ status: string; n: number }>(
      "SELECT status, count(*)::int AS n FROM interactions GROUP BY status ORDER BY status",
    );
    const statements = counter.statements - baseline;
    console.log(
      `${backend.name}: ${total} interactions ingested in ${((ingestedAt - started) / 1000).toFixed(1)} s, ` +
        `all analysed and delivered in ${seconds.toFixed(1)} s → ${Math.round(total / seconds)} analyses/s`,
    );
    console.log(
      `  statuses ${states.rows.map((r) => `${r.status} ${r.n}`).join(", ")}; ` +
        `webhooks received ${receiver?.requests.length ?? "—"}`,
    );
    console.log(
      `  ${(statements / total).toFixed(2)} statements per interaction (ingest, analysis, delivery), ` +
        `${counter.transactions} explicit transactions`,
    );
    const top = [...counter.byStatement].sort((a, b) => b[1].count - a[1].count).slice(0, 25);
    console.log("  per interaction, mean ms waited, statement");
    for (const [sql, { count, ms }] of top) {
      console.log(
        `  ${(count / total).toFixed(2).padStart(6)}  ${(ms / count).toFixed(2).padStart(6)}  ${sql}`,
      );
    }
  } finally {
    await cqa.stop();
    await receiver?.close();
    await raw.close();
  }
}

/** PGlite in a data directory, as `cqa serve` runs it (the test default is in memory). */
const pgliteOnDisk: TestDatabase = {
  name: "pglite",
  async open() {
    const dir = mkdtempSync(join(tmpdir(), "cqa-bench-pipeline-"));
    const db = await openPglite(join(dir, "db"));
    await migrate(db);
    const close = db.close.bind(db);
    return Object.assign(db, {
      close: async () => {
        await close();
        rmSync(dir, { recursive: true, force: true });
      },
    });
  },
};

/** PostgreSQL in a fresh schema, with the pool size `cqa serve` uses (the tests use a smaller one). */
const postgres: TestDatabase = {
  name: "postgres",
  open: () => openPostgresInFreshSchema(databaseUrl, { prefix: "cqa_bench_pipeline" }),
};

for (const backend of [pgliteOnDisk, postgres]) {
  if (values.only && values.only !== backend.name) continue;
  await measure(backend);
}
