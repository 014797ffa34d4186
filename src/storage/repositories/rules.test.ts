import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { newId } from "../../core/ids.ts";
import type { Database } from "../db.ts";
import { fixedNow, seedAccount, seedProfile } from "../testFixtures.ts";
import { testDatabases } from "../testing.ts";
import { deleteRule, getRule, insertRule, listRules, type RuleRecord, updateRule } from "./rules.ts";

function rule(accountId: string, profileIds: string[], changes: Partial<RuleRecord> = {}): RuleRecord {
  return {
    id: newId(),
    accountId,
    name: "Long calls",
    priority: 10,
    enabled: true,
    conditions: {
      all: [
        { field: "duration_seconds", operator: "gt", value: 120 },
        { any: [{ field: "metadata.region", operator: "in", value: ["north", "east"] }] },
      ],
    },
    profileIds,
    samplingPercent: 25,
    stopOnMatch: false,
    reviewer: { team: "blue" },
    createdAt: fixedNow,
    updatedAt: fixedNow,
    ...changes,
  };
}

for (const backend of testDatabases()) {
  describe(`assignment rules repository on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("a rule reads back exactly as stored, conditions and reviewer included", async () => {
      const account = await seedAccount(db);
      const profileId = await seedProfile(db, account.id);
      const stored = rule(account.id, [profileId]);
      await insertRule(db, stored);
      assert.deepEqual(await getRule(db, account.id, stored.id), stored);
      const plain = rule(account.id, [profileId], { reviewer: null, conditions: { all: [] } });
      await insertRule(db, plain);
      assert.deepEqual(await getRule(db, account.id, plain.id), plain);
    });

    test("rules are listed in evaluation order (priority, then id), per account", async () => {
      const a = await seedAccount(db);
      const b = await seedAccount(db);
      const profileId = await seedProfile(db, a.id);
      const low = rule(a.id, [profileId], { priority: 1000, name: "catch-all" });
      const high = rule(a.id, [profileId], { priority: 1, name: "VIP" });
      const tieFirst = rule(a.id, [profileId], { priority: 50, name: "tie 1" });
      const tieSecond = rule(a.id, [profileId], { priority: 50, name: "tie 2" });
      for (const r of [low, tieSecond, high, tieFirst]) await insertRule(db, r);
      await insertRule(db, rule(b.id, [], { priority: 0, name: "theirs" }));
      assert.deepEqual(
        (await listRules(db, a.id)).map((r) => r.name),
        ["VIP", "tie 1", "tie 2", "catch-all"],
      );
    });

    test("update replaces the settings but keeps id and creation time; other accounts cannot touch it", async () => {
      const a = await seedAccount(db);
      const b = await seedAccount(db);
      const profileId = await seedProfile(db, a.id);
      const stored = rule(a.id, [profileId]);
      await insertRule(db, stored);
      const later = new Date(fixedNow.getTime() + 1_000);
      const changed: RuleRecord = {
        ...stored,
        name: "Renamed",
        enabled: false,
        samplingPercent: 100,
        profileIds: [],
        createdAt: later,
        updatedAt: later,
      };
      assert.equal(await updateRule(db, { ...changed, accountId: b.id }), false);
      assert.deepEqual(await getRule(db, a.id, stored.id), stored, "untouched by another account");
      assert.equal(await updateRule(db, changed), true);
      assert.deepEqual(await getRule(db, a.id, stored.id), { ...changed, createdAt: fixedNow });
      assert.equal(await getRule(db, b.id, stored.id), null);
      assert.equal(await deleteRule(db, b.id, stored.id), false);
      assert.equal(await deleteRule(db, a.id, stored.id), true);
      assert.equal(await getRule(db, a.id, stored.id), null);
    });
  });
}
