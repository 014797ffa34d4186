import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { newId } from "../../core/ids.ts";
import { type Database, sqlStateOf } from "../db.ts";
import { fixedNow, seedAccount, unique } from "../testFixtures.ts";
import { testDatabases } from "../testing.ts";
import { deleteUserPreference, listUserPreferences, putUserPreference } from "./userPreferences.ts";
import { deleteUser, insertUser } from "./users.ts";

async function seedUser(db: Database, accountId: string): Promise<string> {
  const id = newId();
  await insertUser(db, {
    id,
    accountId,
    email: `${unique("pref-")}@example.com`,
    displayName: null,
    role: "analyst",
    passwordHash: "scrypt$hash",
    metadataScope: {},
    agentId: null,
    createdAt: fixedNow,
    updatedAt: fixedNow,
    disabledAt: null,
  });
  return id;
}

for (const backend of testDatabases()) {
  describe(`user preferences repository on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("a preference reads back as stored, and saving it again replaces it", async () => {
      const account = await seedAccount(db);
      const userId = await seedUser(db, account.id);
      const first = { accountId: account.id, userId, key: "analysis_list_columns", value: ["created", "qa"] };
      assert.deepEqual(await putUserPreference(db, first, fixedNow), { ...first, updatedAt: fixedNow });
      const later = new Date(fixedNow.getTime() + 60_000);
      await putUserPreference(db, { ...first, value: ["meta:team"] }, later);
      assert.deepEqual(await listUserPreferences(db, account.id, userId), [
        { ...first, value: ["meta:team"], updatedAt: later },
      ]);
    });

    test("each user of each account has their own preferences", async () => {
      const a = await seedAccount(db);
      const b = await seedAccount(db);
      const ada = await seedUser(db, a.id);
      const sam = await seedUser(db, a.id);
      const key = "analysis_list_columns";
      await putUserPreference(db, { accountId: a.id, userId: ada, key, value: ["status"] }, fixedNow);
      assert.deepEqual(await listUserPreferences(db, a.id, sam), [], "another user of the account");
      assert.deepEqual(
        await listUserPreferences(db, b.id, ada),
        [],
        "the same user id under another account",
      );
      assert.equal(await deleteUserPreference(db, b.id, ada, key), false);
      assert.equal(await deleteUserPreference(db, a.id, sam, key), false);
      assert.equal((await listUserPreferences(db, a.id, ada)).length, 1, "deletes of others touched nothing");
    });

    test("delete forgets the value; deleting the user forgets all of theirs", async () => {
      const account = await seedAccount(db);
      const userId = await seedUser(db, account.id);
      const key = "analysis_list_columns";
      await putUserPreference(db, { accountId: account.id, userId, key, value: ["ai"] }, fixedNow);
      assert.equal(await deleteUserPreference(db, account.id, userId, key), true);
      assert.deepEqual(await listUserPreferences(db, account.id, userId), []);
      await putUserPreference(db, { accountId: account.id, userId, key, value: ["ai"] }, fixedNow);
      await deleteUser(db, account.id, userId);
      assert.deepEqual(await listUserPreferences(db, account.id, userId), []);
    });

    test("a runaway value is refused by the database even if the API let it through", async () => {
      const account = await seedAccount(db);
      const userId = await seedUser(db, account.id);
      const huge = {
        accountId: account.id,
        userId,
        key: "analysis_list_columns",
        value: ["x".repeat(20_000)],
      };
      await assert.rejects(putUserPreference(db, huge, fixedNow), (error) => {
        assert.equal(sqlStateOf(error), "23514");
        return true;
      });
    });
  });
}
