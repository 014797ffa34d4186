import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { startWebhookReceiver } from "../../test/support/httpPeers.ts";
import { ManualClock } from "../core/clock.ts";
import { newId } from "../core/ids.ts";
import { WebhookDispatcher } from "../delivery/webhookDispatcher.ts";
import { parseFetchAllowList } from "../net/allowList.ts";
import type { Database } from "./db.ts";
import {
  addToOutbox,
  claimDueOutbox,
  getOutboxMessage,
  listOutbox,
  listOutboxAttempts,
  type OutboxMessage,
  type OutboxRecord,
  outboxDepth,
  recordOutboxAttempt,
  recordOutboxAttempts,
  releaseOutboxLeases,
  resendOutboxMessage,
  webhookMessage,
} from "./outbox.ts";
import { fixedNow, seedAccount, unique } from "./testFixtures.ts";
import { testDatabases } from "./testing.ts";

const at = (ms: number) => new Date(fixedNow.getTime() + ms);

function message(accountId: string): OutboxMessage {
  return webhookMessage({
    id: newId(),
    dedupeKey: unique("INTERACTION_INGESTED:"),
    url: "http://127.0.0.1:9/hook",
    envelope: {
      event: "INTERACTION_INGESTED",
      timestamp: fixedNow,
      accountId,
      interactionId: newId(),
      externalInteractionId: unique("ext-"),
      data: { status: "INGESTED" },
    },
  });
}

