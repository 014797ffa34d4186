import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../core/clock.ts";
import { newId } from "../core/ids.ts";
import type { LimitOverrides } from "../core/limits.ts";
import type { Database } from "../storage/db.ts";
import type { AccountRecord } from "../storage/repositories/accounts.ts";
import { getInteractionById } from "../storage/repositories/interactions.ts";
import { getUsage } from "../storage/repositories/usage.ts";
import { fixedNow, seedAccount, unique } from "../storage/testFixtures.ts";
import { testDatabases } from "../storage/testing.ts";
import { capWindow } from "./conversationCap.ts";
import { type IngestItemResult, ingestInteractions, processInteractionJob } from "./ingestInteractions.ts";

function item(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    external_interaction_id: unique("ext-"),
    channel_type: "CHAT",
    transcript_text: "Agent: Hello, how can I help?\nCustomer: My card was charged twice.",
    metadata: { region: "north" },
    ...changes,
  };
}

async function count(db: Database, sql: string, params: unknown[]): Promise<number> {
  const result = await db.query<{ n: number }>(sql, params);
  return result.rows[0]?.n ?? 0;
}

for (const backend of testDatabases()) {
  describe(`canonical ingest on ${backend.name}`, () => {
    let db: Database;
    const clock = new ManualClock(fixedNow);
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    const ingest = (
      account: AccountRecord,
      items: unknown[],
      extra: {
        announce?: boolean;
        onQueued?: () => void;
        inTransaction?: Parameters<typeof ingestInteractions>[1]["inTransaction"];
      } = {},
    ) =>
      ingestInteractions(
        { db, clock, ...(extra.onQueued ? { onQueued: extra.onQueued } : {}) },
        {
          account,
          items,
          announce: extra.announce ?? true,
          ...(extra.inTransaction ? { inTransaction: extra.inTransaction } : {}),
        },
      );
    const jobsOf = (account: AccountRecord) =>
      count(db, "SELECT count(*)::int AS n FROM jobs WHERE account_id = $1 AND kind = $2", [
        account.id,
        processInteractionJob,
      ]);
    const eventsOf = (account: AccountRecord) =>
      count(db, "SELECT count(*)::int AS n FROM outbox WHERE account_id = $1", [account.id]);
    const interactionsOf = (account: AccountRecord) =>
      count(db, "SELECT count(*)::int AS n FROM interactions WHERE account_id = $1", [account.id]);

    test("accepted items are stored queued, each with one processing job and its INGESTED event", async () => {
      const account = await seedAccount(db);
      let wakeUps = 0;
      const withCallback = item({ callback_url: "https://crm.example/hooks/cqa" });
      const results = await ingest(account, [withCallback, item()], { onQueued: () => wakeUps++ });
      assert.deepEqual(
        results.map((r) => r.status),
        ["accepted", "accepted"],
      );
      const first = results[0] as Extract<IngestItemResult, { status: "accepted" }>;
      assert.equal(first.externalInteractionId, withCallback["external_interaction_id"]);
      const stored = await getInteractionById(db, first.interactionId);
      assert.equal(stored?.status, "queued");
      assert.equal(stored?.accountId, account.id);
      assert.equal(stored?.callbackUrl, "https://crm.example/hooks/cqa");
      assert.deepEqual(stored?.metadata, { region: "north" });
      assert.match(stored?.contentHash ?? "", /^[0-9a-f]{64}$/);
      assert.equal(await jobsOf(account), 2);
      const job = await db.query<{ payload: { interactionId: string }; dedupe_key: string }>(
        "SELECT payload, dedupe_key FROM jobs WHERE payload->>'interactionId' = $1",
        [first.interactionId],
      );
      assert.equal(job.rows[0]?.dedupe_key, `${processInteractionJob}:${first.interactionId}:1`);
      const events = await db.query<{ event: string; target: string; interaction_id: string }>(
        "SELECT event, target, interaction_id FROM outbox WHERE account_id = $1",
        [account.id],
      );
      assert.deepEqual(events.rows, [
        {
          event: "INTERACTION_INGESTED",
          target: "https://crm.example/hooks/cqa",
          interaction_id: first.interactionId,
        },
      ]);
      assert.equal(wakeUps, 1, "local workers are woken once, after commit");
    });

    test("no INGESTED event when the source does not announce or the account turned webhooks off", async () => {
      const quiet = await seedAccount(db, { webhooksEnabled: false });
      const account = await seedAccount(db);
      const hooked = () => item({ callback_url: "https://crm.example/hooks/cqa" });
      await ingest(quiet, [hooked()]);
      await ingest(account, [hooked()], { announce: false });
      assert.equal(await eventsOf(quiet), 0);
      assert.equal(await eventsOf(account), 0);
      assert.equal(await jobsOf(account), 1, "the interaction is still processed");
    });

    test("a re-sent interaction is a duplicate: sameContent tells a harmless re-send from a conflicting one", async () => {
      const account = await seedAccount(db);
      const original = item({ callback_url: "https://crm.example/hooks/cqa" });
      const [accepted] = await ingest(account, [original]);
      assert.equal(accepted?.status, "accepted");
      let wakeUps = 0;
      // Key order and omitted nulls do not change the content.
      const reordered = Object.fromEntries(Object.entries({ ...original, language: null }).reverse());
      const changed = { ...original, transcript_text: "Agent: something else entirely" };
      const results = await ingest(account, [reordered], { onQueued: () => wakeUps++ });
      const again = await ingest(account, [changed]);
      assert.deepEqual(results[0], {
        index: 0,
        status: "duplicate",
        interactionId: (accepted as { interactionId: string }).interactionId,
        externalInteractionId: original["external_interaction_id"],
        sameContent: true,
      });
      assert.equal(again[0]?.status, "duplicate");
      assert.equal((again[0] as { sameContent: boolean }).sameContent, false);
      assert.equal(await interactionsOf(account), 1);
      assert.equal(await jobsOf(account), 1, "nothing is processed twice");
      assert.equal(await eventsOf(account), 1, "nothing is announced twice");
      assert.equal(wakeUps, 0);
      const stored = await getInteractionById(db, (accepted as { interactionId: string }).interactionId);
      assert.equal(
        stored?.transcriptText,
        original["transcript_text"],
        "the stored interaction is unchanged",
      );
    });

    test("the same external id in another account is another interaction", async () => {
      const a = await seedAccount(db);
      const b = await seedAccount(db);
      const shared = item();
      const [inA] = await ingest(a, [shared]);
      const [inB] = await ingest(b, [shared]);
      assert.equal(inA?.status, "accepted");
      assert.equal(inB?.status, "accepted");
      assert.notEqual(
        (inA as { interactionId: string }).interactionId,
        (inB as { interactionId: string }).interactionId,
      );
    });

    test("within one request the second item with an id is rejected, invalid items are rejected with reasons, the rest stored", async () => {
      const account = await seedAccount(db);
      const twice = item();
      const results = await ingest(account, [
        twice,
        { ...twice, transcript_text: "Agent: again" },
        { external_interaction_id: "no-content", channel_type: "CHAT" },
        { channel_type: "CHAT", transcript_text: "no id" },
        "not an object",
        item(),
      ]);
      assert.deepEqual(
        results.map((r) => [r.index, r.status]),
        [
          [0, "accepted"],
          [1, "rejected"],
          [2, "rejected"],
          [3, "rejected"],
          [4, "rejected"],
          [5, "accepted"],
        ],
      );
      const duplicate = results[1] as Extract<IngestItemResult, { status: "rejected" }>;
      assert.equal(duplicate.code, "DUPLICATE");
      assert.match(duplicate.reason, /more than once in this request \(first as item 1\)/);
      const noContent = results[2] as Extract<IngestItemResult, { status: "rejected" }>;
      assert.equal(noContent.code, "VALIDATION_ERROR");
      assert.equal(noContent.externalInteractionId, "no-content");
      assert.match(noContent.reason, /audio_url, transcript_url or transcript_text/);
      assert.equal((results[3] as { externalInteractionId: string | null }).externalInteractionId, null);
      assert.equal(await interactionsOf(account), 2);
      assert.equal(await jobsOf(account), 2);
    });

    test("the conversation cap admits up to the limit and rejects the rest, counting only what was stored", async () => {
      const limits: LimitOverrides = { conversation_cap: { period: "month", limit: 5 } };
      const account = await seedAccount(db, { limits });
      const window = capWindow({ period: "month", limit: 5 }, clock.now(), account.timezone);
      const first = await ingest(account, [item(), item(), item()]);
      assert.ok(first.every((r) => r.status === "accepted"));
      const existing = first[0] as Extract<IngestItemResult, { status: "accepted" }>;
      const second = await ingest(account, [
        item({ external_interaction_id: existing.externalInteractionId }),
        item(),
        item(),
        item(),
      ]);
      assert.deepEqual(
        second.map((r) => (r.status === "rejected" ? r.code : r.status)),
        ["duplicate", "accepted", "accepted", "CONVERSATION_CAP_EXCEEDED"],
        "a duplicate does not use up the cap",
      );
      assert.match((second[3] as { reason: string }).reason, /^Monthly conversation cap exceeded: 5\/5$/);
      assert.equal(await getUsage(db, account.id, window.period, window.periodStart), 5);
      assert.equal(await interactionsOf(account), 5);
    });

    test("concurrent requests never overshoot the conversation cap", async () => {
      const limit = 25;
      const account = await seedAccount(db, { limits: { conversation_cap: { period: "day", limit } } });
      const requests = Array.from({ length: 8 }, () =>
        ingest(
          account,
          Array.from({ length: 6 }, () => item()),
        ),
      );
      const results = (await Promise.all(requests)).flat();
      const accepted = results.filter((r) => r.status === "accepted").length;
      const capped = results.filter(
        (r) => r.status === "rejected" && r.code === "CONVERSATION_CAP_EXCEEDED",
      ).length;
      assert.equal(accepted, limit);
      assert.equal(capped, 48 - limit);
      assert.equal(await interactionsOf(account), limit);
      assert.equal(await jobsOf(account), limit);
      const window = capWindow({ period: "day", limit }, clock.now(), account.timezone);
      assert.equal(await getUsage(db, account.id, window.period, window.periodStart), limit);
    });

    test("concurrent requests with the same external ids store each once and report the others as duplicates", async () => {
      const account = await seedAccount(db);
      const items = Array.from({ length: 20 }, () => item());
      const answers = await Promise.all(Array.from({ length: 4 }, () => ingest(account, items)));
      for (let i = 0; i < items.length; i++) {
        const forItem = answers.map((results) => results[i]!);
        assert.equal(forItem.filter((r) => r.status === "accepted").length, 1, `item ${i} accepted once`);
        assert.equal(
          forItem.filter((r) => r.status === "duplicate").length,
          3,
          `item ${i}: the others are duplicates`,
        );
        const ids = new Set(forItem.map((r) => (r as { interactionId: string }).interactionId));
        assert.equal(ids.size, 1, "every answer names the one stored interaction");
        assert.ok(forItem.every((r) => r.status !== "duplicate" || r.sameContent));
      }
      assert.equal(await interactionsOf(account), items.length);
      assert.equal(await jobsOf(account), items.length);
    });

    test("inTransaction commits with the data, and when it throws nothing at all is stored", async () => {
      const account = await seedAccount(db, {
        limits: { conversation_cap: { period: "month", limit: 100 } },
      });
      const window = capWindow({ period: "month", limit: 100 }, clock.now(), account.timezone);
      let seen: IngestItemResult[] = [];
      await ingest(account, [item({ callback_url: "https://crm.example/hook" }), { bad: true }], {
        inTransaction: async (tx, results) => {
          seen = results;
          // A source's checkpoint written in the same transaction.
          await tx.query(
            "INSERT INTO audit_log (id, account_id, actor, action, details, created_at) VALUES ($1, $2, 'test', 'checkpoint', '{}', $3)",
            [newId(), account.id, fixedNow],
          );
        },
      });
      assert.deepEqual(
        seen.map((r) => r.status),
        ["accepted", "rejected"],
        "the hook sees every item's outcome",
      );
      assert.equal(
        await count(db, "SELECT count(*)::int AS n FROM audit_log WHERE account_id = $1", [account.id]),
        1,
      );
      const before = {
        interactions: await interactionsOf(account),
        jobs: await jobsOf(account),
        events: await eventsOf(account),
        usage: await getUsage(db, account.id, window.period, window.periodStart),
      };

      let wakeUps = 0;
      await assert.rejects(
        ingest(account, [item({ callback_url: "https://crm.example/hook" }), item()], {
          onQueued: () => wakeUps++,
          inTransaction: async () => {
            throw new Error("checkpoint store unavailable");
          },
        }),
        /checkpoint store unavailable/,
      );
      assert.deepEqual(
        {
          interactions: await interactionsOf(account),
          jobs: await jobsOf(account),
          events: await eventsOf(account),
          usage: await getUsage(db, account.id, window.period, window.periodStart),
        },
        before,
        "interactions, jobs, events and cap usage all rolled back",
      );
      assert.equal(wakeUps, 0);
    });
  });
}
