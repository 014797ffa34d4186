import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { newId } from "../../core/ids.ts";
import type { Database } from "../db.ts";
import { fixedNow, profileDefinition, seedAccount, seedProfile } from "../testFixtures.ts";
import { testDatabases } from "../testing.ts";
import {
  addProfileVersion,
  existingProfileIds,
  getProfile,
  insertProfile,
  listProfiles,
  listProfileVersions,
  setProfileArchived,
} from "./profiles.ts";

const later = new Date(fixedNow.getTime() + 60_000);

for (const backend of testDatabases()) {
  describe(`quality profiles repository on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("an edit is a new version; the old version stays readable for the analyses that used it", async () => {
      const account = await seedAccount(db);
      const id = newId();
      const v1 = { ...profileDefinition("Sales calls"), description: "first draft" };
      await insertProfile(db, {
        id,
        accountId: account.id,
        definition: v1,
        createdBy: "user:1",
        at: fixedNow,
      });
      const created = await getProfile(db, account.id, id);
      assert.deepEqual(created, {
        id,
        accountId: account.id,
        name: "Sales calls",
        version: 1,
        currentVersion: 1,
        definition: v1,
        archivedAt: null,
        createdAt: fixedNow,
        updatedAt: fixedNow,
        versionCreatedAt: fixedNow,
        versionCreatedBy: "user:1",
      });

      const v2 = profileDefinition("Sales calls (2026)");
      assert.equal(await addProfileVersion(db, account.id, id, v2, "user:2", later), 2);
      const current = await getProfile(db, account.id, id);
      assert.equal(current?.version, 2);
      assert.equal(current?.name, "Sales calls (2026)");
      assert.deepEqual(current?.definition, v2);
      assert.deepEqual(current?.updatedAt, later);
      const old = await getProfile(db, account.id, id, 1);
      assert.deepEqual(old?.definition, v1);
      assert.equal(old?.currentVersion, 2);
      assert.equal(await getProfile(db, account.id, id, 3), null);
      assert.deepEqual(await listProfileVersions(db, account.id, id), [
        { version: 1, createdAt: fixedNow, createdBy: "user:1", name: "Sales calls" },
        { version: 2, createdAt: later, createdBy: "user:2", name: "Sales calls (2026)" },
      ]);
    });

    test("another account can neither read, edit nor archive a profile", async () => {
      const a = await seedAccount(db);
      const b = await seedAccount(db);
      const id = await seedProfile(db, a.id, "Mine");
      assert.equal(await getProfile(db, b.id, id), null);
      assert.equal(await addProfileVersion(db, b.id, id, profileDefinition("Hijacked"), null, later), null);
      assert.deepEqual(await listProfileVersions(db, b.id, id), []);
      assert.equal(await setProfileArchived(db, b.id, id, later, later), false);
      assert.deepEqual(await listProfiles(db, b.id), []);
      assert.deepEqual([...(await existingProfileIds(db, b.id, [id]))], []);
      const mine = await getProfile(db, a.id, id);
      assert.equal(mine?.version, 1, "no version was added");
      assert.equal(mine?.archivedAt, null);
    });

    test("archived profiles leave listings and routing unless asked for; unarchiving brings them back", async () => {
      const account = await seedAccount(db);
      const kept = await seedProfile(db, account.id, "Kept");
      const archived = await seedProfile(db, account.id, "Archived");
      await addProfileVersion(db, account.id, kept, profileDefinition("Kept v2"), null, later);
      assert.equal(await setProfileArchived(db, account.id, archived, later, later), true);
      assert.deepEqual(
        (await listProfiles(db, account.id)).map((p) => [p.name, p.version]),
        [["Kept v2", 2]],
        "current versions only",
      );
      assert.deepEqual(
        (await listProfiles(db, account.id, { includeArchived: true })).map((p) => p.name),
        ["Kept v2", "Archived"],
      );
      assert.deepEqual([...(await existingProfileIds(db, account.id, [kept, archived, newId()]))], [kept]);
      assert.deepEqual([...(await existingProfileIds(db, account.id, []))], []);
      await setProfileArchived(db, account.id, archived, null, later);
      assert.equal((await listProfiles(db, account.id)).length, 2);
    });
  });
}
