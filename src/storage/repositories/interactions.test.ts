import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { RoutingDecision } from "../../core/assignment.ts";
import { newId } from "../../core/ids.ts";
import type { Transcript } from "../../core/transcript.ts";
import type { Database } from "../db.ts";
import { fixedNow, newInteraction, seedAccount, seedProfile, unique } from "../testFixtures.ts";
import { testDatabases } from "../testing.ts";
import { getAccountConfigVersion } from "./accounts.ts";
import { ensureAnalyses, updateAnalysis } from "./analyses.ts";
import {
  countBatchStatuses,
  findByExternalIds,
  findInteractionsByIdentifiers,
  getInteraction,
  getInteractionById,
  insertInteractions,
  listInteractionsOfBatch,
  listRecentInteractions,
  lockInteraction,
  startProcessing,
  updateInteractionState,
} from "./interactions.ts";

const at = (s: number) => new Date(fixedNow.getTime() + s * 1000);

for (const backend of testDatabases()) {
  describe(`interactions repository on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("a new interaction is stored queued with every field as given", async () => {
      const account = await seedAccount(db);
      const row = newInteraction(account.id, {
        batchId: newId(),
        channelType: "VOICE",
        interactionStartTime: new Date("2026-03-01T09:30:00.000Z"),
        audioFormat: "WAV",
        callbackUrl: "https://crm.example/hook",
        audioUrl: "https://pbx.example/rec/1.wav",
        transcriptText: null,
        piiRedacted: true,
        metadata: { agent_id: "a-17", vip: true, score: 4.5 },
        media: { uploadedAudioKey: "uploads/x/audio.wav" },
      });
      const inserted = await insertInteractions(db, [row]);
      assert.deepEqual([...inserted], [row.id]);
      const stored = await getInteractionById(db, row.id);
      assert.deepEqual(stored, {
        ...row,
        status: "queued",
        statusModifiedAt: row.createdAt,
        failureReason: null,
        waitingReason: null,
        routing: null,
        notAnalysedReason: null,
        transcript: null,
        audioMeasures: null,
        speech: null,
        processingRevision: 1,
      });
      assert.deepEqual(await insertInteractions(db, []), new Set());
    });

    test("an existing (account, external id) is skipped on insert; the same id in another account is not", async () => {
      const a = await seedAccount(db);
      const b = await seedAccount(db);
      const first = newInteraction(a.id);
      await insertInteractions(db, [first]);
      const again = newInteraction(a.id, { externalInteractionId: first.externalInteractionId });
      const elsewhere = newInteraction(b.id, { externalInteractionId: first.externalInteractionId });
      const inserted = await insertInteractions(db, [again, elsewhere]);
      assert.deepEqual([...inserted], [elsewhere.id]);
      const found = await findByExternalIds(db, a.id, [first.externalInteractionId, "never-sent"]);
      assert.deepEqual(
        [...found.entries()],
        [[first.externalInteractionId, { id: first.id, contentHash: first.contentHash }]],
      );
      assert.deepEqual(await findByExternalIds(db, a.id, []), new Map());
    });

    test("get by cqa id or external id stays inside the account, and a cqa id wins over an equal external id", async () => {
      const a = await seedAccount(db);
      const b = await seedAccount(db);
      const target = newInteraction(a.id);
      // An interaction whose external id happens to be another interaction's cqa id.
      const lookalike = newInteraction(a.id, { externalInteractionId: target.id });
      const theirs = newInteraction(b.id);
      await insertInteractions(db, [target, lookalike, theirs]);
      assert.equal((await getInteraction(db, a.id, target.id, true))?.id, target.id);
      assert.equal((await getInteraction(db, a.id, target.id, false))?.id, lookalike.id);
      assert.equal((await getInteraction(db, a.id, target.externalInteractionId, false))?.id, target.id);
      assert.equal(await getInteraction(db, a.id, theirs.id, true), null);
      assert.equal(await getInteraction(db, a.id, theirs.externalInteractionId, false), null);
      const byIdentifiers = await findInteractionsByIdentifiers(db, a.id, [
        target.id,
        lookalike.externalInteractionId,
        theirs.id,
        theirs.externalInteractionId,
        "not-a-uuid",
      ]);
      assert.deepEqual(byIdentifiers.map((i) => i.id).sort(), [target.id, lookalike.id].sort());
      assert.ok(
        byIdentifiers.every((i) => i.transcriptText === null),
        "listings leave the transcript out",
      );
    });

    test("a batch lists its own interactions a page at a time and counts their statuses", async () => {
      const a = await seedAccount(db);
      const b = await seedAccount(db);
      const batchId = newId();
      const rows = [0, 1, 2].map((i) => newInteraction(a.id, { batchId, createdAt: at(i) }));
      await insertInteractions(db, rows);
      await insertInteractions(db, [newInteraction(a.id, { batchId: newId() })]);
      await updateInteractionState(db, rows[0]!.id, { status: "completed" }, at(10));
      await updateInteractionState(db, rows[1]!.id, { status: "processing" }, at(10));
      const page = await listInteractionsOfBatch(db, a.id, batchId, 2, 0);
      assert.equal(page.total, 3);
      assert.deepEqual(
        page.rows.map((r) => r.id),
        [rows[0]!.id, rows[1]!.id],
      );
      assert.equal(page.rows[0]?.transcriptText, null, "listings leave the transcript out");
      assert.deepEqual(
        (await listInteractionsOfBatch(db, a.id, batchId, 2, 2)).rows.map((r) => r.id),
        [rows[2]!.id],
      );
      assert.deepEqual(await listInteractionsOfBatch(db, b.id, batchId, 10, 0), { rows: [], total: 0 });
      assert.deepEqual(await countBatchStatuses(db, batchId), {
        queued: 1,
        processing: 1,
        completed: 1,
        failed: 0,
      });
    });

    test("state changes move status_modified_at only when the status actually changes", async () => {
      const account = await seedAccount(db);
      const row = newInteraction(account.id);
      await insertInteractions(db, [row]);
      await updateInteractionState(db, row.id, { status: "processing" }, at(5));
      await updateInteractionState(
        db,
        row.id,
        { status: "processing", waitingReason: "recording not published yet" },
        at(9),
      );
      let stored = await getInteractionById(db, row.id);
      assert.equal(stored?.status, "processing");
      assert.deepEqual(stored?.statusModifiedAt, at(5));
      assert.equal(stored?.waitingReason, "recording not published yet");

      const transcript: Transcript = {
        format: "plain",
        turns: [{ index: 0, speaker: "agent", speakerLabel: "Agent", text: "Hello" }],
        timed: false,
        notes: [],
      };
      const routing: RoutingDecision = {
        profileIds: [],
        matchedRuleIds: [],
        trace: [],
        notAnalysedReason: "no_rule_matched",
        summary: "Not analysed: no rule matched",
      };
      await updateInteractionState(
        db,
        row.id,
        {
          status: "completed",
          waitingReason: null,
          media: { audio: [{ key: "k", size: 3, sha256: "abc", contentType: null, url: "https://x/1.wav" }] },
          transcript,
          routing,
          notAnalysedReason: "no rule matched",
          processingRevision: 2,
        },
        at(12),
      );
      stored = await getInteractionById(db, row.id);
      assert.equal(stored?.status, "completed");
      assert.deepEqual(stored?.statusModifiedAt, at(12));
      assert.equal(stored?.waitingReason, null);
      assert.deepEqual(stored?.transcript, transcript);
      assert.deepEqual(stored?.routing, routing);
      assert.equal(stored?.notAnalysedReason, "no rule matched");
      assert.equal(stored?.processingRevision, 2);
      assert.equal(stored?.media.audio?.[0]?.key, "k");
      assert.equal(stored?.transcriptText, row.transcriptText, "fields not named are kept");
      await updateInteractionState(db, row.id, {}, at(20));
      assert.deepEqual((await getInteractionById(db, row.id))?.statusModifiedAt, at(12));
    });

    test("processing starts only for the job's revision of an unfinished interaction, with what the run needs", async () => {
      const account = await seedAccount(db);
      const profileId = await seedProfile(db, account.id);
      const row = newInteraction(account.id);
      await insertInteractions(db, [row]);
      assert.equal(
        await startProcessing(db, row.id, 2, at(1)),
        null,
        "a job of another revision does nothing",
      );
      const started = await startProcessing(db, row.id, 1, at(1));
      assert.equal(started?.interaction.status, "processing");
      assert.deepEqual(started?.interaction.statusModifiedAt, at(1));
      assert.equal(started?.interaction.transcriptText, row.transcriptText);
      assert.equal(started?.accountConfigVersion, await getAccountConfigVersion(db, account.id));
      assert.deepEqual(started?.analyses, []);

      const [analysis] = await ensureAnalyses(
        db,
        [{ id: newId(), accountId: account.id, interactionId: row.id, profileId, profileVersion: 1 }],
        at(2),
      );
      await updateAnalysis(db, analysis!.id, { status: "completed", results: [] }, at(2));
      const again = await startProcessing(db, row.id, 1, at(3));
      assert.deepEqual(again?.interaction.statusModifiedAt, at(1), "a job run again keeps the status time");
      assert.deepEqual(again?.analyses, [{ id: analysis!.id, profileId, scored: true }]);

      await updateInteractionState(db, row.id, { status: "completed" }, at(4));
      assert.equal(
        await startProcessing(db, row.id, 1, at(5)),
        null,
        "a finished interaction is not started",
      );
      assert.equal(await startProcessing(db, newId(), 1, at(5)), null);
    });

    test("lockInteraction holds the row until the transaction ends", async () => {
      const account = await seedAccount(db);
      const row = newInteraction(account.id);
      await insertInteractions(db, [row]);
      let release!: () => void;
      const mayCommit = new Promise<void>((resolve) => {
        release = resolve;
      });
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => {
        locked = resolve;
      });
      const holder = db.transaction(async (tx) => {
        assert.equal((await lockInteraction(tx, row.id))?.id, row.id);
        locked();
        await mayCommit;
        await updateInteractionState(tx, row.id, { status: "failed", failureReason: "first" }, at(1));
      });
      await isLocked;
      const waiter = db.transaction(async (tx) => (await lockInteraction(tx, row.id))?.failureReason);
      release();
      await holder;
      assert.equal(await waiter, "first", "the second locker sees the first one's committed change");
      assert.equal(await db.transaction((tx) => lockInteraction(tx, newId())), null);
    });

    test("recent interactions are the account's newest first", async () => {
      const a = await seedAccount(db);
      const b = await seedAccount(db);
      const rows = [0, 1, 2].map((i) =>
        newInteraction(a.id, { createdAt: at(100 + i), externalInteractionId: unique(`r${i}-`) }),
      );
      await insertInteractions(db, rows);
      await insertInteractions(db, [newInteraction(b.id, { createdAt: at(500) })]);
      assert.deepEqual(
        (await listRecentInteractions(db, a.id, 2)).map((r) => r.id),
        [rows[2]!.id, rows[1]!.id],
      );
    });
  });
}
