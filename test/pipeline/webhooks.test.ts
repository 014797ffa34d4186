import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { sendWebhook } from "../../src/delivery/webhookSender.ts";
import {
  type ProcessInteractionPayload,
  processInteractionJob,
} from "../../src/ingest/ingestInteractions.ts";
import { processInteractionHandler } from "../../src/pipeline/processInteraction.ts";
import { claimJobs } from "../../src/storage/jobQueue.ts";
import { claimDueOutbox } from "../../src/storage/outbox.ts";
import { startFileServer, startLocalServer, startWebhookReceiver } from "../support/httpPeers.ts";
import { backends, startTestCqa, type TestCqa } from "../support/testCqa.ts";
import {
  type AccountApi,
  accountApi,
  assertSignedWebhook,
  ingest,
  interaction,
  type Json,
  sendDueWebhooks,
  transcripts,
} from "./pipelineSupport.ts";

const envelopeKeys = [
  "event",
  "deliveryId",
  "timestamp",
  "accountId",
  "interactionId",
  "externalInteractionId",
  "data",
];
const kpiResultKeys = [
  "kpiId",
  "categoryId",
  "subCategoryId",
  "aiResponse",
  "aiJustification",
  "aiScore",
  "qaScore",
  "finalScore",
  "criticalityAdjustedScore",
];
const webhookTimeoutMs = 400;

