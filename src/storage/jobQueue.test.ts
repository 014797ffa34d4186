import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import type { Database } from "./db.ts";
import {
  buryJob,
  type ClaimedJob,
  claimJobs,
  completeJob,
  enqueueJobs,
  extendLease,
  queueDepth,
  releaseJobs,
  requeueOrphanedJobs,
  rescheduleJob,
} from "./jobQueue.ts";
import { fixedNow, unique } from "./testFixtures.ts";
import { testDatabases } from "./testing.ts";

const at = (ms: number) => new Date(fixedNow.getTime() + ms);

async function jobRow(db: Database, id: number) {
  const result = await db.query<{
    status: string;
    attempts: number;
    locked_by: string | null;
    last_error: string | null;
    dedupe_key: string | null;
    run_at: Date;
  }>("SELECT status, attempts, locked_by, last_error, dedupe_key, run_at FROM jobs WHERE id = $1", [id]);
  return result.rows[0] ?? null;
}

for (const backend of testDatabases()) {
  describe(`job queue on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });
    // Every test uses its own job kind and claims only that kind, so tests never see each other's jobs.
    const claim = (kind: string, workerId: string, now: Date, limit = 10, leaseMs = 60_000) =>
      claimJobs(db, { workerId, limit, leaseMs, now, kinds: [kind] });

    test("a dedupe key admits one queued job; a finished or buried job frees the key", async () => {
      const kind = unique("dedupe-");
      const key = unique("key-");
      const spec = { kind, accountId: null, payload: { n: 1 }, dedupeKey: key };
      assert.equal(await enqueueJobs(db, [spec], fixedNow), 1);
      assert.equal(await enqueueJobs(db, [{ ...spec, payload: { n: 2 } }], fixedNow), 0);
      // Within one call too: the second of two with the same key is skipped.
      assert.equal(
        await enqueueJobs(
          db,
          [
            { kind, accountId: null, payload: {}, dedupeKey: `${key}-b` },
            { kind, accountId: null, payload: {}, dedupeKey: `${key}-b` },
          ],
          fixedNow,
        ),
        1,
      );

      const [first, second] = await claim(kind, "w1", fixedNow);
      assert.ok(first && second);
      assert.deepEqual(first.payload, { n: 1 }, "the first job keeps its payload");
      // Running still holds the key.
      assert.equal(await enqueueJobs(db, [spec], fixedNow), 0);
      assert.equal(await completeJob(db, first.id, "w1"), true);
      assert.equal(await enqueueJobs(db, [spec], fixedNow), 1, "a completed job frees its key");

      await buryJob(db, second.id, "w1", "poison", fixedNow);
      assert.equal(
        await enqueueJobs(db, [{ kind, accountId: null, payload: {}, dedupeKey: `${key}-b` }], fixedNow),
        1,
        "a dead job frees its key",
      );
      // Jobs without a key never collide.
      assert.equal(
        await enqueueJobs(
          db,
          [
            { kind, accountId: null, payload: {} },
            { kind, accountId: null, payload: {} },
          ],
          fixedNow,
        ),
        2,
      );
    });

    test("claims only due jobs of the asked kinds, oldest first, counting the attempt", async () => {
      const kind = unique("due-");
      const other = unique("other-");
      await enqueueJobs(
        db,
        [
          { kind, accountId: null, payload: { name: "later" }, runAt: at(5_000) },
          { kind, accountId: null, payload: { name: "second" }, runAt: at(-1_000) },
          { kind, accountId: null, payload: { name: "first" }, runAt: at(-2_000), maxAttempts: 3 },
          { kind: other, accountId: null, payload: { name: "other kind" } },
        ],
        fixedNow,
      );
      const claimed = await claim(kind, "w1", fixedNow);
      assert.deepEqual(
        claimed.map((j) => j.payload),
        [{ name: "first" }, { name: "second" }],
      );
      assert.equal(claimed[0]!.attempts, 1);
      assert.equal(claimed[0]!.maxAttempts, 3);
      assert.equal(claimed[0]!.kind, kind);
      assert.deepEqual(await claim(kind, "w2", fixedNow), [], "leased jobs are not handed out again");
      const later = await claim(kind, "w2", at(5_000));
      assert.deepEqual(
        later.map((j) => j.payload),
        [{ name: "later" }],
      );
      assert.deepEqual(await claimJobs(db, { workerId: "w1", limit: 0, leaseMs: 1000, now: fixedNow }), []);
    });

    test("several claimers at once never get the same job, and together get every job", async () => {
      const kind = unique("parallel-");
      const total = 240;
      await enqueueJobs(
        db,
        Array.from({ length: total }, (_, n) => ({ kind, accountId: null, payload: { n } })),
        fixedNow,
      );
      const seen: ClaimedJob[][] = [];
      // Each claimer holds its claim's row locks for a moment before committing, so the others
      // must skip past locked rows rather than run one after another.
      const claimer = async (worker: string) => {
        const mine: ClaimedJob[] = [];
        for (;;) {
          const jobs = await db.transaction(async (tx) => {
            const got = await claimJobs(tx, {
              workerId: worker,
              limit: 7,
              leaseMs: 60_000,
              now: fixedNow,
              kinds: [kind],
            });
            await delay(2);
            return got;
          });
          if (jobs.length === 0) break;
          mine.push(...jobs);
        }
        seen.push(mine);
      };
      await Promise.all(["a", "b", "c", "d", "e"].map((w) => claimer(`claimer-${w}`)));
      const ids = seen.flat().map((j) => j.id);
      assert.equal(ids.length, total, "every job claimed exactly once");
      assert.equal(new Set(ids).size, total, "no job handed to two claimers");
      assert.ok(seen.every((jobs) => jobs.every((j) => j.attempts === 1)));
      if (backend.name === "postgres") {
        assert.ok(seen.filter((jobs) => jobs.length > 0).length > 1, "the work was shared between claimers");
      }
    });

    test("a job whose lease ran out is claimable again, with the attempt counted; the old holder cannot finish it", async () => {
      const kind = unique("lease-");
      await enqueueJobs(db, [{ kind, accountId: null, payload: {} }], fixedNow);
      const [job] = await claim(kind, "dead-worker", fixedNow, 10, 1_000);
      assert.ok(job);
      assert.deepEqual(await claim(kind, "w2", at(999)), [], "not while the lease holds");
      const [again] = await claim(kind, "w2", at(1_001));
      assert.equal(again?.id, job.id);
      assert.equal(again?.attempts, 2);
      assert.equal(await completeJob(db, job.id, "dead-worker"), false, "the old lease holder lost it");
      assert.equal((await jobRow(db, job.id))?.locked_by, "w2");
      assert.equal(await completeJob(db, job.id, "w2"), true);
      assert.equal(await jobRow(db, job.id), null, "a completed job is gone");
    });

    test("extending a lease keeps the job from others; only the holder can extend", async () => {
      const kind = unique("extend-");
      await enqueueJobs(db, [{ kind, accountId: null, payload: {} }], fixedNow);
      const [job] = await claim(kind, "w1", fixedNow, 10, 1_000);
      assert.ok(job);
      assert.equal(await extendLease(db, job.id, "w1", at(10_000)), true);
      assert.equal(await extendLease(db, job.id, "intruder", at(20_000)), false);
      assert.deepEqual(await claim(kind, "w2", at(5_000)), []);
      assert.equal((await claim(kind, "w2", at(10_001)))[0]?.id, job.id);
    });

    test("reschedule puts the job back for later with its error; bury makes it dead and unclaimable", async () => {
      const kind = unique("retry-");
      await enqueueJobs(db, [{ kind, accountId: null, payload: {}, maxAttempts: 2 }], fixedNow);
      const [job] = await claim(kind, "w1", fixedNow);
      assert.ok(job);
      await rescheduleJob(db, job.id, "someone-else", at(1), "not mine", fixedNow);
      assert.equal((await jobRow(db, job.id))?.status, "running", "only the holder can reschedule");

      await rescheduleJob(db, job.id, "w1", at(30_000), "peer answered 503", fixedNow);
      const queued = await jobRow(db, job.id);
      assert.equal(queued?.status, "queued");
      assert.equal(queued?.last_error, "peer answered 503");
      assert.equal(queued?.locked_by, null);
      assert.deepEqual(await claim(kind, "w2", at(29_999)), [], "not before its time");
      const [second] = await claim(kind, "w2", at(30_000));
      assert.equal(second?.attempts, 2);
      assert.equal(second?.maxAttempts, 2);

      await buryJob(db, job.id, "w2", "gave up after 2 attempts", at(30_000));
      const dead = await jobRow(db, job.id);
      assert.equal(dead?.status, "dead");
      assert.equal(dead?.last_error, "gave up after 2 attempts");
      assert.deepEqual(await claim(kind, "w3", at(10_000_000)), [], "a dead job never runs again");
    });

    test("release hands a worker's running jobs back at once without counting the attempt", async () => {
      const kind = unique("release-");
      await enqueueJobs(
        db,
        Array.from({ length: 3 }, (_, n) => ({ kind, accountId: null, payload: { n } })),
        fixedNow,
      );
      const mine = await claim(kind, "stopping", fixedNow, 2);
      const theirs = await claim(kind, "other", fixedNow, 1);
      assert.equal(mine.length, 2);
      assert.equal(theirs.length, 1);
      assert.equal(await releaseJobs(db, "stopping", at(100)), 2);
      const back = await claim(kind, "next", at(100));
      assert.deepEqual(back.map((j) => j.id).sort(), mine.map((j) => j.id).sort());
      assert.ok(
        back.every((j) => j.attempts === 1),
        "the released attempt is not counted",
      );
      assert.equal((await jobRow(db, theirs[0]!.id))?.locked_by, "other", "other workers' jobs stay theirs");
    });

    test("a worker hands back only the jobs it claimed ahead and never started", async () => {
      const kind = unique("hand-back-");
      await enqueueJobs(
        db,
        Array.from({ length: 3 }, (_, n) => ({ kind, accountId: null, payload: { n }, runAt: at(-n) })),
        fixedNow,
      );
      const [running, waiting, other] = await claim(kind, "prefetching", fixedNow, 3);
      assert.ok(running && waiting && other);
      assert.equal(await releaseJobs(db, "prefetching", at(5), [waiting.id, other.id]), 2);
      assert.equal(
        await releaseJobs(db, "someone-else", at(5), [running.id]),
        0,
        "only the holder hands back",
      );
      assert.equal((await jobRow(db, running.id))?.locked_by, "prefetching", "the running job stays held");
      const again = await claim(kind, "next", at(5));
      assert.deepEqual(again.map((j) => j.id).sort(), [waiting.id, other.id].sort());
      assert.ok(
        again.every((j) => j.attempts === 1),
        "a job handed back unstarted has no attempt counted",
      );
    });

    test("jobs whose lease ran out and queued jobs are claimed together, oldest first", async () => {
      const kind = unique("long-queue-");
      await enqueueJobs(
        db,
        Array.from({ length: 2_000 }, (_, n) => ({ kind, accountId: null, payload: { n }, runAt: at(-n) })),
        fixedNow,
      );
      const [expired] = await claim(kind, "dies", fixedNow, 1, 1_000);
      // Once the lease has run out, the oldest due job is the one whose worker died.
      const [first, second] = await claim(kind, "w", at(2_000), 2);
      assert.equal(first?.id, expired?.id);
      assert.equal(first?.attempts, 2);
      assert.deepEqual(second?.payload, { n: 1_998 });
    });

    test("after a crash, jobs the dead process held are due again at once, the interrupted attempt counted", async () => {
      const kind = unique("orphan-");
      await enqueueJobs(
        db,
        Array.from({ length: 3 }, (_, n) => ({ kind, accountId: null, payload: { n }, runAt: at(-n) })),
        fixedNow,
      );
      const held = await claim(kind, "killed-process", fixedNow, 2, 300_000);
      assert.equal(held.length, 2);
      assert.ok((await requeueOrphanedJobs(db, at(10))) >= 2);
      const again = await claim(kind, "restarted", at(10));
      assert.equal(again.length, 3, "no waiting for the dead process's leases to run out");
      const attempts = new Map(again.map((j) => [j.id, j.attempts]));
      for (const job of held) assert.equal(attempts.get(job.id), 2, "the interrupted attempt stays counted");
      assert.equal(await completeJob(db, held[0]!.id, "killed-process"), false);
    });

    test("queue depth counts jobs by kind and status", async () => {
      const kind = unique("depth-");
      await enqueueJobs(
        db,
        Array.from({ length: 3 }, () => ({ kind, accountId: null, payload: {} })),
        fixedNow,
      );
      await claim(kind, "w1", fixedNow, 1);
      const depth = (await queueDepth(db)).filter((d) => d.kind === kind);
      assert.deepEqual(depth, [
        { kind, status: "queued", count: 2 },
        { kind, status: "running", count: 1 },
      ]);
    });
  });
}
