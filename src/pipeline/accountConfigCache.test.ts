import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { defaultAnalysisSettings } from "../core/analysisSettings.ts";
import { newId } from "../core/ids.ts";
import type { Database, Queryable, QueryResult } from "../storage/db.ts";
import { getAccountConfigVersion, updateAccount } from "../storage/repositories/accounts.ts";
import { saveAnalysisSettings } from "../storage/repositories/analysisSettings.ts";
import { addProfileVersion, setProfileArchived } from "../storage/repositories/profiles.ts";
import { deleteRule, insertRule, type RuleRecord, updateRule } from "../storage/repositories/rules.ts";
import { fixedNow, profileDefinition, seedAccount, seedProfile } from "../storage/testFixtures.ts";
import { testDatabases } from "../storage/testing.ts";
import { AccountConfigCache } from "./accountConfigCache.ts";

function catchAll(accountId: string, profileIds: string[]): RuleRecord {
  return {
    id: newId(),
    accountId,
    name: "Everything",
    priority: 100,
    enabled: true,
    conditions: { all: [] },
    profileIds,
    samplingPercent: 100,
    stopOnMatch: false,
    reviewer: null,
    createdAt: fixedNow,
    updatedAt: fixedNow,
  };
}

/** The database, counting the statements run through it. */
function counted(db: Database): { q: Queryable; statements: () => number } {
  let statements = 0;
  return {
    q: {
      query<Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
        statements++;
        return db.query<Row>(sql, params);
      },
      exec: (sql) => db.exec(sql),
    },
    statements: () => statements,
  };
}

for (const backend of testDatabases()) {
  describe(`account configuration cache on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("every change the pipeline reads moves the account's configuration version", async () => {
      const account = await seedAccount(db);
      const other = await seedAccount(db);
      let seen = (await getAccountConfigVersion(db, account.id))!;
      const moved = async (what: string) => {
        const now = (await getAccountConfigVersion(db, account.id))!;
        assert.ok(now > seen, `${what} moves the version (was ${seen}, is ${now})`);
        seen = now;
      };
      const profileId = await seedProfile(db, account.id);
      await moved("a new profile");
      await addProfileVersion(db, account.id, profileId, profileDefinition("Edited"), "qa", fixedNow);
      await moved("a new profile version");
      await setProfileArchived(db, account.id, profileId, fixedNow, fixedNow);
      await moved("archiving a profile");
      const rule = catchAll(account.id, [profileId]);
      await insertRule(db, rule);
      await moved("a new rule");
      await updateRule(db, { ...rule, samplingPercent: 50 });
      await moved("a rule edit");
      await deleteRule(db, account.id, rule.id);
      await moved("deleting a rule");
      await saveAnalysisSettings(db, account.id, { ...defaultAnalysisSettings, redactPii: false }, fixedNow);
      await moved("analysis settings");
      await updateAccount(db, account.id, { webhooksEnabled: false }, fixedNow);
      await moved("the webhook flag");
      assert.equal(await getAccountConfigVersion(db, other.id), 0, "other accounts' versions stay put");
    });

    test("the configuration is read once per version: no queries while nothing changes, fresh after a change", async () => {
      const account = await seedAccount(db);
      const profileId = await seedProfile(db, account.id, "Starter");
      await insertRule(db, catchAll(account.id, [profileId]));
      const cache = new AccountConfigCache();
      const { q, statements } = counted(db);

      const version = (await getAccountConfigVersion(db, account.id))!;
      const first = await cache.get(q, account.id, version);
      assert.equal(first.rules.length, 1);
      assert.equal(first.profiles.get(profileId)?.name, "Starter");
      assert.equal(first.webhooksEnabled, true);
      const afterFirst = statements();
      assert.equal(await cache.get(q, account.id, version), first);
      assert.equal(statements(), afterFirst, "the same version is served from memory");

      await addProfileVersion(db, account.id, profileId, profileDefinition("Starter v2"), "qa", fixedNow);
      await updateAccount(db, account.id, { webhooksEnabled: false }, fixedNow);
      const changed = await cache.get(q, account.id, (await getAccountConfigVersion(db, account.id))!);
      assert.ok(statements() > afterFirst, "a moved version is read again");
      assert.equal(changed.profiles.get(profileId)?.version, 2);
      assert.equal(changed.profiles.get(profileId)?.name, "Starter v2");
      assert.equal(changed.webhooksEnabled, false);

      await setProfileArchived(db, account.id, profileId, fixedNow, fixedNow);
      const archived = await cache.get(q, account.id, (await getAccountConfigVersion(db, account.id))!);
      assert.equal(archived.profiles.has(profileId), false, "archived profiles are not offered for routing");
    });

    test("beyond its capacity the least recently used account is read again", async () => {
      const cache = new AccountConfigCache(2);
      const { q, statements } = counted(db);
      const [a, b, c] = [await seedAccount(db), await seedAccount(db), await seedAccount(db)];
      await cache.get(q, a.id, 0);
      await cache.get(q, b.id, 0);
      await cache.get(q, a.id, 0);
      await cache.get(q, c.id, 0);
      const before = statements();
      await cache.get(q, a.id, 0);
      assert.equal(statements(), before, "a, used recently, is kept");
      await cache.get(q, b.id, 0);
      assert.ok(statements() > before, "b, the least recently used, was dropped");
    });
  });
}
