// Standard API conformance — file ingestion: the published example CSV and column-mapping example,
// NDJSON, request-level defaults, the completion webhook, and every way a file job is refused or fails.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
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
  dataOf,
  isoInstantPattern,
  wavRecording,
} from "./conformance.ts";

/** The published example CSV with `https://s3.example.com` replaced by `host`. */
function exampleCsv(host: string): string {
  return [
    "external_interaction_id,channel_type,audio_url,transcript_url,transcript_text,language,agent,campaign",
    `call-001,VOICE,${host}/rec-001.wav,,,en,agent-42,retention`,
    `call-002,VOICE,${host}/rec-002.wav,,,hi,agent-15,support`,
    "chat-001,CHAT,,,Agent: Hello! How can I help you today?\\nCustomer: I need to reset my password.,en,agent-42,retention",
    "call-003,CHAT,,,,agent-42,retention",
    "",
  ].join("\n");
}

/** The published column-mapping example: headers `call_id,type,recording,agent,campaign`. */
function mappedCsv(host: string): string {
  return [
    "call_id,type,recording,agent,campaign",
    `map-001,VOICE,${host}/rec-001.wav,agent-42,retention`,
    `map-002,VOICE,${host}/rec-002.wav,agent-15,support`,
    "",
  ].join("\n");
}

const publishedMapping = { call_id: "external_interaction_id", type: "channel_type", recording: "audio_url" };

