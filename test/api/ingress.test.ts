// Standard API conformance — data import: the published single-ingest examples, batches and their
// tracking, and the multipart upload extension. Runs on every storage backend.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { audioLabels, fixtureRecording, type LabelledCall } from "../support/audioFixtures.ts";
import {
  type LocalServer,
  startFileServer,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../support/httpPeers.ts";
import { backends, type CreatedAccount, startTestCqa, type TestCqa } from "../support/testCqa.ts";
import {
  type AccountApi,
  accountApi,
  assertApiError,
  chatTextExample,
  chatUrlExample,
  dataOf,
  isoInstantPattern,
  uuidPattern,
  voiceExample,
  wavRecording,
} from "./conformance.ts";

const duplicateMessage = "Duplicate: interaction with this external_interaction_id already exists";
const publishedDetailFields = [
  "interaction_id",
  "external_interaction_id",
  "channel_type",
  "source",
  "status",
  "status_modified_at",
  "audio_url",
  "transcript_url",
  "pii_redacted",
  "created_at",
  "metadata",
  "analyses",
];

const chatTranscript = "Agent: Good morning, thank you for calling.\nCustomer: Hi, my card was blocked.";

for (const backend of backends()) {
  describe(`Standard API data import (${backend.name})`, () => {
    let cqa: TestCqa;
    let files: LocalServer;
    let receiver: WebhookReceiver;
    let account: CreatedAccount;
    let api: AccountApi;
    const wav = wavRecording();
    // A real (synthesised) call for the published VOICE example: measured, and transcribed offline.
    const call = fixtureRecording(audioLabels().calls.find((c) => c.name === "mono-call") as LabelledCall);

    before(async () => {
      cqa = await startTestCqa({ backend });
      files = await startFileServer({
        "/recordings/call-001.wav": call,
        "/messages/chat-001.txt": chatTranscript,
        "/messages/url-wins.txt":
          "Agent: Good afternoon, you're through to the billing team.\nCustomer: Hello.",
        "/recordings/expired.wav": { status: 403, body: "Request has expired" },
      });
      account = await cqa.createAccount();
      receiver = await startWebhookReceiver(() => account.signingSecret);
      api = accountApi(cqa, account);
    });

    after(async () => {
      await receiver?.close();
      await files?.close();
      await cqa?.stop();
    });

    test("the three published single-ingest examples are queued, analysed and readable by either id", async () => {
      const examples = [
        voiceExample(`${files.url}/recordings/call-001.wav`, `${receiver.url}/webhooks/cqa`),
        chatUrlExample(`${files.url}/messages/chat-001.txt`),
        chatTextExample,
      ];
      const created: { interaction_id: string; external_interaction_id: string }[] = [];
      for (const example of examples) {
        const response = await api("POST", "/ingress/interactions", { body: example });
        const data = dataOf(response, 201);
        assert.equal(response.body.message, "Queued for processing");
        assert.deepEqual(Object.keys(data).sort(), ["external_interaction_id", "interaction_id", "status"]);
        assert.match(data.interaction_id, uuidPattern);
        assert.equal(data.external_interaction_id, example["external_interaction_id"]);
        assert.equal(data.status, "queued");
        created.push(data);
      }

      const queued = dataOf(await api("GET", `/ingress/interactions/${created[0]!.interaction_id}`));
      assert.equal(queued.status, "queued");
      assert.deepEqual(queued.analyses, []);

      await cqa.drain();

      for (const [index, example] of examples.entries()) {
        const { interaction_id: id, external_interaction_id: externalId } = created[index]!;
        const byUuid = dataOf(await api("GET", `/ingress/interactions/${id}`));
        const byExternalId = dataOf(
          await api("GET", `/ingress/interactions/${encodeURIComponent(externalId)}`),
        );
        assert.deepEqual(byExternalId, byUuid);
        for (const field of publishedDetailFields) assert.ok(field in byUuid, `detail has ${field}`);
        assert.equal("batch_id" in byUuid, false, "batch_id is omitted for single ingestion");
        assert.equal("failure_reason" in byUuid, false, "failure_reason only when failed");
        assert.equal(byUuid.interaction_id, id);
        assert.equal(byUuid.external_interaction_id, externalId);
        assert.equal(byUuid.channel_type, example["channel_type"]);
        assert.equal(byUuid.source, example["source"]);
        assert.equal(byUuid.status, "completed");
        assert.match(byUuid.status_modified_at, isoInstantPattern);
        assert.match(byUuid.created_at, isoInstantPattern);
        assert.equal(byUuid.audio_url, example["audio_url"] ?? null);
        assert.equal(byUuid.transcript_url, example["transcript_url"] ?? null);
        assert.equal(byUuid.pii_redacted, false);
        assert.deepEqual(byUuid.metadata, example["metadata"] ?? {});
        assert.equal(byUuid.analyses.length, 1);
        const [analysis] = byUuid.analyses;
        assert.deepEqual(Object.keys(analysis).sort(), ["analysis_id", "profile_id", "status"]);
        assert.match(analysis.analysis_id, uuidPattern);
        assert.equal(analysis.profile_id, account.starterProfileId);
        assert.equal(analysis.status, "completed");
      }

      // VOICE: the recording was fetched and measured; transcribed offline when PocketSphinx is
      // installed (then the greeting is found), else every KPI is N/A and says why.
      assert.ok(files.requests.some((r) => r.path === "/recordings/call-001.wav"));
      const voiceDetail = dataOf(await api("GET", `/ingress/interactions/${created[0]!.interaction_id}`));
      assert.equal(voiceDetail.audio_measures.format.container, "wav");
      const voice = await analysisOf(api, created[0]!.interaction_id);
      const voiceKpis = kpisOf(voice);
      assert.ok(voiceKpis.length > 0);
      if (voiceDetail.speech.transcriber) {
        const greeting = voiceKpis.find((k) => k.kpi_name === "Greeting");
        assert.equal(greeting?.ai_response, "Yes", greeting?.ai_justification);
        assert.match(greeting?.ai_justification ?? "", /thank you for calling/);
      } else {
        for (const kpi of voiceKpis) {
          assert.equal(kpi.ai_response, "N/A", kpi.kpi_name);
          assert.match(kpi.ai_justification, /No transcript was available/);
        }
      }

      // CHAT with transcript_url: the transcript served at the URL is what was scored.
      assert.ok(files.requests.some((r) => r.path === "/messages/chat-001.txt"));
      const greetingFromUrl = kpisOf(await analysisOf(api, created[1]!.interaction_id)).find(
        (k) => k.kpi_name === "Greeting",
      );
      assert.equal(greetingFromUrl?.ai_response, "Yes");
      assert.match(greetingFromUrl?.ai_justification ?? "", /good morning|thank you for calling/i);

      // CHAT with transcript_text: the inline text was scored.
      const greetingFromText = kpisOf(await analysisOf(api, created[2]!.interaction_id)).find(
        (k) => k.kpi_name === "Greeting",
      );
      assert.equal(greetingFromText?.ai_response, "Yes");
      assert.match(greetingFromText?.ai_justification ?? "", /Hello/);

      // The VOICE example's callback_url was told the interaction was ingested.
      const events = receiver.events().filter((e) => e["externalInteractionId"] === "call-2026-04-01-001");
      assert.ok(events.some((e) => e.event === "INTERACTION_INGESTED" && e.data["status"] === "INGESTED"));
      assert.ok(events.some((e) => e.event === "INTERACTION_ANALYSIS_COMPLETED"));
      assert.deepEqual(receiver.badSignatures(), []);
    });

    test("an interaction whose recording cannot be fetched is failed and says why in failure_reason", async () => {
      const created = dataOf(
        await api("POST", "/ingress/interactions", {
          body: {
            external_interaction_id: "expired-link-001",
            channel_type: "VOICE",
            audio_url: `${files.url}/recordings/expired.wav`,
          },
        }),
        201,
      );
      await cqa.drain();
      const detail = dataOf(await api("GET", `/ingress/interactions/${created.interaction_id}`));
      assert.equal(detail.status, "failed");
      assert.match(detail.failure_reason, /expired\.wav answered 403/);
      assert.deepEqual(Object.keys(detail).slice(0, 8), [
        "interaction_id",
        "external_interaction_id",
        "channel_type",
        "source",
        "status",
        "status_modified_at",
        "failure_reason",
        "audio_url",
      ]);
    });

    test("re-sending an example answers 409 DUPLICATE with the published message", async () => {
      const body = { ...chatTextExample, external_interaction_id: "dup-check-001" };
      dataOf(await api("POST", "/ingress/interactions", { body }), 201);
      assertApiError(
        await api("POST", "/ingress/interactions", { body }),
        409,
        "DUPLICATE",
        duplicateMessage,
      );
      // A different content under the same id is a duplicate too.
      const changed = { ...body, transcript_text: "Agent: something else" };
      assertApiError(
        await api("POST", "/ingress/interactions", { body: changed }),
        409,
        "DUPLICATE",
        duplicateMessage,
      );

      // In a batch, known ids and ids repeated within the batch are rejected item by item.
      const fresh = { ...chatTextExample, external_interaction_id: "dup-check-002" };
      const mixed = await api("POST", "/ingress/interactions/batch", {
        body: { interactions: [body, fresh, fresh] },
      });
      const data = dataOf(mixed, 202);
      assert.equal(data.accepted, 1);
      assert.deepEqual(
        data.errors.map((e: { line: number; code: string }) => [e.line, e.code]),
        [
          [1, "DUPLICATE"],
          [3, "DUPLICATE"],
        ],
      );
      assert.equal(data.errors[0].reason, duplicateMessage);
      assert.match(data.errors[1].reason, /appears more than once in this request \(first as item 2\)/);
      // A batch of nothing but known ids is a conflict as a whole.
      assertApiError(
        await api("POST", "/ingress/interactions/batch", { body: { interactions: [body, fresh] } }),
        409,
        "DUPLICATE",
        /No interaction of the batch was accepted/,
      );
    });

    test("an external id with %, / or spaces is found by that id (a % used to answer 500)", async () => {
      for (const externalId of ["promo-100%", "crm%2Fcase-7", "team a/call 1", "ünï-çødé #3?"]) {
        const created = dataOf(
          await api("POST", "/ingress/interactions", {
            body: { ...chatTextExample, external_interaction_id: externalId },
          }),
          201,
        );
        const found = dataOf(await api("GET", `/ingress/interactions/${encodeURIComponent(externalId)}`));
        assert.equal(found.external_interaction_id, externalId);
        assert.equal(found.interaction_id, created.interaction_id);
      }
    });

    test("transcript_url wins over transcript_text when both are sent", async () => {
      const created = dataOf(
        await api("POST", "/ingress/interactions", {
          body: {
            external_interaction_id: "url-wins-001",
            channel_type: "CHAT",
            transcript_url: `${files.url}/messages/url-wins.txt`,
            transcript_text: "Agent: This inline text must be ignored.\nCustomer: Ok.",
          },
        }),
        201,
      );
      await cqa.drain();
      const transcript = dataOf(
        await api("GET", `/ingress/interactions/${created.interaction_id}/transcript`),
      );
      const text = transcript.turns.map((t: { text: string }) => t.text).join("\n");
      assert.match(text, /through to the billing team/);
      assert.doesNotMatch(text, /must be ignored/);
      const detail = dataOf(await api("GET", "/ingress/interactions/url-wins-001"));
      assert.equal(detail.transcript_url, `${files.url}/messages/url-wins.txt`);
    });

    test("a batch answers 202 pending and is tracked until its interactions complete", async () => {
      const items = ["batch-a-1", "batch-a-2", "batch-a-3"].map((id) => ({
        ...chatTextExample,
        external_interaction_id: id,
      }));
      const response = await api("POST", "/ingress/interactions/batch", { body: { interactions: items } });
      const data = dataOf(response, 202);
      assert.deepEqual(data, { id: data.id, type: "batch", status: "pending" });
      assert.match(data.id, uuidPattern);

      const pending = dataOf(await api("GET", `/ingress/interactions/batch/${data.id}`));
      assert.equal(pending.id, data.id);
      assert.equal(pending.job_type, "batch");
      assert.equal(pending.job_status, "pending");
      assert.equal(pending.total, 3);
      assert.equal(pending.total_rows, 3);
      assert.equal(pending.accepted, 3);
      assert.equal(pending.rejected, 0);
      assert.deepEqual(pending.errors, []);
      assert.equal("completed_at" in pending, false);
      assert.deepEqual(pending.pagination, { page: 0, size: 20, total_elements: 3, total_pages: 1 });

      await cqa.drain();

      const done = dataOf(await api("GET", `/ingress/interactions/batch/${data.id}?page=0&size=2`));
      assert.equal(done.job_status, "completed");
      assert.match(done.completed_at, isoInstantPattern);
      assert.deepEqual(done.pagination, { page: 0, size: 2, total_elements: 3, total_pages: 2 });
      assert.equal(done.interactions.length, 2);
      const secondPage = dataOf(await api("GET", `/ingress/interactions/batch/${data.id}?page=1&size=2`));
      assert.equal(secondPage.interactions.length, 1);
      const seen = [...done.interactions, ...secondPage.interactions]
        .map((i) => i.external_interaction_id)
        .sort();
      assert.deepEqual(seen, ["batch-a-1", "batch-a-2", "batch-a-3"]);
      for (const interaction of [...done.interactions, ...secondPage.interactions]) {
        assert.equal(interaction.batch_id, data.id);
        assert.equal(interaction.status, "completed");
        assert.equal(interaction.analyses.length, 1);
      }
      const single = dataOf(await api("GET", "/ingress/interactions/batch-a-2"));
      assert.equal(single.batch_id, data.id);
    });

    test("tracking clamps a page size above 100 to 100 without an error", async () => {
      const items = Array.from({ length: 3 }, (_, i) => ({
        ...chatTextExample,
        external_interaction_id: `clamp-${i}`,
      }));
      const { id } = dataOf(
        await api("POST", "/ingress/interactions/batch", { body: { interactions: items } }),
        202,
      );
      const page = dataOf(await api("GET", `/ingress/interactions/batch/${id}?page=0&size=500`));
      assert.equal(page.pagination.size, 100);
      assert.equal(page.pagination.total_pages, 1);
      assert.equal(page.interactions.length, 3);
    });

    test("a batch with invalid items queues the valid ones and lists the rejected ones", async () => {
      const response = await api("POST", "/ingress/interactions/batch", {
        body: {
          interactions: [
            { ...chatTextExample, external_interaction_id: "partial-ok-1" },
            { external_interaction_id: "partial-bad-1", channel_type: "CHAT" },
            { ...chatTextExample, external_interaction_id: "partial-ok-2" },
            { ...chatTextExample, external_interaction_id: "partial-bad-2", metadata: { nested: { no: 1 } } },
          ],
        },
      });
      const data = dataOf(response, 202);
      assert.equal(response.body.message, "2 interaction(s) queued, 2 rejected");
      assert.equal(data.type, "batch");
      assert.equal(data.status, "pending");
      assert.equal(data.accepted, 2);
      assert.equal(data.rejected, 2);
      assert.equal(data.errors.length, 2);
      const [noContent, badMetadata] = data.errors;
      assert.equal(noContent.line, 2);
      assert.equal(noContent.external_interaction_id, "partial-bad-1");
      assert.match(
        noContent.reason,
        /At least one of audio_url, transcript_url or transcript_text must be provided/,
      );
      assert.equal(badMetadata.line, 4);
      assert.equal(badMetadata.external_interaction_id, "partial-bad-2");
      assert.match(badMetadata.reason, /metadata\.nested must be a string, a number or a boolean/);

      const queued = dataOf(await api("GET", "/ingress/interactions/partial-ok-2"));
      assert.equal(queued.status, "queued");
      assert.equal(queued.batch_id, data.id);
      assertApiError(await api("GET", "/ingress/interactions/partial-bad-1"), 404, "NOT_FOUND");

      const tracking = dataOf(await api("GET", `/ingress/interactions/batch/${data.id}`));
      assert.equal(tracking.total_rows, 4);
      assert.equal(tracking.accepted, 2);
      assert.equal(tracking.rejected, 2);
      assert.equal(tracking.total, 2);
      assert.deepEqual(
        tracking.errors.map((e: { line: number; external_interaction_id: string }) => [
          e.line,
          e.external_interaction_id,
        ]),
        [
          [2, "partial-bad-1"],
          [4, "partial-bad-2"],
        ],
      );
    });

    test("one item with transcript_text over 100 KB rejects the whole batch and creates no job", async () => {
      const atLimit = "a".repeat(102_400);
      const overLimit = "a".repeat(102_401);
      const response = await api("POST", "/ingress/interactions/batch", {
        body: {
          interactions: [
            { external_interaction_id: "big-ok", channel_type: "CHAT", transcript_text: atLimit },
            { external_interaction_id: "big-over", channel_type: "CHAT", transcript_text: overLimit },
          ],
        },
      });
      assertApiError(response, 400, "VALIDATION_ERROR", /transcript_text exceeds 102400 bytes/);
      assertApiError(await api("GET", "/ingress/interactions/big-ok"), 404, "NOT_FOUND");

      // Exactly 100 KB is within the limit.
      const accepted = await api("POST", "/ingress/interactions/batch", {
        body: {
          interactions: [
            { external_interaction_id: "big-ok", channel_type: "CHAT", transcript_text: atLimit },
          ],
        },
      });
      dataOf(accepted, 202);
    });

    test("a batch needs 1 to 100 interactions", async () => {
      for (const body of [
        {},
        { interactions: "call-1" },
        { interactions: { external_interaction_id: "x" } },
      ]) {
        assertApiError(
          await api("POST", "/ingress/interactions/batch", { body }),
          400,
          "VALIDATION_ERROR",
          "interactions must be an array of interaction objects",
        );
      }
      assertApiError(
        await api("POST", "/ingress/interactions/batch", { body: { interactions: [] } }),
        400,
        "VALIDATION_ERROR",
        "interactions must contain at least 1 item",
      );
      const tooMany = Array.from({ length: 101 }, (_, i) => ({
        ...chatTextExample,
        external_interaction_id: `many-${i}`,
      }));
      assertApiError(
        await api("POST", "/ingress/interactions/batch", { body: { interactions: tooMany } }),
        400,
        "VALIDATION_ERROR",
        /at most 100 items \(got 101\)/,
      );
      assertApiError(await api("GET", "/ingress/interactions/many-0"), 404, "NOT_FOUND");
      const hundred = tooMany.slice(0, 100);
      const accepted = dataOf(
        await api("POST", "/ingress/interactions/batch", { body: { interactions: hundred } }),
        202,
      );
      const tracking = dataOf(await api("GET", `/ingress/interactions/batch/${accepted.id}?size=100`));
      assert.equal(tracking.total, 100);
      assert.equal(tracking.interactions.length, 100);
    });

    test("multipart/form-data with an audio part is ingested and the recording can be downloaded", async () => {
      const form = new FormData();
      form.set("external_interaction_id", "upload-001");
      form.set("channel_type", "VOICE");
      form.set("source", "desk-phone");
      form.set("duration_seconds", "1");
      form.set("pii_redacted", "true");
      form.set("metadata", JSON.stringify({ agent_id: "agent-7", priority: 2, vip: true }));
      form.set("audio", new Blob([wav], { type: "audio/wav" }), "upload-001.wav");
      const response = await api("POST", "/ingress/interactions", { rawBody: form });
      const created = dataOf(response, 201);
      assert.equal(response.body.message, "Queued for processing");
      assert.equal(created.external_interaction_id, "upload-001");
      assert.equal(created.status, "queued");

      await cqa.drain();
      const detail = dataOf(await api("GET", "/ingress/interactions/upload-001"));
      assert.equal(detail.status, "completed");
      assert.equal(detail.pii_redacted, true);
      assert.deepEqual(detail.metadata, { agent_id: "agent-7", priority: 2, vip: true });
      assert.ok(
        detail.audio_url.endsWith(
          `/api/v1/accounts/${account.accountId}/ingress/interactions/${created.interaction_id}/recording`,
        ),
        detail.audio_url,
      );
      const download = await fetchRecording(cqa, account, detail.audio_url);
      assert.equal(download.status, 200);
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), wav);
      assert.equal(download.headers.get("content-type"), "audio/wav");
    });
  });
}

async function fetchRecording(cqa: TestCqa, account: CreatedAccount, audioUrl: string): Promise<Response> {
  const path = audioUrl.startsWith("http") ? new URL(audioUrl).pathname : audioUrl;
  return cqa.running.app.request(path, { headers: { "x-api-key": account.apiKey } });
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
async function analysisOf(api: AccountApi, interactionId: string): Promise<any> {
  const detail = dataOf(await api("GET", `/ingress/interactions/${interactionId}`));
  return dataOf(await api("GET", `/analyses/${detail.analyses[0].analysis_id}`));
}

interface KpiView {
  kpi_name: string;
  ai_response: string;
  ai_justification: string;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
function kpisOf(analysis: any): KpiView[] {
  return analysis.categories.flatMap((c: { sub_categories: { kpis: KpiView[] }[] }) =>
    c.sub_categories.flatMap((s) => s.kpis),
  );
}
