import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { newId } from "../../core/ids.ts";
import type { Database } from "../db.ts";
import { fixedNow, newInteraction, seedAccount, seedProfile } from "../testFixtures.ts";
import { testDatabases } from "../testing.ts";
import { ensureAnalyses } from "./analyses.ts";
import { insertInteractions } from "./interactions.ts";
import { insertReview, latestReviews, latestReviewsOf, type ReviewRecord, reviewHistory } from "./reviews.ts";

const at = (s: number) => new Date(fixedNow.getTime() + s * 1000);

for (const backend of testDatabases()) {
  describe(`KPI reviews repository on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("every override is kept; the latest per KPI is the one in force", async () => {
      const account = await seedAccount(db);
      const profileId = await seedProfile(db, account.id);
      const interaction = newInteraction(account.id);
      await insertInteractions(db, [interaction]);
      const [analysis] = await ensureAnalyses(
        db,
        [{ id: newId(), accountId: account.id, interactionId: interaction.id, profileId, profileVersion: 1 }],
        at(0),
      );
      const review = (kpiId: string, score: number, s: number, reviewer: string): ReviewRecord => ({
        id: newId(),
        accountId: account.id,
        analysisId: analysis!.id,
        kpiId,
        optionUid: score > 0 ? "yes" : "no",
        optionValue: score > 0 ? "Yes" : "No",
        score,
        justification: `scored ${score}`,
        userComment: null,
        reviewer,
        createdAt: at(s),
      });
      const first = review("greeting", 0, 1, "qa:1");
      const second = review("greeting", 5, 2, "qa:2");
      const other = review("closing", 3, 3, "qa:1");
      for (const r of [second, other, first]) await insertReview(db, r);
      assert.deepEqual(await latestReviews(db, analysis!.id), [other, second]);
      assert.deepEqual(await reviewHistory(db, analysis!.id), [first, second, other]);
      assert.deepEqual(await latestReviews(db, newId()), []);
      const unreviewed = newId();
      const several = await latestReviewsOf(db, [analysis!.id, unreviewed]);
      assert.deepEqual(several.get(analysis!.id), [other, second], "the same as one by one");
      assert.equal(several.has(unreviewed), false);
      assert.equal((await latestReviewsOf(db, [])).size, 0);
    });
  });
}