for (const backend of backends()) {
  describe(`webhook delivery (${backend.name})`, () => {
    const clock = new ManualClock("2026-03-02T09:00:00Z");
    let cqa: TestCqa;
    before(async () => {
      cqa = await startTestCqa({ backend, clock, webhookTimeoutMs });
    });
    after(() => cqa.stop());

    /** An account whose interactions are not routed to Json profile: only INTERACTION_INGESTED is sent. */
    async function quietAccount(): Promise<AccountApi> {
      const api = accountApi(cqa, await cqa.createAccount());
      const off = await api.patch(`/assignment-rules/${api.account.catchAllRuleId}`, { enabled: false });
      assert.equal(off.status, 200, off.text);
      return api;
    }

    async function delivery(api: AccountApi, deliveryId: string): Promise<Record<string, Json>> {
      const answer = await api.get(`/webhook-deliveries/${deliveryId}`);
      assert.equal(answer.status, 200, answer.text);
      return answer.body.data;
    }

    test("every webhook is signed with the account's secret over its raw body and carries the documented payload", async () => {
      const api = accountApi(cqa, await cqa.createAccount());
      const receiver = await startWebhookReceiver(() => api.account.signingSecret);
      const files = await startFileServer({
        "/exports/calls.csv": [
          "external_interaction_id,channel_type,transcript_text,agent",
          `file-call-1,CHAT,"${transcripts.shortChat.replaceAll("\n", " ")}",agent-7`,
          "file-call-2,,Agent: hello,agent-8",
        ].join("\n"),
      });
      try {
        const goodId = await ingest(api, {
          external_interaction_id: "sig-good",
          transcript_text: transcripts.goodCall,
          callback_url: `${receiver.url}/cqa/events`,
        });
        const badId = await ingest(api, {
          external_interaction_id: "sig-unreadable",
          transcript_text: '{"call": {"notes": "exported by an old PBX"}}',
          callback_url: `${receiver.url}/cqa/events`,
        });
        const file = await api.post("/ingress/interactions/files", {
          file_url: `${files.url}/exports/calls.csv`,
          format: "csv",
          callback_url: `${receiver.url}/cqa/files`,
        });
        assert.equal(file.status, 202, file.text);
        await cqa.drain();

        assert.ok(receiver.requests.length >= 6, `only ${receiver.requests.length} webhooks arrived`);
        const bodies = receiver.requests.map((request) => {
          const body = assertSignedWebhook(request, api.account.signingSecret);
          const expectedKeys = envelopeKeys.filter((k) => k in body);
          assert.deepEqual(Object.keys(body), expectedKeys, `envelope of ${body.event}`);
          for (const key of ["event", "deliveryId", "timestamp", "accountId", "data"])
            assert.ok(key in body, key);
          assert.equal(body.accountId, api.account.accountId);
          assert.equal(new Date(body.timestamp).toISOString(), body.timestamp);
          assert.equal(request.headers["x-cqa-signature"]?.toString().startsWith("sha256="), true);
          return body;
        });
        assert.equal(
          new Set(bodies.map((b) => b.deliveryId)).size,
          bodies.length,
          "one deliveryId per event",
        );
        const of = (event: string, externalId?: string) =>
          bodies.filter(
            (b) => b.event === event && (externalId === undefined || b.externalInteractionId === externalId),
          );

        const ingested = of("INTERACTION_INGESTED");
        assert.deepEqual(ingested.map((b) => b.externalInteractionId).sort(), ["sig-good", "sig-unreadable"]);
        for (const b of ingested) assert.deepEqual(b.data, { status: "INGESTED" });
        assert.equal(of("INTERACTION_INGESTED", "sig-good")[0]?.interactionId, goodId);

        const detail = await interaction(api, "sig-good");
        const analysisId = detail.analyses[0].analysis_id;
        const [inProgress] = of("INTERACTION_ANALYSIS_IN_PROGRESS", "sig-good");
        assert.deepEqual(inProgress?.data, {
          analysisId,
          profileId: api.account.starterProfileId,
          profileName: "Starter quality profile",
        });

        const [completed] = of("INTERACTION_ANALYSIS_COMPLETED", "sig-good");
        assert.ok(completed);
        assert.equal(completed.interactionId, goodId);
        assert.deepEqual(Object.keys(completed.data), [
          "analysisId",
          "status",
          "profileId",
          "aiScore",
          "qaScore",
          "finalScore",
          "criticalityAdjustedScore",
          "analysisCompletedAt",
          "kpiResults",
        ]);
        const analysis = (await api.get(`/analyses/${analysisId}`)).body.data;
        assert.equal(completed.data.analysisId, analysisId);
        assert.equal(completed.data.status, "COMPLETED");
        assert.equal(completed.data.profileId, api.account.starterProfileId);
        assert.equal(completed.data.aiScore, analysis.ai_score);
        assert.equal(completed.data.qaScore, null);
        assert.equal(completed.data.finalScore, analysis.final_score);
        assert.equal(completed.data.criticalityAdjustedScore, analysis.criticality_adjusted_score);
        assert.equal(
          new Date(completed.data.analysisCompletedAt).toISOString(),
          completed.data.analysisCompletedAt,
        );
        assert.equal(completed.data.kpiResults.length, 6);
        for (const kpi of completed.data.kpiResults) assert.deepEqual(Object.keys(kpi), kpiResultKeys);
        const greeting = completed.data.kpiResults.find((k: { kpiId: string }) => k.kpiId === "greeting");
        assert.deepEqual(
          {
            categoryId: greeting.categoryId,
            subCategoryId: greeting.subCategoryId,
            aiResponse: greeting.aiResponse,
          },
          { categoryId: "opening", subCategoryId: "greeting", aiResponse: "Yes" },
        );

        const [failed] = of("INTERACTION_ANALYSIS_FAILED", "sig-unreadable");
        assert.ok(failed, "INTERACTION_ANALYSIS_FAILED for the unreadable transcript");
        assert.equal(failed.interactionId, badId);
        assert.equal(failed.data.errorCode, "TRANSCRIPT_INVALID");
        assert.match(failed.data.errorMessage, /transcript/i);
        for (const key of Object.keys(failed.data)) {
          assert.ok(["errorCode", "errorMessage", "analysisId", "profileId"].includes(key), key);
        }

        const [fileDone] = of("FILE_INGESTION_COMPLETED");
        assert.ok(fileDone, "FILE_INGESTION_COMPLETED");
        assert.equal(receiver.requests[bodies.indexOf(fileDone)]?.path, "/cqa/files");
        assert.equal("interactionId" in fileDone, false);
        assert.deepEqual(Object.keys(fileDone.data).slice(0, 7), [
          "fileJobId",
          "status",
          "totalRows",
          "accepted",
          "rejected",
          "completedAt",
          "errors",
        ]);
        assert.equal(fileDone.data.fileJobId, file.body.data.id);
        assert.equal(fileDone.data.status, "FILE_INGESTION_COMPLETED");
        assert.deepEqual(
          [fileDone.data.totalRows, fileDone.data.accepted, fileDone.data.rejected],
          [2, 1, 1],
        );
        assert.equal(fileDone.data.errors.length, 1);
        assert.deepEqual(Object.keys(fileDone.data.errors[0]), ["row", "reason"]);
        assert.equal(typeof fileDone.data.errors[0].row, "number");
        assert.match(fileDone.data.errors[0].reason, /channel_type/);
        // As published, file rows get no INTERACTION_INGESTED, but their analyses report to the callback.
        assert.equal(of("INTERACTION_INGESTED", "file-call-1").length, 0);
        assert.equal(of("INTERACTION_ANALYSIS_COMPLETED", "file-call-1").length, 1);
      } finally {
        await receiver.close();
        await files.close();
      }
    });

    test("a receiver answering 500, 500, 200 gets exactly 3 attempts: the 2nd 10 s and the 3rd 30 s after the one before", async () => {
      const api = await quietAccount();
      const receiver = await startWebhookReceiver(() => api.account.signingSecret, [500, 500, 200]);
      try {
        await ingest(api, {
          external_interaction_id: "retry-500",
          transcript_text: transcripts.shortChat,
          callback_url: receiver.url,
        });
        await sendDueWebhooks(cqa);
        assert.equal(receiver.requests.length, 1);

        clock.advance(9_999);
        await sendDueWebhooks(cqa);
        assert.equal(receiver.requests.length, 1, "the 2nd attempt is not due before 10 s");
        clock.advance(1);
        await sendDueWebhooks(cqa);
        assert.equal(receiver.requests.length, 2, "the 2nd attempt is due at 10 s");

        clock.advance(29_999);
        await sendDueWebhooks(cqa);
        assert.equal(receiver.requests.length, 2, "the 3rd attempt is not due before 30 s more");
        clock.advance(1);
        await sendDueWebhooks(cqa);
        assert.equal(receiver.requests.length, 3, "the 3rd attempt is due 30 s after the 2nd");

        clock.advance(3_600_000);
        await sendDueWebhooks(cqa);
        assert.equal(receiver.requests.length, 3, "a delivered webhook is never sent again");

        const [first, second, third] = receiver.requests.map((r) =>
          assertSignedWebhook(r, api.account.signingSecret),
        );
        assert.equal(first?.event, "INTERACTION_INGESTED");
        assert.equal(
          new Set(receiver.requests.map((r) => r.body)).size,
          1,
          "every attempt sends the same body",
        );
        assert.equal(second?.deliveryId, first?.deliveryId);
        assert.equal(third?.deliveryId, first?.deliveryId);
        const stamps = receiver.requests.map((r) => Date.parse(String(r.headers["x-cqa-timestamp"])));
        assert.deepEqual([stamps[1]! - stamps[0]!, stamps[2]! - stamps[1]!], [10_000, 30_000]);

        const detail = await delivery(api, String(first?.deliveryId));
        assert.equal(detail.status, "DELIVERED");
        assert.equal(detail.attempts, 3);
        assert.deepEqual(
          detail.attempt_log.map((a: { status_code: number }) => a.status_code),
          [500, 500, 200],
        );
      } finally {
        await receiver.close();
      }
    });

    test("an interaction's webhooks arrive in the order they happened, even when an earlier one is being retried", async () => {
      const api = accountApi(cqa, await cqa.createAccount());
      const receiver = await startWebhookReceiver(() => api.account.signingSecret, [500, 200]);
      try {
        await ingest(api, {
          external_interaction_id: "in-order",
          transcript_text: transcripts.goodCall,
          callback_url: receiver.url,
        });
        await sendDueWebhooks(cqa);
        await cqa.drain();
        assert.equal(receiver.requests.length, 1, "later events wait while INTERACTION_INGESTED is pending");
        clock.advance(10_000);
        await cqa.drain();
        const events = receiver.requests.map((r) => assertSignedWebhook(r, api.account.signingSecret).event);
        assert.deepEqual(events, [
          "INTERACTION_INGESTED",
          "INTERACTION_INGESTED",
          "INTERACTION_ANALYSIS_IN_PROGRESS",
          "INTERACTION_ANALYSIS_COMPLETED",
        ]);
      } finally {
        await receiver.close();
      }
    });

    test("a 400 answer is final: exactly one attempt and the delivery is FAILED", async () => {
      const api = await quietAccount();
      const receiver = await startWebhookReceiver(() => api.account.signingSecret, [400, 200]);
      try {
        await ingest(api, {
          external_interaction_id: "final-400",
          transcript_text: transcripts.shortChat,
          callback_url: receiver.url,
        });
        await sendDueWebhooks(cqa);
        clock.advance(10 * 60_000);
        await sendDueWebhooks(cqa);
        assert.equal(receiver.requests.length, 1);
        const deliveryId = assertSignedWebhook(receiver.requests[0]!, api.account.signingSecret).deliveryId;
        const detail = await delivery(api, deliveryId);
        assert.equal(detail.status, "FAILED");
        assert.equal(detail.attempts, 1);
        assert.equal(detail.last_status_code, 400);
        assert.match(detail.last_error, /400/);
      } finally {
        await receiver.close();
      }
    });

    test("3 × 503 → FAILED, listed with its attempt log, and a resend goes out with the same deliveryId and body and a fresh budget", async () => {
      const api = await quietAccount();
      const receiver = await startWebhookReceiver(
        () => api.account.signingSecret,
        [503, 503, 503, 503, 503, 200],
      );
      try {
        await ingest(api, {
          external_interaction_id: "dead-503",
          transcript_text: transcripts.shortChat,
          callback_url: receiver.url,
        });
        await sendDueWebhooks(cqa);
        clock.advance(10_000);
        await sendDueWebhooks(cqa);
        clock.advance(30_000);
        await sendDueWebhooks(cqa);
        clock.advance(60 * 60_000);
        await sendDueWebhooks(cqa);
        assert.equal(receiver.requests.length, 3, "three attempts in all");

        const failedList = await api.get("/webhook-deliveries?status=FAILED");
        assert.equal(failedList.status, 200, failedList.text);
        assert.equal(failedList.body.data.deliveries.length, 1);
        const listed = failedList.body.data.deliveries[0];
        const original = assertSignedWebhook(receiver.requests[0]!, api.account.signingSecret);
        assert.equal(listed.delivery_id, original.deliveryId);
        assert.equal(listed.status, "FAILED");
        assert.equal(listed.event, "INTERACTION_INGESTED");
        assert.equal(listed.last_status_code, 503);
        const pending = await api.get("/webhook-deliveries?status=PENDING");
        assert.equal(pending.body.data.deliveries.length, 0);

        const detail = await delivery(api, original.deliveryId);
        assert.equal(detail.attempts, 3);
        assert.deepEqual(
          detail.attempt_log.map((a: { attempt: number; status_code: number }) => [a.attempt, a.status_code]),
          [
            [1, 503],
            [2, 503],
            [3, 503],
          ],
        );
        for (const a of detail.attempt_log) assert.match(a.error, /503/);
        assert.deepEqual(detail.payload, original);

        const resend = await api.post(`/webhook-deliveries/${original.deliveryId}/resend`);
        assert.equal(resend.status, 202, resend.text);
        await sendDueWebhooks(cqa);
        clock.advance(10_000);
        await sendDueWebhooks(cqa);
        clock.advance(30_000);
        await sendDueWebhooks(cqa);
        assert.equal(receiver.requests.length, 6, "the resend has a budget of 3 attempts of its own");
        for (const request of receiver.requests.slice(3)) {
          assert.equal(request.body, receiver.requests[0]!.body, "same deliveryId, same body");
          assertSignedWebhook(request, api.account.signingSecret);
        }
        const resent = await delivery(api, original.deliveryId);
        assert.equal(resent.status, "DELIVERED");
        assert.equal(resent.attempt_log.length, 6);
        assert.equal((await api.get("/webhook-deliveries?status=FAILED")).body.data.deliveries.length, 0);
      } finally {
        await receiver.close();
      }
    });

    test("429 and a receiver that never answers are retried like 5xx", async () => {
      const api = await quietAccount();
      const busy = await startWebhookReceiver(() => api.account.signingSecret, [429, 200]);
      let hangs = 1;
      const slow = await startLocalServer((_request, response) => {
        if (hangs-- > 0) return; // never answers: cqa's timeout must fire
        response.statusCode = 204;
        response.end();
      });
      try {
        await ingest(api, {
          external_interaction_id: "busy-429",
          transcript_text: transcripts.shortChat,
          callback_url: busy.url,
        });
        await ingest(api, {
          external_interaction_id: "slow-timeout",
          transcript_text: transcripts.shortChat,
          callback_url: slow.url,
        });
        await sendDueWebhooks(cqa);
        assert.equal(busy.requests.length, 1);
        assert.equal(slow.requests.length, 1);

        const busyId = assertSignedWebhook(busy.requests[0]!, api.account.signingSecret).deliveryId;
        const slowId = assertSignedWebhook(slow.requests[0]!, api.account.signingSecret).deliveryId;
        const timedOut = await delivery(api, slowId);
        assert.equal(timedOut.status, "PENDING");
        assert.equal(timedOut.last_status_code, null);
        assert.match(timedOut.last_error, /no answer within/);
        assert.equal((await delivery(api, busyId)).status, "PENDING");

        clock.advance(10_000);
        await sendDueWebhooks(cqa);
        assert.equal(busy.requests.length, 2);
        assert.equal(slow.requests.length, 2);
        assert.equal(slow.requests[1]!.body, slow.requests[0]!.body);
        assert.equal((await delivery(api, busyId)).status, "DELIVERED");
        const slowDone = await delivery(api, slowId);
        assert.equal(slowDone.status, "DELIVERED");
        assert.deepEqual(
          slowDone.attempt_log.map((a: { status_code: number | null }) => a.status_code),
          [null, 204],
        );
      } finally {
        await busy.close();
        await slow.close();
      }
    });

    test("with the account's webhook flag off, callback URLs are stored but no request is ever made", async () => {
      const api = accountApi(cqa, await cqa.createAccount());
      const receiver = await startWebhookReceiver(() => api.account.signingSecret);
      try {
        const off = await api.patch("", { webhooks_enabled: false });
        assert.equal(off.status, 200, off.text);
        assert.equal(off.body.data.webhooks_enabled, false);
        const id = await ingest(api, {
          external_interaction_id: "flag-off",
          transcript_text: transcripts.goodCall,
          callback_url: `${receiver.url}/hook`,
        });
        await cqa.drain();
        const detail = await interaction(api, id);
        assert.equal(detail.status, "completed");
        const analysisId = detail.analyses[0].analysis_id;
        const dispute = await api.post(`/analyses/${analysisId}/disputes`, {
          reason: "The greeting was fine",
        });
        assert.equal(dispute.status, 201, dispute.text);
        await cqa.drain();
        clock.advance(3_600_000);
        await cqa.drain();

        assert.equal(receiver.requests.length, 0);
        const stored = await cqa.db.query<{ callback_url: string }>(
          "SELECT callback_url FROM interactions WHERE id = $1",
          [id],
        );
        assert.equal(stored.rows[0]?.callback_url, `${receiver.url}/hook`);
        assert.equal((await api.get("/webhook-deliveries")).body.data.pagination.total, 0);
      } finally {
        await receiver.close();
      }
    });

    test("webhooks still waiting for a retry are not sent once the account turns its webhook flag off", async () => {
      const api = await quietAccount();
      const receiver = await startWebhookReceiver(() => api.account.signingSecret, [500, 200]);
      try {
        await ingest(api, {
          external_interaction_id: "flag-off-later",
          transcript_text: transcripts.shortChat,
          callback_url: receiver.url,
        });
        await sendDueWebhooks(cqa);
        assert.equal(receiver.requests.length, 1);
        assert.equal((await api.patch("", { webhooks_enabled: false })).status, 200);
        clock.advance(10_000);
        await sendDueWebhooks(cqa);
        clock.advance(30_000);
        await sendDueWebhooks(cqa);
        assert.equal(receiver.requests.length, 1, "no request after the flag was turned off");
        const deliveryId = JSON.parse(receiver.requests[0]!.body).deliveryId;
        const detail = await delivery(api, deliveryId);
        assert.equal(detail.status, "FAILED");
        assert.match(detail.last_error, /webhooks_enabled/);
        // Turned on again, the operator can re-send it: same deliveryId, same body.
        assert.equal((await api.patch("", { webhooks_enabled: true })).status, 200);
        assert.equal((await api.post(`/webhook-deliveries/${deliveryId}/resend`)).status, 202);
        await sendDueWebhooks(cqa);
        assert.equal(receiver.requests.length, 2);
        assert.equal(receiver.requests[1]!.body, receiver.requests[0]!.body);
        assert.equal((await delivery(api, deliveryId)).status, "DELIVERED");
      } finally {
        await receiver.close();
      }
    });

    test("a sender that crashed between sending and recording is followed by a re-send with the same deliveryId", async () => {
      const api = await quietAccount();
      const receiver = await startWebhookReceiver(() => api.account.signingSecret);
      try {
        await ingest(api, {
          external_interaction_id: "crash-after-send",
          transcript_text: transcripts.shortChat,
          callback_url: receiver.url,
        });
        // Another dispatcher leases the message and sends it, then dies before recording the attempt.
        const leaseMs = webhookTimeoutMs * 3;
        const claimed = await claimDueOutbox(cqa.db, {
          channel: "webhook",
          limit: 100,
          now: clock.now(),
          leaseMs,
        });
        const message = claimed.find((m) => m.accountId === api.account.accountId);
        assert.ok(message);
        const outcome = await sendWebhook({
          url: message.target,
          body: message.payload,
          secret: api.account.signingSecret,
          deliveryId: message.id,
          event: message.event,
          sentAt: clock.now(),
          allow: cqa.running.services.allow,
        });
        assert.equal(outcome.result, "delivered");
        assert.equal(receiver.requests.length, 1);

        await sendDueWebhooks(cqa);
        assert.equal(receiver.requests.length, 1, "nobody else sends it while the lease holds");
        clock.advance(leaseMs + 1);
        await sendDueWebhooks(cqa);
        assert.equal(receiver.requests.length, 2, "sent again once the dead sender's lease ran out");
        const [first, second] = receiver.requests.map((r) =>
          assertSignedWebhook(r, api.account.signingSecret),
        );
        assert.equal(second?.deliveryId, message.id);
        assert.equal(first?.deliveryId, message.id);
        assert.equal(receiver.requests[1]!.body, receiver.requests[0]!.body);
        const detail = await delivery(api, message.id);
        assert.equal(detail.status, "DELIVERED");
      } finally {
        await receiver.close();
      }
    });

    test("re-running the processing job adds no outbox rows: each event keeps its one deliveryId", async () => {
      const api = accountApi(cqa, await cqa.createAccount());
      const receiver = await startWebhookReceiver(() => api.account.signingSecret);
      const outboxOf = async () =>
        (
          await cqa.db.query<{ id: string; event: string }>(
            "SELECT id, event FROM outbox WHERE account_id = $1 ORDER BY id",
            [api.account.accountId],
          )
        ).rows;
      try {
        const id = await ingest(api, {
          external_interaction_id: "rerun",
          transcript_text: transcripts.goodCall,
          callback_url: receiver.url,
        });
        const services = cqa.running.services;
        const handler = processInteractionHandler({
          db: cqa.db,
          clock,
          media: {
            blobs: services.blobs,
            allow: services.allow,
            timeoutMs: 5_000,
            maxAudioBytes: 10 * 1024 * 1024,
            maxTranscriptBytes: 1024 * 1024,
          },
        });
        // A worker takes the job, runs it to the end, and dies before marking the job done.
        const leaseMs = 60_000;
        const jobs = await claimJobs(cqa.db, {
          workerId: "worker-that-dies",
          limit: 100,
          leaseMs,
          now: clock.now(),
          kinds: [processInteractionJob],
        });
        const job = jobs.find((j) => (j.payload as ProcessInteractionPayload).interactionId === id);
        assert.ok(job);
        await handler.run(job, new AbortController().signal);
        await sendDueWebhooks(cqa);
        const firstRun = await outboxOf();
        assert.deepEqual(firstRun.map((r) => r.event).sort(), [
          "INTERACTION_ANALYSIS_COMPLETED",
          "INTERACTION_ANALYSIS_IN_PROGRESS",
          "INTERACTION_INGESTED",
        ]);
        const analysisIds = (await interaction(api, id)).analyses.map(
          (a: { analysis_id: string }) => a.analysis_id,
        );

        // The lease runs out and a live worker runs the same job again.
        clock.advance(leaseMs + 1);
        await cqa.drain();
        assert.deepEqual(await outboxOf(), firstRun);
        const stillQueued = await cqa.db.query(
          "SELECT id FROM jobs WHERE kind = $1 AND payload->>'interactionId' = $2",
          [processInteractionJob, id],
        );
        assert.equal(stillQueued.rows.length, 0, "the re-run job finished");

        // A re-run that redoes all the work (as if the end state had not been seen) still adds nothing.
        await cqa.db.query("UPDATE interactions SET status = 'processing' WHERE id = $1", [id]);
        await handler.run({ ...job, attempts: job.attempts + 1 }, new AbortController().signal);
        await cqa.drain();
        assert.deepEqual(await outboxOf(), firstRun);
        const after = await interaction(api, id);
        assert.equal(after.status, "completed");
        assert.deepEqual(
          after.analyses.map((a: { analysis_id: string }) => a.analysis_id),
          analysisIds,
        );

        assert.equal(receiver.requests.length, 3, "each event was delivered once");
        const ids = receiver.requests.map(
          (r) => assertSignedWebhook(r, api.account.signingSecret).deliveryId,
        );
        assert.deepEqual([...ids].sort(), firstRun.map((r) => r.id).sort());
      } finally {
        await receiver.close();
      }
    });
  });
}
