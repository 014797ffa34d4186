import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { newId } from "../../core/ids.ts";
import type { Database } from "../db.ts";
import { fixedNow, newInteraction, seedAccount, seedProfile } from "../testFixtures.ts";
import { testDatabases } from "../testing.ts";
import { ensureAnalyses } from "./analyses.ts";
import {
  type DisputeRecord,
  getDispute,
  insertDispute,
  listDisputesOfAnalysis,
  resolveDispute,
} from "./disputes.ts";
import { insertInteractions } from "./interactions.ts";

const at = (s: number) => new Date(fixedNow.getTime() + s * 1000);

for (const backend of testDatabases()) {
  describe(`disputes repository on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    async function seedAnalysis() {
      const account = await seedAccount(db);
      const profileId = await seedProfile(db, account.id);
      const interaction = newInteraction(account.id);
      await insertInteractions(db, [interaction]);
      const [analysis] = await ensureAnalyses(
        db,
        [{ id: newId(), accountId: account.id, interactionId: interaction.id, profileId, profileVersion: 1 }],
        at(0),
      );
      return { accountId: account.id, analysisId: analysis!.id };
    }

    function dispute(
      accountId: string,
      analysisId: string,
      changes: Partial<DisputeRecord> = {},
    ): DisputeRecord {
      return {
        id: newId(),
        accountId,
        analysisId,
        kpiId: "greeting",
        reason: "I did greet the customer at 00:03",
        raisedBy: "agent:17",
        status: "open",
        resolution: null,
        resolutionComment: null,
        resolvedBy: null,
        createdAt: at(1),
        resolvedAt: null,
        ...changes,
      };
    }

    test("a dispute is read back in its own account only, and listed with its analysis", async () => {
      const { accountId, analysisId } = await seedAnalysis();
      const stranger = await seedAccount(db);
      const first = dispute(accountId, analysisId);
      const second = dispute(accountId, analysisId, { kpiId: null, createdAt: at(2) });
      await insertDispute(db, second);
      await insertDispute(db, first);
      assert.deepEqual(await getDispute(db, accountId, first.id), first);
      assert.equal(await getDispute(db, stranger.id, first.id), null);
      assert.deepEqual(await listDisputesOfAnalysis(db, analysisId), [first, second]);
    });

    test("a dispute is resolved once; a second resolution is refused and changes nothing", async () => {
      const { accountId, analysisId } = await seedAnalysis();
      const open = dispute(accountId, analysisId);
      await insertDispute(db, open);
      assert.equal(
        await resolveDispute(db, open.id, "ACCEPTED", "Greeting heard at 00:03", "qa:1", at(10)),
        true,
      );
      assert.equal(await resolveDispute(db, open.id, "REJECTED", "changed my mind", "qa:2", at(20)), false);
      assert.deepEqual(await getDispute(db, accountId, open.id), {
        ...open,
        status: "resolved",
        resolution: "ACCEPTED",
        resolutionComment: "Greeting heard at 00:03",
        resolvedBy: "qa:1",
        resolvedAt: at(10),
      });
    });
  });
}
