import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { newId } from "../../core/ids.ts";
import type { Database } from "../db.ts";
import { fixedNow, seedAccount, unique } from "../testFixtures.ts";
import { testDatabases } from "../testing.ts";
import { findSessionByTokenHash, insertSession, revokeSession } from "./sessions.ts";
import { deleteUser, insertUser } from "./users.ts";

for (const backend of testDatabases()) {
  describe(`sessions repository on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    async function seedUser() {
      const account = await seedAccount(db);
      const userId = newId();
      await insertUser(db, {
        id: userId,
        accountId: account.id,
        email: `${unique()}@example.com`,
        displayName: null,
        role: "admin",
        passwordHash: "x",
        metadataScope: {},
        agentId: null,
        createdAt: fixedNow,
        updatedAt: fixedNow,
        disabledAt: null,
      });
      return { accountId: account.id, userId };
    }

    test("a session is found by its token hash; revoking keeps the first revocation time", async () => {
      const { accountId, userId } = await seedUser();
      const session = {
        id: newId(),
        accountId,
        userId,
        tokenHash: unique("token-"),
        createdAt: fixedNow,
        expiresAt: new Date(fixedNow.getTime() + 3_600_000),
      };
      await insertSession(db, session);
      assert.deepEqual(await findSessionByTokenHash(db, session.tokenHash), { ...session, revokedAt: null });
      assert.equal(await findSessionByTokenHash(db, "unknown"), null);
      const first = new Date(fixedNow.getTime() + 1_000);
      await revokeSession(db, session.id, first);
      await revokeSession(db, session.id, new Date(fixedNow.getTime() + 2_000));
      assert.deepEqual((await findSessionByTokenHash(db, session.tokenHash))?.revokedAt, first);
    });

    test("deleting a user ends their sessions", async () => {
      const { accountId, userId } = await seedUser();
      const tokenHash = unique("token-");
      await insertSession(db, {
        id: newId(),
        accountId,
        userId,
        tokenHash,
        createdAt: fixedNow,
        expiresAt: new Date(fixedNow.getTime() + 3_600_000),
      });
      await deleteUser(db, accountId, userId);
      assert.equal(await findSessionByTokenHash(db, tokenHash), null);
    });
  });
}