for (const backend of backends()) {
  describe(`Standard API file ingestion (${backend.name})`, () => {
    let cqa: TestCqa;
    let files: LocalServer;
    let host: string;
    let receiver: WebhookReceiver;
    let account: CreatedAccount;
    let api: AccountApi;
    const served: Record<string, string | Buffer | { status: number; body?: string }> = {};

    before(async () => {
      cqa = await startTestCqa({ backend });
      files = await startFileServer(served);
      host = files.url;
      Object.assign(served, {
        "/rec-001.wav": wavRecording(),
        "/rec-002.wav": wavRecording(),
        "/example.csv": exampleCsv(host),
        "/mapped.csv": mappedCsv(host),
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

    async function submit(body: Record<string, unknown>): Promise<string> {
      const data = dataOf(await api("POST", "/ingress/interactions/files", { body }), 202);
      assert.equal(data.type, "file");
      assert.equal(data.status, "pending");
      return data.id;
    }

    async function job(id: string, query = "") {
      return dataOf(await api("GET", `/ingress/interactions/batch/${id}${query}`));
    }

    test("the published example CSV: 3 rows accepted, call-003 rejected for having no content", async () => {
      const id = await submit({ file_url: `${host}/example.csv`, format: "csv" });
      const pending = await job(id);
      assert.equal(pending.job_type, "file");
      assert.equal(pending.job_status, "pending");

      await cqa.drain();

      const done = await job(id);
      assert.equal(done.id, id);
      assert.equal(done.job_type, "file");
      assert.equal(done.job_status, "completed");
      assert.equal(done.total_rows, 4);
      assert.equal(done.accepted, 3);
      assert.equal(done.rejected, 1);
      assert.equal(done.total, 3);
      assert.match(done.completed_at, isoInstantPattern);
      assert.equal("error_message" in done, false);
      assert.equal(done.errors.length, 1);
      const [error] = done.errors;
      assert.equal(error.external_interaction_id, "call-003");
      assert.equal(error.line, 5, "call-003 is on line 5 of the file (row 4 after the header)");
      assert.match(
        error.reason,
        /At least one of audio_url, transcript_url or transcript_text must be provided/,
      );

      const byId = Object.fromEntries(
        done.interactions.map((i: { external_interaction_id: string }) => [i.external_interaction_id, i]),
      );
      assert.deepEqual(Object.keys(byId).sort(), ["call-001", "call-002", "chat-001"]);
      for (const interaction of Object.values(byId) as Record<string, unknown>[]) {
        assert.equal(interaction["batch_id"], id);
        assert.equal(interaction["status"], "completed");
      }
      assert.equal(byId["call-001"].audio_url, `${host}/rec-001.wav`);
      assert.deepEqual(byId["call-001"].metadata, { agent: "agent-42", campaign: "retention" });
      assert.deepEqual(byId["call-002"].metadata, { agent: "agent-15", campaign: "support" });
      assert.equal(byId["call-002"].language, "hi");
      assert.equal(byId["chat-001"].channel_type, "CHAT");
      assertApiError(await api("GET", "/ingress/interactions/call-003"), 404, "NOT_FOUND");
    });

    test("the published column-mapping example: mapped headers become fields, the others metadata", async () => {
      const id = await submit({
        file_url: `${host}/mapped.csv`,
        format: "csv",
        column_mapping: publishedMapping,
      });
      await cqa.drain();
      const done = await job(id);
      assert.equal(done.job_status, "completed");
      assert.equal(done.total_rows, 2);
      assert.equal(done.accepted, 2);
      assert.equal(done.rejected, 0);
      const detail = dataOf(await api("GET", "/ingress/interactions/map-002"));
      assert.equal(detail.channel_type, "VOICE");
      assert.equal(detail.audio_url, `${host}/rec-002.wav`);
      assert.deepEqual(detail.metadata, { agent: "agent-15", campaign: "support" });
      assert.equal(detail.batch_id, id);
      assert.equal(detail.status, "completed");
    });

    test("NDJSON rows: extra keys become metadata and a broken line is rejected by its line number", async () => {
      served["/rows.ndjson"] = [
        JSON.stringify({
          external_interaction_id: "nd-001",
          channel_type: "CHAT",
          transcript_text: "Agent: Hello, thanks for contacting us.\nCustomer: Hi.",
          agent: "agent-9",
          metadata: { campaign: "winback" },
        }),
        JSON.stringify({
          external_interaction_id: "nd-002",
          channel_type: "VOICE",
          audio_url: `${host}/rec-001.wav`,
        }),
        '{"external_interaction_id": "nd-003", "channel_type": ',
        JSON.stringify({
          external_interaction_id: "nd-004",
          channel_type: "CHAT",
          duration_seconds: -5,
          transcript_text: "Agent: Hi",
        }),
        "",
      ].join("\n");
      const id = await submit({ file_url: `${host}/rows.ndjson`, format: "ndjson" });
      await cqa.drain();
      const done = await job(id);
      assert.equal(done.job_status, "completed");
      assert.equal(done.total_rows, 4);
      assert.equal(done.accepted, 2);
      assert.equal(done.rejected, 2);
      const errors = Object.fromEntries(done.errors.map((e: { line: number }) => [e.line, e]));
      assert.equal(errors[3].external_interaction_id, "nd-003");
      assert.match(errors[3].reason, /not valid JSON/);
      assert.equal(errors[4].external_interaction_id, "nd-004");
      assert.match(errors[4].reason, /duration_seconds must not be negative/);
      const first = dataOf(await api("GET", "/ingress/interactions/nd-001"));
      assert.deepEqual(first.metadata, { agent: "agent-9", campaign: "winback" });
      assert.equal(first.status, "completed");
    });

    test("request-level defaults fill empty row values and row values win; the job and rows report to callback_url", async () => {
      served["/defaults.csv"] = [
        "external_interaction_id,channel_type,transcript_text,source,pii_redacted,callback_url,campaign",
        "def-001,CHAT,Agent: Hello there.,,,,",
        `def-002,CHAT,Agent: Hello there.,crm-export,false,${receiver.url}/row-callback,spring`,
        "def-003,CHAT,,,,,",
        "",
      ].join("\n");
      const id = await submit({
        file_url: `${host}/defaults.csv`,
        format: "csv",
        source: "nightly-dump",
        pii_redacted: true,
        callback_url: `${receiver.url}/file-callback`,
        metadata: { team: "blue", campaign: "default-campaign" },
      });
      await cqa.drain();

      const done = await job(id);
      assert.equal(done.job_status, "completed");
      assert.equal(done.accepted, 2);
      assert.equal(done.rejected, 1);

      const defaulted = dataOf(await api("GET", "/ingress/interactions/def-001"));
      assert.equal(defaulted.source, "nightly-dump");
      assert.equal(defaulted.pii_redacted, true);
      assert.deepEqual(defaulted.metadata, { team: "blue", campaign: "default-campaign" });
      const own = dataOf(await api("GET", "/ingress/interactions/def-002"));
      assert.equal(own.source, "crm-export");
      assert.equal(own.pii_redacted, false);
      assert.deepEqual(own.metadata, { team: "blue", campaign: "spring" });

      // The job's completion goes to the request's callback_url, as published.
      const completions = receiver.requests
        .filter((r) => r.path === "/file-callback")
        .map((r) => JSON.parse(r.body));
      const completed = completions.find((e) => e.event === "FILE_INGESTION_COMPLETED");
      assert.ok(completed, "FILE_INGESTION_COMPLETED was delivered");
      assert.equal(completed.accountId, account.accountId);
      assert.equal(completed.data.fileJobId, id);
      assert.equal(completed.data.status, "FILE_INGESTION_COMPLETED");
      assert.equal(completed.data.totalRows, 3);
      assert.equal(completed.data.accepted, 2);
      assert.equal(completed.data.rejected, 1);
      assert.match(completed.data.completedAt, isoInstantPattern);
      assert.deepEqual(completed.data.errors.length, 1);
      assert.equal(completed.data.errors[0].row, 4);
      assert.match(completed.data.errors[0].reason, /At least one of audio_url/);
      // Rows keep the default callback_url (row wins): analysis results reach them, ingestion is not announced.
      const rowEvents = receiver.events().filter((e) => e["externalInteractionId"] !== undefined);
      const at = (path: string, externalId: string) =>
        receiver.requests
          .filter((r) => r.path === path)
          .map((r) => JSON.parse(r.body))
          .filter((e) => e.externalInteractionId === externalId)
          .map((e) => e.event);
      assert.ok(at("/file-callback", "def-001").includes("INTERACTION_ANALYSIS_COMPLETED"));
      assert.ok(at("/row-callback", "def-002").includes("INTERACTION_ANALYSIS_COMPLETED"));
      assert.deepEqual(at("/file-callback", "def-002"), []);
      assert.equal(rowEvents.filter((e) => e.event === "INTERACTION_INGESTED").length, 0);
      assert.deepEqual(receiver.badSignatures(), []);
    });

    test("a job counts every rejected row but lists at most 100 errors", async () => {
      served["/many-bad.csv"] = [
        "external_interaction_id,channel_type,transcript_text",
        ...Array.from({ length: 105 }, (_, i) => `bad-${i},CHAT,`),
        "good-1,CHAT,Agent: Hello",
      ].join("\n");
      const id = await submit({ file_url: `${host}/many-bad.csv`, format: "csv" });
      await cqa.drain();
      const done = await job(id);
      assert.equal(done.job_status, "completed");
      assert.equal(done.total_rows, 106);
      assert.equal(done.accepted, 1);
      assert.equal(done.rejected, 105);
      assert.equal(done.errors.length, 100);
      assert.deepEqual(done.errors[0], {
        line: 2,
        reason: "At least one of audio_url, transcript_url or transcript_text must be provided",
        external_interaction_id: "bad-0",
      });
    });

    test("a file that answers 404 fails the job with an error_message", async () => {
      const id = await submit({ file_url: `${host}/missing.csv`, format: "csv" });
      await cqa.drain();
      const failed = await job(id);
      assert.equal(failed.job_status, "failed");
      assert.match(failed.error_message, /missing\.csv answered 404/);
      assert.equal(failed.total_rows, 0);
      assert.match(failed.completed_at, isoInstantPattern);
    });

    test("more rows than file_max_rows fail the job with a message saying how to split it", async () => {
      const small = await cqa.createAccount({ limits: { conversation_cap: "unlimited", file_max_rows: 2 } });
      served["/three-rows.csv"] = [
        "external_interaction_id,channel_type,transcript_text",
        "rows-1,CHAT,Agent: Hello",
        "rows-2,CHAT,Agent: Hello",
        "rows-3,CHAT,Agent: Hello",
      ].join("\n");
      const smallApi = accountApi(cqa, small);
      const id = dataOf(
        await smallApi("POST", "/ingress/interactions/files", {
          body: { file_url: `${host}/three-rows.csv`, format: "csv" },
        }),
        202,
      ).id;
      await cqa.drain();
      const failed = dataOf(await smallApi("GET", `/ingress/interactions/batch/${id}`));
      assert.equal(failed.job_status, "failed");
      assert.equal(
        failed.error_message,
        "The file has more than 2 rows; split it into files of at most 2 rows",
      );
      assert.equal(failed.accepted, 0);
      assertApiError(await smallApi("GET", "/ingress/interactions/rows-1"), 404, "NOT_FOUND");
    });

    test("more concurrent file jobs than max_concurrent_file_jobs answer 429 TOO_MANY_JOBS with Retry-After", async () => {
      const limited = await cqa.createAccount({
        limits: { conversation_cap: "unlimited", max_concurrent_file_jobs: 1 },
      });
      const limitedApi = accountApi(cqa, limited);
      const body = { file_url: `${host}/mapped.csv`, format: "csv", column_mapping: publishedMapping };
      dataOf(await limitedApi("POST", "/ingress/interactions/files", { body }), 202);
      const refused = await limitedApi("POST", "/ingress/interactions/files", { body });
      assertApiError(refused, 429, "TOO_MANY_JOBS", /Too many file jobs in progress \(1 of 1\)/);
      assert.ok(Number(refused.headers.get("retry-after")) > 0);
      await cqa.drain();
      dataOf(await limitedApi("POST", "/ingress/interactions/files", { body }), 202);
    });
  });
}

describe("file submission validation", () => {
  let cqa: TestCqa;
  let strict: TestCqa;
  let api: AccountApi;
  let strictApi: AccountApi;
  let files: LocalServer;

  before(async () => {
    cqa = await startTestCqa();
    strict = await startTestCqa({ env: { CQA_FETCH_ALLOW: "" } });
    files = await startFileServer({ "/x.csv": "external_interaction_id,channel_type\n" });
    api = accountApi(cqa, await cqa.createAccount());
    strictApi = accountApi(strict, await strict.createAccount());
  });

  after(async () => {
    await files?.close();
    await strict?.stop();
    await cqa?.stop();
  });

  test("file_url on a private or loopback address is refused unless CQA_FETCH_ALLOW lists it", async () => {
    for (const fileUrl of [
      `${files.url}/x.csv`,
      "http://localhost:8080/x.csv",
      "http://10.1.2.3/x.csv",
      "https://192.168.0.10/x.csv",
      "http://172.16.5.4/x.csv",
    ]) {
      const response = await strictApi("POST", "/ingress/interactions/files", {
        body: { file_url: fileUrl, format: "csv" },
      });
      assertApiError(
        response,
        400,
        "VALIDATION_ERROR",
        /file_url points to a private or local address .*CQA_FETCH_ALLOW/,
      );
    }
    // A recording on a loopback address is refused when fetched: the interaction fails and says why.
    const created = dataOf(
      await strictApi("POST", "/ingress/interactions", {
        body: { external_interaction_id: "ssrf-1", channel_type: "VOICE", audio_url: `${files.url}/rec.wav` },
      }),
      201,
    );
    await strict.drain();
    const refused = dataOf(await strictApi("GET", `/ingress/interactions/${created.interaction_id}`));
    assert.equal(refused.status, "failed");
    assert.match(refused.failure_reason, /private|local|CQA_FETCH_ALLOW/i);
    assert.equal(files.requests.length, 0, "nothing was fetched from the private address");
    // The same loopback URL is accepted by an instance whose operator allowed it.
    dataOf(
      await api("POST", "/ingress/interactions/files", {
        body: { file_url: `${files.url}/x.csv`, format: "csv" },
      }),
      202,
    );
  });

  test("each file submission rule answers 400 VALIDATION_ERROR with its message", async () => {
    const cases: [Record<string, unknown>, string | RegExp][] = [
      [{ format: "csv" }, "file_url is required"],
      [
        { file_url: "ftp://files.example.com/x.csv", format: "csv" },
        "file_url must be an https://, http:// or s3:// URL",
      ],
      [{ file_url: `${files.url}/x.csv` }, "format is required"],
      [{ file_url: `${files.url}/x.csv`, format: "xlsx" }, "format must be csv or ndjson"],
      [
        { file_url: `${files.url}/x.csv`, format: "csv", pii_redacted: "yes" },
        "pii_redacted must be true or false",
      ],
      [
        { file_url: `${files.url}/x.csv`, format: "csv", callback_url: "ftp://hooks.example.com" },
        "callback_url must be an http:// or https:// URL",
      ],
      [
        { file_url: `${files.url}/x.csv`, format: "csv", column_mapping: { call_id: "call_identifier" } },
        /column_mapping\["call_id"\] maps to "call_identifier", which is not a canonical column/,
      ],
      [
        {
          file_url: `${files.url}/x.csv`,
          format: "csv",
          metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])),
        },
        "metadata must not exceed 50 keys",
      ],
      // Without an S3 integration for the bucket, the account has no credentials to open it with.
      [
        { file_url: "s3://bucket/x.csv", format: "csv" },
        /needs S3 credentials for bucket 'bucket': add an S3 integration for that bucket/,
      ],
    ];
    for (const [body, message] of cases) {
      assertApiError(
        await api("POST", "/ingress/interactions/files", { body }),
        400,
        "VALIDATION_ERROR",
        message,
      );
    }
  });
});
