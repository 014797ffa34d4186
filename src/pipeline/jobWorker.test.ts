import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import type { Database, Queryable, QueryResult } from "../storage/db.ts";
import { completeJob, enqueueJobs } from "../storage/jobQueue.ts";
import { unique } from "../storage/testFixtures.ts";
import { testDatabases } from "../storage/testing.ts";
import { type JobHandler, JobWorker } from "./jobWorker.ts";

/** The database, counting the statements that start with each of `prefixes`. */
function counting(db: Database, prefixes: string[]): { db: Database; count: (prefix: string) => number } {
  const counts = new Map<string, number>();
  const query = <Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> => {
    const prefix = prefixes.find((p) => sql.trimStart().startsWith(p));
    if (prefix) counts.set(prefix, (counts.get(prefix) ?? 0) + 1);
    return db.query<Row>(sql, params);
  };
  return {
    db: {
      dialect: db.dialect,
      query,
      exec: (sql) => db.exec(sql),
      transaction: <T>(work: (tx: Queryable) => Promise<T>) => db.transaction(work),
      close: () => db.close(),
    },
    count: (prefix) => counts.get(prefix) ?? 0,
  };
}

/** Resolves when `check` holds, polling every few milliseconds (fails after 10 s). */
async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function jobsOf(db: Database, kind: string) {
  const result = await db.query<{ id: number; status: string; attempts: number }>(
    "SELECT id, status, attempts FROM jobs WHERE kind = $1 ORDER BY id",
    [kind],
  );
  return result.rows;
}

for (const backend of testDatabases()) {
  describe(`job worker on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("a busy queue is claimed a round ahead: far fewer claims than jobs, each job run once", async () => {
      const kind = unique("busy-");
      const ran: number[] = [];
      const handler: JobHandler = {
        kind,
        run: async (job) => {
          ran.push((job.payload as { n: number }).n);
          await new Promise((resolve) => setTimeout(resolve, 2));
        },
      };
      const counted = counting(db, ["WITH queued"]);
      const worker = new JobWorker({
        db: counted.db,
        clock: new ManualClock(),
        concurrency: 3,
        handlers: [handler],
      });
      await enqueueJobs(
        db,
        Array.from({ length: 30 }, (_, n) => ({ kind, accountId: null, payload: { n } })),
        new ManualClock().now(),
      );
      worker.start();
      try {
        await eventually(async () => (await jobsOf(db, kind)).length === 0, "every job is done");
      } finally {
        await worker.stop();
      }
      assert.deepEqual(
        [...ran].sort((a, b) => a - b),
        Array.from({ length: 30 }, (_, n) => n),
      );
      assert.ok(counted.count("WITH queued") <= 15, `${counted.count("WITH queued")} claims for 30 jobs`);
    });

    test("a handler that ends its job in its own last write is not ended a second time", async () => {
      const kind = unique("own-end-");
      const handler: JobHandler = {
        kind,
        run: async (_job, _signal, completion) => {
          assert.ok(completion);
          await completeJob(db, completion.lease.jobId, completion.lease.workerId);
          completion.completed();
        },
      };
      const counted = counting(db, ["DELETE FROM jobs"]);
      const worker = new JobWorker({
        db: counted.db,
        clock: new ManualClock(),
        concurrency: 1,
        handlers: [handler],
      });
      await enqueueJobs(db, [{ kind, accountId: null, payload: {} }], new ManualClock().now());
      assert.equal(await worker.drain(), 1);
      assert.deepEqual(await jobsOf(db, kind), []);
      assert.equal(counted.count("DELETE FROM jobs"), 0, "the worker did not delete it again");
    });

    test("jobs claimed ahead and not started go back to the queue when the worker stops, no attempt counted", async () => {
      const kind = unique("stop-");
      let release: () => void = () => {};
      const blocked = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started = 0;
      const handler: JobHandler = {
        kind,
        run: async () => {
          started++;
          await blocked;
        },
      };
      const clock = new ManualClock();
      const worker = new JobWorker({ db, clock, concurrency: 1, handlers: [handler] });
      await enqueueJobs(
        db,
        Array.from({ length: 3 }, (_, n) => ({ kind, accountId: null, payload: { n } })),
        clock.now(),
      );
      worker.start();
      await eventually(() => started === 1, "the first job runs");
      const stopping = worker.stop(5_000);
      release();
      await stopping;
      assert.equal(started, 1);
      const left = await jobsOf(db, kind);
      assert.equal(left.length, 2);
      assert.ok(
        left.every((j) => j.status === "queued" && j.attempts === 0),
        JSON.stringify(left),
      );
    });

    test("a job claimed ahead whose lease is half gone goes back to the queue and runs later with a fresh one", async () => {
      const kind = unique("stale-");
      const clock = new ManualClock();
      let release: () => void = () => {};
      const runs: { n: number; attempts: number }[] = [];
      const handler: JobHandler = {
        kind,
        run: async (job) => {
          runs.push({ n: (job.payload as { n: number }).n, attempts: job.attempts });
          if (runs.length === 1) {
            await new Promise<void>((resolve) => {
              release = resolve;
            });
          }
        },
      };
      const worker = new JobWorker({ db, clock, concurrency: 1, leaseMs: 10_000, handlers: [handler] });
      await enqueueJobs(
        db,
        Array.from({ length: 2 }, (_, n) => ({ kind, accountId: null, payload: { n } })),
        clock.now(),
      );
      worker.start();
      try {
        await eventually(() => runs.length === 1, "the first job runs");
        // The first job takes long: the second, claimed ahead, has less than half its lease left.
        clock.advance(6_000);
        release();
        await eventually(async () => (await jobsOf(db, kind)).length === 0, "both jobs are done");
      } finally {
        await worker.stop();
      }
      assert.deepEqual(runs, [
        { n: 0, attempts: 1 },
        { n: 1, attempts: 1 },
      ]);
    });
  });
}
