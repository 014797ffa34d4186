import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { newId } from "../../core/ids.ts";
import type { KpiResult } from "../../core/qualityProfile.ts";
import type { Database } from "../db.ts";
import { fixedNow, newInteraction, seedAccount, seedProfile } from "../testFixtures.ts";
import { testDatabases } from "../testing.ts";
import {
  type AnalysisFilter,
  analysesByInteraction,
  ensureAnalyses,
  getAnalysis,
  listAnalyses,
  listAnalysesOfInteraction,
  updateAnalysis,
} from "./analyses.ts";
import { insertInteractions } from "./interactions.ts";

const at = (s: number) => new Date(fixedNow.getTime() + s * 1000);

for (const backend of testDatabases()) {
  describe(`analyses repository on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    /** An account with a profile and one interaction per metadata object given. */
    async function seed(metadata: Record<string, string | number | boolean>[] = [{}]) {
      const account = await seedAccount(db);
      const profileId = await seedProfile(db, account.id, "Support QA");
      const interactions = metadata.map((m) => newInteraction(account.id, { metadata: m }));
      await insertInteractions(db, interactions);
      return { account, profileId, interactions };
    }

    test("ensureAnalyses creates one row per (interaction, profile); a re-run finds the same rows", async () => {
      const { account, profileId, interactions } = await seed();
      const second = await seedProfile(db, account.id, "Compliance");
      const interactionId = interactions[0]!.id;
      const wanted = (ids: string[]) =>
        ids.map((p) => ({
          id: newId(),
          accountId: account.id,
          interactionId,
          profileId: p,
          profileVersion: 1,
        }));
      const created = await ensureAnalyses(db, wanted([profileId, second]), at(0));
      assert.equal(created.length, 2);
      assert.ok(created.every((a) => a.status === "queued" && a.revision === 1 && a.results === null));
      const rerun = await ensureAnalyses(db, wanted([profileId, second]), at(5));
      assert.deepEqual(
        rerun.map((a) => a.id).sort(),
        created.map((a) => a.id).sort(),
        "a crashed job that runs again gets the rows it made before",
      );
      assert.deepEqual(await ensureAnalyses(db, [], at(0)), []);
      assert.equal((await listAnalysesOfInteraction(db, interactionId)).length, 2);
      const map = await analysesByInteraction(db, [interactionId, newId()]);
      assert.deepEqual(
        map
          .get(interactionId)
          ?.map((a) => a.profileId)
          .sort(),
        [profileId, second].sort(),
      );
      assert.equal((await analysesByInteraction(db, [])).size, 0);
    });

    test("updateAnalysis writes what it is given and keeps the rest; getAnalysis is scoped to the account", async () => {
      const { account, profileId, interactions } = await seed([{ agent_id: "a-1" }]);
      const stranger = await seedAccount(db);
      const [analysis] = await ensureAnalyses(
        db,
        [
          {
            id: newId(),
            accountId: account.id,
            interactionId: interactions[0]!.id,
            profileId,
            profileVersion: 1,
          },
        ],
        at(0),
      );
      assert.ok(analysis);
      await updateAnalysis(db, analysis.id, { status: "processing", startedAt: at(1) }, at(1));
      const results: KpiResult[] = [
        {
          kpiId: "greeting",
          optionUid: "yes",
          answer: "Yes",
          justification: "Agent greeted the customer",
          evidence: [],
          aiScore: 5,
          maxScore: 5,
        } as KpiResult,
      ];
      await updateAnalysis(
        db,
        analysis.id,
        {
          status: "completed",
          aiScore: 80,
          finalScore: 80,
          criticalityAdjustedScore: 80,
          maxScore: 100,
          results,
          completedAt: at(2),
        },
        at(2),
      );
      const read = await getAnalysis(db, account.id, analysis.id);
      assert.equal(read?.status, "completed");
      assert.deepEqual(read?.startedAt, at(1), "kept from the earlier update");
      assert.deepEqual(read?.completedAt, at(2));
      assert.equal(read?.aiScore, 80);
      assert.equal(read?.qaScore, null);
      assert.deepEqual(read?.results, results);
      assert.deepEqual(read?.updatedAt, at(2));
      assert.equal(read?.externalInteractionId, interactions[0]!.externalInteractionId);
      assert.deepEqual(read?.metadata, { agent_id: "a-1" });
      assert.equal(read?.profileName, "Support QA");
      assert.equal(await getAnalysis(db, stranger.id, analysis.id), null);
    });

    test("listAnalyses filters by time, score, profile, metadata and row scope, inside the account", async () => {
      const { account, profileId, interactions } = await seed([
        { region: "North", agent_id: "a-1", handle_time: 300 },
        { region: "south", agent_id: "a-2", handle_time: "n/a" },
        { region: "north-east", handle_time: 90 },
      ]);
      const other = await seedProfile(db, account.id, "Other");
      const foreign = await seed([{ region: "north" }]);
      const scores = [90, 40, 70];
      const ids: string[] = [];
      for (const [i, interaction] of interactions.entries()) {
        const [a] = await ensureAnalyses(
          db,
          [
            {
              id: newId(),
              accountId: account.id,
              interactionId: interaction.id,
              profileId: i === 2 ? other : profileId,
              profileVersion: 1,
            },
          ],
          at(i),
        );
        await updateAnalysis(db, a!.id, { status: "completed", finalScore: scores[i]! }, at(i));
        ids.push(a!.id);
      }
      const [foreignAnalysis] = await ensureAnalyses(
        db,
        [
          {
            id: newId(),
            accountId: foreign.account.id,
            interactionId: foreign.interactions[0]!.id,
            profileId: foreign.profileId,
            profileVersion: 1,
          },
        ],
        at(1),
      );
      const base: AnalysisFilter = { from: at(0), to: at(100), limit: 50, offset: 0 };
      const list = async (filter: Partial<AnalysisFilter>) =>
        (await listAnalyses(db, account.id, { ...base, ...filter })).rows.map((r) => ids.indexOf(r.id));

      const all = await listAnalyses(db, account.id, base);
      assert.equal(all.total, 3);
      assert.deepEqual(
        all.rows.map((r) => ids.indexOf(r.id)),
        [2, 1, 0],
        "newest first",
      );
      assert.ok(!all.rows.some((r) => r.id === foreignAnalysis!.id), "never another account's analyses");
      assert.deepEqual(await list({ from: at(1), to: at(2) }), [1], "from inclusive, to exclusive");
      assert.deepEqual(await list({ scores: [{ operator: "greater_than_or_equal", value: 70 }] }), [2, 0]);
      assert.deepEqual(await list({ scores: [{ operator: "less_than", value: 50 }] }), [1]);
      assert.deepEqual(await list({ scores: [{ operator: "equals", value: 90 }] }), [0]);
      const range = [
        { operator: "greater_than_or_equal", value: 40 },
        { operator: "less_than_or_equal", value: 70 },
      ] as const;
      assert.deepEqual(await list({ scores: [...range] }), [2, 1], "several score filters all apply");
      assert.deepEqual(await list({ profileId: other }), [2]);
      assert.deepEqual(
        await list({ metadataGroups: [[{ field: "region", operator: "equals", value: "north" }]] }),
        [0],
        "equals ignores case",
      );
      assert.deepEqual(
        await list({ metadataGroups: [[{ field: "region", operator: "contains", value: "NORTH" }]] }),
        [2, 0],
      );
      assert.deepEqual(
        await list({ metadataGroups: [[{ field: "region", operator: "in", value: ["South", "x"] }]] }),
        [1],
      );
      assert.deepEqual(
        await list({ metadataGroups: [[{ field: "agent_id", operator: "not_equals", value: "a-1" }]] }),
        [2, 1],
        "a missing key is not equal",
      );
      assert.deepEqual(
        await list({ metadataGroups: [[{ field: "handle_time", operator: "greater_than", value: 100 }]] }),
        [0],
        "numeric comparisons skip values that are not numbers",
      );
      assert.deepEqual(
        await list({
          metadataGroups: [
            [
              { field: "region", operator: "contains", value: "north" },
              { field: "handle_time", operator: "less_than", value: 100 },
            ],
            [{ field: "agent_id", operator: "equals", value: "a-2" }],
          ],
        }),
        [2, 1],
        "OR of AND groups",
      );
      assert.deepEqual(await list({ scope: { region: ["south", "north-east"] } }), [2, 1], "row-level scope");
      const page = await listAnalyses(db, account.id, { ...base, limit: 1, offset: 1 });
      assert.equal(page.total, 3);
      assert.deepEqual(
        page.rows.map((r) => ids.indexOf(r.id)),
        [1],
      );
    });
  });
}
