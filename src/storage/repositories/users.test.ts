import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { newId } from "../../core/ids.ts";
import { type Database, sqlStateOf } from "../db.ts";
import { fixedNow, seedAccount, unique } from "../testFixtures.ts";
import { testDatabases } from "../testing.ts";
import {
  deleteUser,
  findUserByEmail,
  getUser,
  insertUser,
  listUsers,
  type UserRecord,
  updateUser,
} from "./users.ts";

function user(accountId: string, changes: Partial<UserRecord> = {}): UserRecord {
  return {
    id: newId(),
    accountId,
    email: `${unique("qa-")}@example.com`,
    displayName: "QA Analyst",
    role: "analyst",
    passwordHash: "scrypt$hash",
    metadataScope: {},
    agentId: null,
    createdAt: fixedNow,
    updatedAt: fixedNow,
    disabledAt: null,
    ...changes,
  };
}

for (const backend of testDatabases()) {
  describe(`users repository on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("a user reads back as stored, found by email whatever its case", async () => {
      const account = await seedAccount(db);
      const stored = user(account.id, {
        email: "Priya.Agent@Example.com",
        role: "agent",
        agentId: "agent-17",
        metadataScope: { region: ["north", "east"] },
      });
      await insertUser(db, stored);
      assert.deepEqual(await getUser(db, account.id, stored.id), stored);
      assert.deepEqual(await findUserByEmail(db, account.id, "priya.agent@example.COM"), stored);
    });

    test("an email is unique within an account (ignoring case) but may exist in another account", async () => {
      const a = await seedAccount(db);
      const b = await seedAccount(db);
      await insertUser(db, user(a.id, { email: "sam@example.com" }));
      await insertUser(db, user(b.id, { email: "sam@example.com" }));
      await assert.rejects(insertUser(db, user(a.id, { email: "SAM@example.com" })), (error) => {
        assert.equal(sqlStateOf(error), "23505");
        return true;
      });
    });

    test("reads, updates and deletes never reach another account's users", async () => {
      const a = await seedAccount(db);
      const b = await seedAccount(db);
      const mine = user(a.id, { email: "b@example.com" });
      const mine2 = user(a.id, { email: "a@example.com" });
      const theirs = user(b.id, { email: "x@example.com" });
      for (const u of [mine, mine2, theirs]) await insertUser(db, u);
      assert.equal(await getUser(db, a.id, theirs.id), null);
      assert.equal(await findUserByEmail(db, a.id, theirs.email), null);
      assert.deepEqual(
        (await listUsers(db, a.id)).map((u) => u.email),
        ["a@example.com", "b@example.com"],
        "listed by email",
      );
      assert.equal(await updateUser(db, a.id, theirs.id, { role: "admin" }, fixedNow), null);
      assert.equal(await deleteUser(db, a.id, theirs.id), false);
      assert.equal((await getUser(db, b.id, theirs.id))?.role, "analyst");
    });

    test("an update changes only what is given; delete removes the user", async () => {
      const account = await seedAccount(db);
      const stored = user(account.id);
      await insertUser(db, stored);
      const later = new Date(fixedNow.getTime() + 5_000);
      const updated = await updateUser(
        db,
        account.id,
        stored.id,
        { role: "supervisor", disabledAt: later, metadataScope: { team: ["blue"] } },
        later,
      );
      const expected = {
        ...stored,
        role: "supervisor",
        disabledAt: later,
        metadataScope: { team: ["blue"] },
        updatedAt: later,
      };
      assert.deepEqual(updated, expected);
      assert.deepEqual(await getUser(db, account.id, stored.id), expected);
      assert.equal(await deleteUser(db, account.id, stored.id), true);
      assert.equal(await getUser(db, account.id, stored.id), null);
    });
  });
}