for (const backend of testDatabases()) {
  describe(`outbox on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });
    // Messages of other tests may be due too: each test looks only at its own ids.
    const claimMine = async (ids: string[], now: Date, leaseMs = 30_000): Promise<OutboxRecord[]> => {
      const claimed = await claimDueOutbox(db, { channel: "webhook", limit: 1000, now, leaseMs });
      const mine = claimed.filter((m) => ids.includes(m.id));
      // Hand back what belongs to other tests untouched.
      const others = claimed.filter((m) => !ids.includes(m.id)).map((m) => m.id);
      if (others.length > 0) {
        await db.query("UPDATE outbox SET locked_until = NULL WHERE id = ANY($1::uuid[])", [others]);
      }
      return mine;
    };

    test("the body carries the message id as deliveryId; a second write of the same key is a no-op", async () => {
      const account = await seedAccount(db);
      const first = message(account.id);
      assert.equal(JSON.parse(first.payload).deliveryId, first.id);
      assert.equal(await addToOutbox(db, [first], fixedNow), 1);
      // A re-run job builds the same event again with a fresh id: the stored message wins.
      const rerun = { ...message(account.id), dedupeKey: first.dedupeKey };
      assert.equal(await addToOutbox(db, [rerun], at(5_000)), 0);
      assert.equal(await getOutboxMessage(db, account.id, rerun.id), null);
      const stored = await getOutboxMessage(db, account.id, first.id);
      assert.equal(stored?.payload, first.payload, "the exact bytes first written are kept");
      assert.equal(stored?.status, "pending");
      assert.equal(stored?.attempts, 0);
      assert.deepEqual(stored?.createdAt, fixedNow);
      assert.equal(await addToOutbox(db, [], fixedNow), 0);
    });

    test("a claim leases due messages: not handed out again until the lease runs out", async () => {
      const account = await seedAccount(db);
      const due = message(account.id);
      await addToOutbox(db, [due], fixedNow);
      assert.deepEqual(await claimMine([due.id], at(-1)), [], "not before it is due");
      const claimed = await claimMine([due.id], fixedNow, 30_000);
      assert.deepEqual(
        claimed.map((m) => m.id),
        [due.id],
      );
      assert.deepEqual(await claimMine([due.id], at(29_999)), [], "leased to the first claimer");
      assert.deepEqual(
        (await claimMine([due.id], at(30_001))).map((m) => m.id),
        [due.id],
        "a dispatcher that died mid-send loses its lease",
      );
    });

    test("after a crash, messages the dead sender had leased go out at once", async () => {
      const account = await seedAccount(db);
      const m = message(account.id);
      await addToOutbox(db, [m], fixedNow);
      assert.equal((await claimMine([m.id], fixedNow, 30_000)).length, 1);
      assert.ok((await releaseOutboxLeases(db)) >= 1);
      assert.deepEqual(
        (await claimMine([m.id], at(1))).map((r) => r.id),
        [m.id],
        "no waiting for the dead sender's lease to run out",
      );
      await recordOutboxAttempt(
        db,
        m.id,
        { attempt: 1, attemptedAt: at(1), statusCode: 200, error: null, durationMs: 3 },
        { status: "delivered", nextAttemptAt: at(1) },
      );
      await releaseOutboxLeases(db);
      assert.deepEqual(await claimMine([m.id], at(2)), [], "a delivered message stays delivered");
    });

    test("parallel claimers never get the same message", async () => {
      const account = await seedAccount(db);
      const messages = Array.from({ length: 60 }, () => message(account.id));
      await addToOutbox(db, messages, fixedNow);
      const ids = messages.map((m) => m.id);
      const claims = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const got: string[] = [];
          for (;;) {
            const batch = await db.transaction(async (tx) => {
              const rows = await claimDueOutbox(tx, {
                channel: "webhook",
                limit: 5,
                now: fixedNow,
                leaseMs: 60_000,
              });
              await delay(2);
              return rows;
            });
            const mine = batch.filter((m) => ids.includes(m.id)).map((m) => m.id);
            got.push(...mine);
            if (batch.length === 0) break;
          }
          return got;
        }),
      );
      const all = claims.flat();
      assert.equal(all.length, ids.length);
      assert.equal(new Set(all).size, ids.length, "no message claimed twice");
    });

    test("every attempt is recorded; delivered stops further claims", async () => {
      const account = await seedAccount(db);
      const m = message(account.id);
      await addToOutbox(db, [m], fixedNow);
      await claimMine([m.id], fixedNow);
      await recordOutboxAttempt(
        db,
        m.id,
        {
          attempt: 1,
          attemptedAt: fixedNow,
          statusCode: 503,
          error: "callback answered 503",
          durationMs: 12,
        },
        { status: "pending", nextAttemptAt: at(10_000) },
      );
      // The same attempt recorded twice (a crash after the insert) does not add a row.
      await recordOutboxAttempt(
        db,
        m.id,
        {
          attempt: 1,
          attemptedAt: fixedNow,
          statusCode: 503,
          error: "callback answered 503",
          durationMs: 12,
        },
        { status: "pending", nextAttemptAt: at(10_000) },
      );
      let stored = await getOutboxMessage(db, account.id, m.id);
      assert.equal(stored?.attempts, 1);
      assert.equal(stored?.lastStatusCode, 503);
      assert.equal(stored?.lastError, "callback answered 503");
      assert.deepEqual(stored?.nextAttemptAt, at(10_000));
      assert.deepEqual(await claimMine([m.id], at(9_999)), [], "waits for its back-off");

      assert.equal((await claimMine([m.id], at(10_000))).length, 1, "recording an attempt frees the lease");
      await recordOutboxAttempt(
        db,
        m.id,
        { attempt: 2, attemptedAt: at(10_000), statusCode: 200, error: null, durationMs: 8 },
        { status: "delivered", nextAttemptAt: at(10_000) },
      );
      stored = await getOutboxMessage(db, account.id, m.id);
      assert.equal(stored?.status, "delivered");
      assert.deepEqual(stored?.deliveredAt, at(10_000));
      assert.equal(stored?.attempts, 2);
      assert.deepEqual(
        (await listOutboxAttempts(db, m.id)).map((a) => [a.attempt, a.statusCode, a.error]),
        [
          [1, 503, "callback answered 503"],
          [2, 200, null],
        ],
      );
      assert.deepEqual(
        await claimMine([m.id], at(10_000_000)),
        [],
        "delivered messages are never sent again",
      );
    });

    test("the attempts of a batch are recorded in one go, each message with its own outcome", async () => {
      const account = await seedAccount(db);
      const [delivered, retried, failed] = [message(account.id), message(account.id), message(account.id)];
      await addToOutbox(db, [delivered, retried, failed], fixedNow);
      await claimMine([delivered.id, retried.id, failed.id], fixedNow);
      const attempt = (error: string | null) => ({
        attempt: 1,
        attemptedAt: at(5),
        statusCode: null,
        error,
        durationMs: 3,
      });
      await recordOutboxAttempts(db, [
        { id: delivered.id, attempt: attempt(null), next: { status: "delivered", nextAttemptAt: fixedNow } },
        {
          id: retried.id,
          attempt: attempt("broker down"),
          next: { status: "pending", nextAttemptAt: at(5_000) },
        },
        { id: failed.id, attempt: attempt("rejected"), next: { status: "failed", nextAttemptAt: fixedNow } },
      ]);
      await recordOutboxAttempts(db, []);
      const stored = async (id: string) => getOutboxMessage(db, account.id, id);
      assert.equal((await stored(delivered.id))?.status, "delivered");
      assert.deepEqual((await stored(delivered.id))?.deliveredAt, at(5));
      assert.equal((await stored(retried.id))?.status, "pending");
      assert.equal((await stored(retried.id))?.lastError, "broker down");
      assert.deepEqual((await stored(retried.id))?.nextAttemptAt, at(5_000));
      assert.equal((await stored(failed.id))?.status, "failed");
      assert.equal((await stored(failed.id))?.deliveredAt, null);
      for (const m of [delivered, retried, failed]) {
        assert.equal((await listOutboxAttempts(db, m.id)).length, 1);
      }
      assert.equal(
        (await claimMine([retried.id], at(5_000))).length,
        1,
        "its lease was freed with the record",
      );
    });

    test("resend queues a message again with the same deliveryId; only its own account can", async () => {
      const account = await seedAccount(db);
      const stranger = await seedAccount(db);
      const m = message(account.id);
      await addToOutbox(db, [m], fixedNow);
      await recordOutboxAttempt(
        db,
        m.id,
        { attempt: 1, attemptedAt: fixedNow, statusCode: 404, error: "callback answered 404", durationMs: 5 },
        { status: "failed", nextAttemptAt: fixedNow },
      );
      assert.equal(await resendOutboxMessage(db, stranger.id, m.id, at(1_000)), false);
      assert.equal((await getOutboxMessage(db, account.id, m.id))?.status, "failed");
      assert.equal(await resendOutboxMessage(db, account.id, m.id, at(1_000)), true);
      const again = await getOutboxMessage(db, account.id, m.id);
      assert.equal(again?.status, "pending");
      assert.equal(again?.attemptsBeforeResend, 1, "the retry budget counts from the resend");
      assert.equal(again?.payload, m.payload);
      assert.deepEqual(
        (await claimMine([m.id], at(1_000))).map((r) => r.id),
        [m.id],
      );
    });

    test("reads are scoped to the account and filtered", async () => {
      const a = await seedAccount(db);
      const b = await seedAccount(db);
      const interactionId = newId();
      const mine = [
        message(a.id),
        webhookMessage({
          id: newId(),
          dedupeKey: unique("INTERACTION_ANALYSIS_COMPLETED:"),
          url: "http://127.0.0.1:9/hook",
          envelope: {
            event: "INTERACTION_ANALYSIS_COMPLETED",
            timestamp: fixedNow,
            accountId: a.id,
            interactionId,
            data: {},
          },
        }),
      ];
      const theirs = message(b.id);
      await addToOutbox(db, [...mine, theirs], fixedNow);
      await recordOutboxAttempt(
        db,
        mine[0]!.id,
        { attempt: 1, attemptedAt: fixedNow, statusCode: 200, error: null, durationMs: 1 },
        { status: "delivered", nextAttemptAt: fixedNow },
      );
      assert.equal(
        await getOutboxMessage(db, a.id, theirs.id),
        null,
        "another account's message is invisible",
      );
      const all = await listOutbox(db, a.id, { limit: 10, offset: 0 });
      assert.equal(all.total, 2);
      assert.deepEqual(all.rows.map((r) => r.id).sort(), mine.map((m) => m.id).sort());
      const pending = await listOutbox(db, a.id, { status: "pending", limit: 10, offset: 0 });
      assert.deepEqual(
        pending.rows.map((r) => r.id),
        [mine[1]!.id],
      );
      const byEvent = await listOutbox(db, a.id, { event: "INTERACTION_INGESTED", limit: 10, offset: 0 });
      assert.deepEqual(
        byEvent.rows.map((r) => r.id),
        [mine[0]!.id],
      );
      const byInteraction = await listOutbox(db, a.id, { interactionId, limit: 10, offset: 0 });
      assert.deepEqual(
        byInteraction.rows.map((r) => r.id),
        [mine[1]!.id],
      );
      const page = await listOutbox(db, a.id, { limit: 1, offset: 1 });
      assert.equal(page.rows.length, 1);
      assert.equal(page.total, 2);
      const depth = await outboxDepth(db);
      assert.ok(depth.some((d) => d.channel === "webhook" && d.status === "pending" && d.count >= 2));
      assert.ok(depth.every((d) => d.status !== "delivered"));
    });

    test("the dispatcher gives up after 3 attempts, and a resend grants 3 more with the same deliveryId", async () => {
      const secret = "whsec-test-0123456789";
      // 500 ×4, then 200: three attempts fail, the resend's first fails, its second is delivered.
      const receiver = await startWebhookReceiver(() => secret, [500, 500, 500, 500, 200]);
      try {
        const account = await seedAccount(db);
        const clock = new ManualClock(at(100_000_000));
        const m = webhookMessage({
          id: newId(),
          dedupeKey: unique("INTERACTION_INGESTED:"),
          url: `${receiver.url}/hook`,
          envelope: {
            event: "INTERACTION_INGESTED",
            timestamp: clock.now(),
            accountId: account.id,
            data: {},
          },
        });
        await addToOutbox(db, [m], clock.now());
        // Only this account's messages are signed; others (from other tests) fail without a send.
        const dispatcher = new WebhookDispatcher({
          db,
          clock,
          allow: parseFetchAllowList("127.0.0.1/8"),
          signingSecretFor: async (accountId) => (accountId === account.id ? secret : null),
        });
        // Messages left due by other tests go first (and fail unsigned): send until nothing is due.
        const sendDue = async () => {
          while ((await dispatcher.deliverDue()) > 0) {}
          return getOutboxMessage(db, account.id, m.id);
        };
        assert.equal((await sendDue())?.status, "pending");
        clock.advance(10_000);
        assert.equal((await sendDue())?.status, "pending");
        clock.advance(30_000);
        const failed = await sendDue();
        assert.equal(failed?.status, "failed");
        assert.equal(failed?.attempts, 3);
        clock.advance(3_600_000);
        await sendDue();
        assert.equal(receiver.requests.length, 3, "a failed message is not retried on its own");

        assert.equal(await resendOutboxMessage(db, account.id, m.id, clock.now()), true);
        assert.equal((await sendDue())?.status, "pending", "the resend has a fresh budget");
        clock.advance(10_000);
        const delivered = await sendDue();
        assert.equal(delivered?.status, "delivered");
        assert.equal(delivered?.attempts, 5);
        assert.deepEqual(
          (await listOutboxAttempts(db, m.id)).map((a) => a.statusCode),
          [500, 500, 500, 500, 200],
        );
        const bodies = receiver.requests.map((r) => r.body);
        assert.equal(new Set(bodies).size, 1, "every attempt carries the same bytes");
        assert.equal(receiver.events().length, 5, "every attempt is signed");
        assert.ok(receiver.events().every((e) => e.deliveryId === m.id));
        assert.ok(receiver.requests.every((r) => r.headers["x-cqa-delivery-id"] === m.id));
      } finally {
        await receiver.close();
      }
    });
  });
}
