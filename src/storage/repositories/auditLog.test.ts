import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Database } from "../db.ts";
import { fixedNow, seedAccount } from "../testFixtures.ts";
import { testDatabases } from "../testing.ts";
import { audit, listAudit } from "./auditLog.ts";

for (const backend of testDatabases()) {
  describe(`audit log repository on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("entries are listed newest first, per account, filtered by target, a page at a time", async () => {
      const a = await seedAccount(db);
      const b = await seedAccount(db);
      const at = (s: number) => new Date(fixedNow.getTime() + s * 1000);
      await audit(db, {
        accountId: a.id,
        actor: "user:1",
        action: "profile.create",
        target: "profile:1",
        at: at(1),
      });
      await audit(db, {
        accountId: a.id,
        actor: "user:2",
        action: "rule.update",
        target: "rule:9",
        details: { priority: [10, 5] },
        at: at(2),
      });
      await audit(db, {
        accountId: a.id,
        actor: "user:1",
        action: "profile.update",
        target: "profile:1",
        at: at(3),
      });
      await audit(db, {
        accountId: b.id,
        actor: "user:3",
        action: "profile.create",
        target: "profile:1",
        at: at(4),
      });

      const all = await listAudit(db, a.id, { limit: 10, offset: 0 });
      assert.deepEqual(
        all.map((e) => e.action),
        ["profile.update", "rule.update", "profile.create"],
      );
      assert.deepEqual(all[1]?.details, { priority: [10, 5] });
      assert.deepEqual(all[2]?.details, {}, "details default to an empty object");
      assert.equal(all[1]?.actor, "user:2");
      assert.deepEqual(all[0]?.createdAt, at(3));
      assert.deepEqual(
        (await listAudit(db, a.id, { target: "profile:1", limit: 10, offset: 0 })).map((e) => e.action),
        ["profile.update", "profile.create"],
        "another account's entry on the same target is not included",
      );
      assert.deepEqual(
        (await listAudit(db, a.id, { limit: 1, offset: 1 })).map((e) => e.action),
        ["rule.update"],
      );
    });
  });
}
