import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Database } from "../db.ts";
import { seedAccount } from "../testFixtures.ts";
import { testDatabases } from "../testing.ts";
import { addUsage, getUsage, lockUsage } from "./usage.ts";

for (const backend of testDatabases()) {
  describe(`conversation usage repository on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("usage is counted per account, period and period start", async () => {
      const a = await seedAccount(db);
      const b = await seedAccount(db);
      assert.equal(await getUsage(db, a.id, "month", "2026-03-01"), 0, "nothing used yet");
      await db.transaction(async (tx) => {
        assert.equal(await lockUsage(tx, a.id, "month", "2026-03-01"), 0);
        await addUsage(tx, a.id, "month", "2026-03-01", 7);
        await addUsage(tx, a.id, "month", "2026-03-01", 0);
      });
      await db.transaction(async (tx) => {
        assert.equal(await lockUsage(tx, a.id, "month", "2026-03-01"), 7);
        await addUsage(tx, a.id, "month", "2026-03-01", 3);
        await lockUsage(tx, a.id, "day", "2026-03-01");
        await addUsage(tx, a.id, "day", "2026-03-01", 1);
      });
      assert.equal(await getUsage(db, a.id, "month", "2026-03-01"), 10);
      assert.equal(await getUsage(db, a.id, "day", "2026-03-01"), 1);
      assert.equal(await getUsage(db, a.id, "month", "2026-04-01"), 0, "a new month starts at zero");
      assert.equal(await getUsage(db, b.id, "month", "2026-03-01"), 0, "another account's usage is its own");
    });

    test("a second transaction waits for the counter lock and then sees what the first added", async () => {
      const account = await seedAccount(db);
      let releaseFirst!: () => void;
      const firstMayCommit = new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
      let firstLocked!: () => void;
      const locked = new Promise<void>((resolve) => {
        firstLocked = resolve;
      });
      const first = db.transaction(async (tx) => {
        await lockUsage(tx, account.id, "day", "2026-03-02");
        firstLocked();
        await firstMayCommit;
        await addUsage(tx, account.id, "day", "2026-03-02", 4);
      });
      await locked;
      let secondSaw: number | null = null;
      const second = db.transaction(async (tx) => {
        secondSaw = await lockUsage(tx, account.id, "day", "2026-03-02");
        await addUsage(tx, account.id, "day", "2026-03-02", 1);
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(secondSaw, null, "the second transaction is still waiting for the lock");
      releaseFirst();
      await Promise.all([first, second]);
      assert.equal(secondSaw, 4);
      assert.equal(await getUsage(db, account.id, "day", "2026-03-02"), 5);
    });
  });
}
