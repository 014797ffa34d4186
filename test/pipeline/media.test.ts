import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { startFileServer, startWebhookReceiver } from "../support/httpPeers.ts";
import { backends, startTestCqa, type TestCqa } from "../support/testCqa.ts";
import { accountApi, assertSignedWebhook, ingest, interaction, transcripts } from "./pipelineSupport.ts";

for (const backend of backends()) {
  describe(`media in the pipeline (${backend.name})`, () => {
    const clock = new ManualClock("2026-03-02T09:00:00Z");
    let cqa: TestCqa;
    before(async () => {
      cqa = await startTestCqa({ backend, clock });
    });
    after(() => cqa.stop());

    test("a transcript not published yet keeps the interaction queued with a waiting reason, then it completes", async () => {
      const api = accountApi(cqa, await cqa.createAccount());
      const receiver = await startWebhookReceiver(() => api.account.signingSecret);
      const published: Record<string, string> = {};
      const files = await startFileServer(published);
      try {
        const id = await ingest(api, {
          external_interaction_id: "late-transcript",
          transcript_url: `${files.url}/transcripts/late-transcript.txt`,
          callback_url: receiver.url,
        });
        await cqa.drain();
        let detail = await interaction(api, id);
        assert.equal(detail.status, "queued");
        assert.match(detail.waiting_reason, /not available yet.*404/);
        assert.equal(detail.failure_reason, undefined);
        assert.deepEqual(detail.analyses, []);
        assert.equal(files.requests.length, 1);

        // Back-off: 30 s after the first miss, then 60 s.
        clock.advance(29_000);
        await cqa.drain();
        assert.equal(files.requests.length, 1, "not fetched again before the back-off");
        clock.advance(1_000);
        await cqa.drain();
        assert.equal(files.requests.length, 2);
        assert.equal((await interaction(api, id)).status, "queued");
        clock.advance(59_000);
        await cqa.drain();
        assert.equal(files.requests.length, 2, "the back-off grew to 60 s");

        published["/transcripts/late-transcript.txt"] = transcripts.goodCall;
        clock.advance(1_000);
        await cqa.drain();
        detail = await interaction(api, id);
        assert.equal(detail.status, "completed");
        assert.equal(detail.waiting_reason, null);
        assert.equal(detail.analyses.length, 1);
        assert.equal(detail.analyses[0].status, "completed");

        const events = receiver.requests.map((r) => assertSignedWebhook(r, api.account.signingSecret).event);
        assert.deepEqual(events, [
          "INTERACTION_INGESTED",
          "INTERACTION_ANALYSIS_IN_PROGRESS",
          "INTERACTION_ANALYSIS_COMPLETED",
        ]);
      } finally {
        await receiver.close();
        await files.close();
      }
    });

    test("a transcript that cannot be parsed fails the interaction at once, with a reason and a FAILED webhook", async () => {
      const api = accountApi(cqa, await cqa.createAccount());
      const receiver = await startWebhookReceiver(() => api.account.signingSecret);
      const files = await startFileServer({
        "/transcripts/pbx-export.json": JSON.stringify({ call: { id: "A-77", notes: "no segments here" } }),
      });
      try {
        const id = await ingest(api, {
          external_interaction_id: "unreadable-transcript",
          transcript_url: `${files.url}/transcripts/pbx-export.json`,
          callback_url: receiver.url,
        });
        await cqa.drain();
        clock.advance(3_600_000);
        await cqa.drain();
        const detail = await interaction(api, id);
        assert.equal(detail.status, "failed");
        assert.match(detail.failure_reason, /JSON transcript has no list of segments/);
        assert.match(detail.failure_reason, /Accepted forms/);
        assert.equal(detail.waiting_reason, null);
        assert.equal(files.requests.length, 1, "a transcript that cannot be read is not fetched again");

        const bodies = receiver.requests.map((r) => assertSignedWebhook(r, api.account.signingSecret));
        assert.deepEqual(
          bodies.map((b) => b.event),
          ["INTERACTION_INGESTED", "INTERACTION_ANALYSIS_FAILED"],
        );
        const failed = bodies[1]!;
        assert.equal(failed.interactionId, id);
        assert.equal(failed.externalInteractionId, "unreadable-transcript");
        assert.deepEqual(failed.data, {
          errorCode: "TRANSCRIPT_INVALID",
          errorMessage: detail.failure_reason,
        });
      } finally {
        await receiver.close();
        await files.close();
      }
    });

    test("a recording that never appears fails after the waiting budget with MEDIA_NOT_AVAILABLE", async () => {
      const api = accountApi(cqa, await cqa.createAccount());
      const receiver = await startWebhookReceiver(() => api.account.signingSecret);
      const files = await startFileServer({});
      try {
        const id = await ingest(api, {
          external_interaction_id: "never-published",
          audio_url: `${files.url}/recordings/never-published.wav`,
          callback_url: receiver.url,
        });
        await cqa.drain();
        let waitedHours = 0;
        while ((await interaction(api, id)).status === "queued" && waitedHours < 48) {
          clock.advance(3_600_000);
          waitedHours++;
          await cqa.drain();
        }
        const detail = await interaction(api, id);
        assert.equal(detail.status, "failed");
        assert.ok(waitedHours >= 6, `gave up after only ${waitedHours} h`);
        assert.match(detail.failure_reason, /not available yet.*404.*gave up after 20 attempts/);
        assert.equal(files.requests.length, 20);
        const failed = receiver.requests
          .map((r) => assertSignedWebhook(r, api.account.signingSecret))
          .filter((b) => b.event === "INTERACTION_ANALYSIS_FAILED");
        assert.equal(failed.length, 1);
        assert.equal(failed[0]?.data.errorCode, "MEDIA_NOT_AVAILABLE");
      } finally {
        await receiver.close();
        await files.close();
      }
    });
  });
}
