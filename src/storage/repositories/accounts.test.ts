import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { newId } from "../../core/ids.ts";
import type { Database } from "../db.ts";
import { fixedNow, seedAccount } from "../testFixtures.ts";
import { testDatabases } from "../testing.ts";
import { type AccountRecord, getAccount, insertAccount, listAccounts, updateAccount } from "./accounts.ts";

for (const backend of testDatabases()) {
  describe(`accounts repository on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("an account reads back as stored, limits and embed origins included", async () => {
      const account: AccountRecord = {
        id: newId(),
        name: "North contact centre",
        timezone: "Asia/Kolkata",
        webhooksEnabled: false,
        limits: { batch_max_items: 50, conversation_cap: { period: "week", limit: 1000 } },
        embedOrigins: ["https://crm.example"],
        webhookSigningKeyId: null,
        createdAt: fixedNow,
        updatedAt: fixedNow,
      };
      await insertAccount(db, account);
      assert.deepEqual(await getAccount(db, account.id), account);
      assert.equal(await getAccount(db, newId()), null);
    });

    test("an update changes only the fields given; the signing key can be set and cleared", async () => {
      const account = await seedAccount(db, { limits: { batch_max_items: 10 } });
      const later = new Date(fixedNow.getTime() + 60_000);
      const keyId = newId();
      const renamed = await updateAccount(
        db,
        account.id,
        { name: "Renamed", webhookSigningKeyId: keyId },
        later,
      );
      assert.deepEqual(renamed, {
        ...account,
        name: "Renamed",
        webhookSigningKeyId: keyId,
        updatedAt: later,
      });
      const untouched = await updateAccount(db, account.id, { webhooksEnabled: false }, later);
      assert.equal(untouched?.webhookSigningKeyId, keyId, "an absent signing key leaves it as it was");
      assert.deepEqual(untouched?.limits, { batch_max_items: 10 });
      const cleared = await updateAccount(db, account.id, { webhookSigningKeyId: null, limits: {} }, later);
      assert.equal(cleared?.webhookSigningKeyId, null);
      assert.deepEqual(cleared?.limits, {});
      assert.equal(cleared?.webhooksEnabled, false);
      assert.equal(await updateAccount(db, newId(), { name: "ghost" }, later), null);
    });

    test("accounts are listed oldest first, a page at a time", async () => {
      const base = new Date("2020-01-01T00:00:00Z").getTime();
      const made: AccountRecord[] = [];
      for (let i = 0; i < 3; i++) {
        made.push(await seedAccount(db, { createdAt: new Date(base + i * 1000) }));
      }
      const firstPage = await listAccounts(db, 2, 0);
      assert.deepEqual(
        firstPage.map((a) => a.id),
        [made[0]!.id, made[1]!.id],
      );
      assert.equal((await listAccounts(db, 1, 2))[0]?.id, made[2]!.id);
    });
  });
}
