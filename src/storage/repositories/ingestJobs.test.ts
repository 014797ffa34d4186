import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { newId } from "../../core/ids.ts";
import type { Database } from "../db.ts";
import { fixedNow, seedAccount } from "../testFixtures.ts";
import { testDatabases } from "../testing.ts";
import {
  addIngestJobErrors,
  countActiveFileJobs,
  getIngestJob,
  type IngestJobRecord,
  insertIngestJob,
  listIngestJobErrors,
  lockIngestJob,
  updateIngestJob,
} from "./ingestJobs.ts";

const at = (s: number) => new Date(fixedNow.getTime() + s * 1000);

for (const backend of testDatabases()) {
  describe(`ingest jobs repository on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    const newJob = (accountId: string, changes: Partial<IngestJobRecord> = {}) => ({
      id: newId(),
      accountId,
      type: "file" as const,
      status: "pending" as const,
      request: { file_url: "https://files.example/calls.csv" },
      callbackUrl: "https://crm.example/hook",
      totalRows: 0,
      accepted: 0,
      rejected: 0,
      createdAt: fixedNow,
      ...changes,
    });

    test("a job reads back in its own account only", async () => {
      const account = await seedAccount(db);
      const stranger = await seedAccount(db);
      const job = newJob(account.id);
      await insertIngestJob(db, job);
      const expected: IngestJobRecord = {
        ...job,
        rowsCheckpoint: 0,
        errorMessage: null,
        startedAt: null,
        completedAt: null,
        updatedAt: fixedNow,
      };
      assert.deepEqual(await getIngestJob(db, account.id, job.id), expected);
      assert.equal(await getIngestJob(db, stranger.id, job.id), null);
      assert.deepEqual(await db.transaction((tx) => lockIngestJob(tx, job.id)), expected);
    });

    test("progress adds up counts, moves the checkpoint, and keeps the first start time", async () => {
      const account = await seedAccount(db);
      const job = newJob(account.id);
      await insertIngestJob(db, job);
      await updateIngestJob(db, job.id, { status: "processing", startedAt: at(1), totalRows: 250 }, at(1));
      await updateIngestJob(db, job.id, { acceptedDelta: 90, rejectedDelta: 10, rowsCheckpoint: 100 }, at(2));
      await updateIngestJob(
        db,
        job.id,
        {
          acceptedDelta: 140,
          rejectedDelta: 10,
          rowsCheckpoint: 250,
          startedAt: at(3),
          errorMessage: "row 7: bad",
        },
        at(3),
      );
      let read = await getIngestJob(db, account.id, job.id);
      assert.equal(read?.status, "processing");
      assert.equal(read?.totalRows, 250);
      assert.equal(read?.accepted, 230);
      assert.equal(read?.rejected, 20);
      assert.equal(read?.rowsCheckpoint, 250);
      assert.equal(read?.errorMessage, "row 7: bad");
      assert.deepEqual(read?.startedAt, at(1), "a resumed job keeps its first start");
      await updateIngestJob(
        db,
        job.id,
        { status: "completed", completedAt: at(4), errorMessage: null },
        at(4),
      );
      read = await getIngestJob(db, account.id, job.id);
      assert.equal(read?.status, "completed");
      assert.equal(read?.errorMessage, null);
      assert.deepEqual(read?.completedAt, at(4));
      assert.deepEqual(read?.updatedAt, at(4));
      assert.equal(read?.accepted, 230, "counts unchanged when no delta is given");
    });

    test("active file jobs are counted per account; batches and finished jobs do not count", async () => {
      const account = await seedAccount(db);
      const stranger = await seedAccount(db);
      await insertIngestJob(db, newJob(account.id));
      await insertIngestJob(db, newJob(account.id, { status: "processing" }));
      await insertIngestJob(db, newJob(account.id, { status: "completed" }));
      await insertIngestJob(db, newJob(account.id, { type: "batch" }));
      await insertIngestJob(db, newJob(stranger.id));
      assert.equal(await countActiveFileJobs(db, account.id), 2);
    });

    test("row errors are kept once per line, listed in line order", async () => {
      const account = await seedAccount(db);
      const job = newJob(account.id);
      await insertIngestJob(db, job);
      await addIngestJobErrors(db, job.id, [
        { line: 9, externalInteractionId: "c-9", reason: "channel_type must not be empty" },
        { line: 2, externalInteractionId: null, reason: "external_interaction_id is required" },
      ]);
      // A resumed job reports line 9 again: the first reason stays.
      await addIngestJobErrors(db, job.id, [{ line: 9, externalInteractionId: "c-9", reason: "again" }]);
      await addIngestJobErrors(db, job.id, []);
      assert.deepEqual(await listIngestJobErrors(db, job.id, 10), [
        { line: 2, externalInteractionId: null, reason: "external_interaction_id is required" },
        { line: 9, externalInteractionId: "c-9", reason: "channel_type must not be empty" },
      ]);
      assert.equal((await listIngestJobErrors(db, job.id, 1)).length, 1);
    });
  });
}
