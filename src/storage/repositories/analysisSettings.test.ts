import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { defaultAnalysisSettings } from "../../core/analysisSettings.ts";
import type { Database } from "../db.ts";
import { fixedNow, newInteraction, seedAccount } from "../testFixtures.ts";
import { testDatabases } from "../testing.ts";
import { getAnalysisSettings, saveAnalysisSettings } from "./analysisSettings.ts";
import {
  getInteraction,
  insertInteractions,
  listRecentInteractions,
  updateInteractionState,
} from "./interactions.ts";

for (const backend of testDatabases()) {
  describe(`analysis settings and measures on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("an account without settings gets the defaults; saved settings are its own and read back whole", async () => {
      const a = await seedAccount(db);
      const b = await seedAccount(db);
      assert.deepEqual(await getAnalysisSettings(db, a.id), defaultAnalysisSettings);
      const mine = {
        ...defaultAnalysisSettings,
        transcriber: "none" as const,
        channelMap: { agent: 1, customer: 0 },
        integrations: { "00000000-0000-7000-8000-000000000001": { language: "hi" } },
      };
      await saveAnalysisSettings(db, a.id, mine, fixedNow);
      await saveAnalysisSettings(db, a.id, { ...mine, redactPii: false }, fixedNow);
      assert.deepEqual(await getAnalysisSettings(db, a.id), { ...mine, redactPii: false });
      assert.deepEqual(await getAnalysisSettings(db, b.id), defaultAnalysisSettings);
    });

    test("an interaction keeps its audio measures and speech analysis; listings leave them out", async () => {
      const account = await seedAccount(db);
      const row = newInteraction(account.id);
      await insertInteractions(db, [row]);
      const speech = {
        transcriber: "PocketSphinx",
        spotter: null,
        spotted: [],
        unspottable: {},
        notes: ["n"],
        error: null,
      };
      await updateInteractionState(
        db,
        row.id,
        { audioMeasures: { error: "The recording is empty (0 bytes)", reason: "empty" }, speech },
        fixedNow,
      );
      const stored = await getInteraction(db, account.id, row.id, true);
      assert.deepEqual(stored?.audioMeasures, { error: "The recording is empty (0 bytes)", reason: "empty" });
      assert.deepEqual(stored?.speech, speech);
      const [listed] = await listRecentInteractions(db, account.id, 1);
      assert.equal(listed?.audioMeasures, null, "listings stay light");
    });
  });
}
