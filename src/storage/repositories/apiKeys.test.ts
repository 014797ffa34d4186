import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isAppError } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import { type Database, sqlStateOf } from "../db.ts";
import { fixedNow, seedAccount, unique } from "../testFixtures.ts";
import { testDatabases } from "../testing.ts";
import {
  type ApiKeyRecord,
  findApiKeyByPrefix,
  getApiKey,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
  touchApiKey,
} from "./apiKeys.ts";

function key(
  accountId: string,
  changes: Partial<ApiKeyRecord> = {},
): Omit<ApiKeyRecord, "revokedAt" | "lastUsedAt"> {
  return {
    id: newId(),
    accountId,
    name: "integration",
    prefix: unique("cqa_"),
    secretHash: unique("hash-"),
    role: "admin",
    createdAt: fixedNow,
    ...changes,
  };
}

for (const backend of testDatabases()) {
  describe(`API keys repository on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("a key is found by its prefix and read back without being revoked or used", async () => {
      const account = await seedAccount(db);
      const stored = key(account.id, { role: "analyst" });
      await insertApiKey(db, stored);
      const expected = { ...stored, revokedAt: null, lastUsedAt: null };
      assert.deepEqual(await findApiKeyByPrefix(db, stored.prefix), expected);
      assert.deepEqual(await getApiKey(db, account.id, stored.id), expected);
      assert.equal(await findApiKeyByPrefix(db, "cqa_missing"), null);
    });

    test("another account's key is invisible: get, list and revoke stay inside the account", async () => {
      const a = await seedAccount(db);
      const b = await seedAccount(db);
      const mine = key(a.id);
      const theirs = key(b.id);
      await insertApiKey(db, mine);
      await insertApiKey(db, theirs);
      assert.equal(await getApiKey(db, a.id, theirs.id), null);
      assert.deepEqual(
        (await listApiKeys(db, a.id)).map((k) => k.id),
        [mine.id],
      );
      assert.equal(await revokeApiKey(db, a.id, theirs.id, fixedNow), false);
      assert.equal((await getApiKey(db, b.id, theirs.id))?.revokedAt, null, "not revoked by a stranger");
    });

    test("revoking twice keeps the first revocation time; use is stamped", async () => {
      const account = await seedAccount(db);
      const stored = key(account.id);
      await insertApiKey(db, stored);
      const first = new Date(fixedNow.getTime() + 1_000);
      assert.equal(await revokeApiKey(db, account.id, stored.id, first), true);
      assert.equal(await revokeApiKey(db, account.id, stored.id, new Date(fixedNow.getTime() + 9_000)), true);
      await touchApiKey(db, stored.id, first);
      const read = await getApiKey(db, account.id, stored.id);
      assert.deepEqual(read?.revokedAt, first);
      assert.deepEqual(read?.lastUsedAt, first);
    });

    test("a reused prefix is refused with a storage error that names the statement and the SQL state", async () => {
      const account = await seedAccount(db);
      const stored = key(account.id);
      await insertApiKey(db, stored);
      await assert.rejects(insertApiKey(db, { ...stored, id: newId() }), (error: unknown) => {
        assert.ok(isAppError(error));
        assert.equal(error.code, "STORAGE_ERROR");
        assert.match(error.message, /INSERT INTO api_keys/);
        assert.equal(sqlStateOf(error), "23505");
        return true;
      });
    });
  });
}
