// Standard API conformance — every validation rule of the ingest item and every error code, each in
// the published envelope. Storage-bound limits (rate, conversation cap) run on every backend.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import {
  backends,
  type CreatedAccount,
  operatorToken,
  startTestCqa,
  type TestCqa,
} from "../support/testCqa.ts";
import { type AccountApi, accountApi, assertApiError, chatTextExample, dataOf } from "./conformance.ts";

const noContent = "At least one of audio_url, transcript_url or transcript_text must be provided";
const audioUrlMessage = "audio_url must be an http://, https:// or s3:// URL (several may be separated by ;)";
const transcriptUrlMessage =
  "transcript_url must be an http://, https:// or s3:// URL (several may be separated by ;)";
const startTimeMessage = "interaction_start_time must be an ISO-8601 date-time such as 2026-04-01T10:30:00Z";
const wholeSeconds = "duration_seconds must be a whole number of seconds";

const keys = (n: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`key_${i}`, `value ${i}`]));

describe("Standard API validation and error codes (pglite)", () => {
  let cqa: TestCqa;
  before(async () => {
    cqa = await startTestCqa();
  });
  after(async () => {
    await cqa?.stop();
  });

  describe("ingest item validation", () => {
    let api: AccountApi;
    let counter = 0;
    const item = (fields: Record<string, unknown>): Record<string, unknown> => ({
      ...chatTextExample,
      external_interaction_id: `validation-${++counter}`,
      ...fields,
    });

    before(async () => {
      api = accountApi(cqa, await cqa.createAccount());
    });

    test("each rule of the item schema answers 400 VALIDATION_ERROR with its own message", async () => {
      const { external_interaction_id: _id, ...withoutId } = item({});
      const { channel_type: _channel, ...withoutChannel } = item({});
      const cases: [string, unknown, string][] = [
        ["missing external_interaction_id", withoutId, "external_interaction_id is required"],
        [
          "empty external_interaction_id",
          item({ external_interaction_id: "" }),
          "external_interaction_id must not be empty",
        ],
        [
          "blank external_interaction_id",
          item({ external_interaction_id: "   " }),
          "external_interaction_id must not be empty",
        ],
        [
          "external_interaction_id over 255 characters",
          item({ external_interaction_id: "x".repeat(256) }),
          "external_interaction_id must be at most 255 characters",
        ],
        ["missing channel_type", withoutChannel, "channel_type is required"],
        ["empty channel_type", item({ channel_type: "" }), "channel_type must not be empty"],
        ["no content at all", { external_interaction_id: "bare-1", channel_type: "CHAT" }, noContent],
        [
          "only blank content",
          { external_interaction_id: "bare-2", channel_type: "CHAT", audio_url: "", transcript_text: "  " },
          noContent,
        ],
        ["audio_url that is not a URL", item({ audio_url: "recording-001.wav" }), audioUrlMessage],
        [
          "audio_url with an ftp scheme",
          item({ audio_url: "ftp://files.example.com/rec.wav" }),
          audioUrlMessage,
        ],
        [
          "transcript_url with a file scheme",
          item({ transcript_url: "file:///etc/passwd" }),
          transcriptUrlMessage,
        ],
        [
          "interaction_start_time in words",
          item({ interaction_start_time: "yesterday at noon" }),
          startTimeMessage,
        ],
        [
          "interaction_start_time as a bare date",
          item({ interaction_start_time: "2026-04-01" }),
          startTimeMessage,
        ],
        [
          "interaction_start_time out of range",
          item({ interaction_start_time: "2026-13-45T10:30:00Z" }),
          startTimeMessage,
        ],
        ["fractional duration_seconds", item({ duration_seconds: 12.5 }), wholeSeconds],
        ["duration_seconds as text", item({ duration_seconds: "300" }), wholeSeconds],
        [
          "negative duration_seconds",
          item({ duration_seconds: -1 }),
          "duration_seconds must not be negative",
        ],
        ["pii_redacted as text", item({ pii_redacted: "false" }), "pii_redacted must be true or false"],
        ["pii_redacted as a number", item({ pii_redacted: 0 }), "pii_redacted must be true or false"],
        ["metadata with 51 keys", item({ metadata: keys(51) }), "metadata must not exceed 50 keys"],
        [
          "metadata with an object value",
          item({ metadata: { agent: { id: 42 } } }),
          "metadata.agent must be a string, a number or a boolean",
        ],
        [
          "metadata with an array value",
          item({ metadata: { tags: ["a", "b"] } }),
          "metadata.tags must be a string, a number or a boolean",
        ],
        [
          "metadata with a null value",
          item({ metadata: { disposition: null } }),
          "metadata.disposition must be a string, a number or a boolean",
        ],
        [
          "metadata that is not an object",
          item({ metadata: "agent-42" }),
          "metadata must be an object of key-value pairs",
        ],
        [
          "metadata with an empty key",
          item({ metadata: { "": "x" } }),
          "metadata keys must be 1 to 128 characters long",
        ],
        [
          "metadata with a key over 128 characters",
          item({ metadata: { ["k".repeat(129)]: "x" } }),
          "metadata keys must be 1 to 128 characters long",
        ],
        [
          "metadata with a value over 4096 characters",
          item({ metadata: { note: "x".repeat(4097) } }),
          "metadata.note must be at most 4096 characters",
        ],
        [
          "callback_url with an ftp scheme",
          item({ callback_url: "ftp://hooks.example.com/cqa" }),
          "callback_url must be an http:// or https:// URL",
        ],
        [
          "callback_url with a javascript scheme",
          item({ callback_url: "javascript:alert(1)" }),
          "callback_url must be an http:// or https:// URL",
        ],
        [
          "a JSON array instead of one interaction",
          [item({})],
          "The request body must be one JSON object (an interaction); send several with POST /ingress/interactions/batch",
        ],
      ];
      for (const [name, body, message] of cases) {
        const response = await api("POST", "/ingress/interactions", { body });
        assert.equal(response.status, 400, `${name}: ${response.text}`);
        assertApiError(response, 400, "VALIDATION_ERROR", message);
      }
    });

    test("transcript_text is limited to 100 KB of UTF-8 bytes, not characters", async () => {
      dataOf(
        await api("POST", "/ingress/interactions", { body: item({ transcript_text: "a".repeat(102_400) }) }),
        201,
      );
      assertApiError(
        await api("POST", "/ingress/interactions", { body: item({ transcript_text: "a".repeat(102_401) }) }),
        400,
        "VALIDATION_ERROR",
        "transcript_text must not exceed 100 KB (102400 bytes of UTF-8); it has 102401 bytes",
      );
      // 34,134 euro signs are 102,402 bytes in UTF-8 although only 34,134 characters.
      assertApiError(
        await api("POST", "/ingress/interactions", { body: item({ transcript_text: "€".repeat(34_134) }) }),
        400,
        "VALIDATION_ERROR",
        "transcript_text must not exceed 100 KB (102400 bytes of UTF-8); it has 102402 bytes",
      );
    });

    test("the limits themselves are accepted: 50 metadata keys, scalar values, 0 seconds, other channels", async () => {
      const accepted = await api("POST", "/ingress/interactions", {
        body: item({
          channel_type: "VIDEO",
          duration_seconds: 0,
          pii_redacted: true,
          metadata: { ...keys(47), score: 4.5, vip: false, region: "north" },
        }),
      });
      const data = dataOf(accepted, 201);
      const detail = dataOf(await api("GET", `/ingress/interactions/${data.interaction_id}`));
      assert.equal(detail.channel_type, "VIDEO");
      assert.equal(Object.keys(detail.metadata).length, 50);
      assert.equal(detail.metadata.score, 4.5);
      assert.equal(detail.metadata.vip, false);
    });

    test("blank optional URL fields are taken as absent, not rejected as invalid URLs", async () => {
      const created = dataOf(
        await api("POST", "/ingress/interactions", {
          body: item({ audio_url: "", transcript_url: "  ", callback_url: "" }),
        }),
        201,
      );
      const detail = dataOf(await api("GET", `/ingress/interactions/${created.interaction_id}`));
      assert.equal(detail.audio_url, null);
      assert.equal(detail.transcript_url, null);
    });

    test("several problems in one body are all reported in one message", async () => {
      const response = await api("POST", "/ingress/interactions", {
        body: {
          external_interaction_id: "",
          channel_type: "CHAT",
          duration_seconds: -3,
          transcript_text: "Agent: hi",
        },
      });
      assertApiError(response, 400, "VALIDATION_ERROR");
      assert.match(response.body.message, /external_interaction_id must not be empty/);
      assert.match(response.body.message, /duration_seconds must not be negative/);
    });

    test("a body that is not JSON answers 400 INVALID_JSON", async () => {
      const response = await api("POST", "/ingress/interactions", {
        rawBody: '{"external_interaction_id": "broken", ',
        headers: { "content-type": "application/json" },
      });
      assertApiError(response, 400, "INVALID_JSON", /^Request body is not valid JSON/);
      const batch = await api("POST", "/ingress/interactions/batch", {
        rawBody: "{interactions: []}",
        headers: { "content-type": "application/json" },
      });
      assertApiError(batch, 400, "INVALID_JSON", /^Request body is not valid JSON/);
      // A multipart form's metadata field must be JSON too.
      const form = new FormData();
      form.set("external_interaction_id", "form-bad-json");
      form.set("channel_type", "CHAT");
      form.set("transcript_text", "Agent: hi");
      form.set("metadata", "{agent: 42");
      assertApiError(
        await api("POST", "/ingress/interactions", { rawBody: form }),
        400,
        "INVALID_JSON",
        /metadata/,
      );
    });

    test("an unsupported content type answers 400 INVALID_REQUEST", async () => {
      const xml = await api("POST", "/ingress/interactions", {
        rawBody: "<interaction><id>1</id></interaction>",
        headers: { "content-type": "application/xml" },
      });
      assertApiError(xml, 400, "INVALID_REQUEST", /Unsupported Content-Type 'application\/xml'/);
      const form = new FormData();
      form.set("interactions", "[]");
      assertApiError(
        await api("POST", "/ingress/interactions/batch", { rawBody: form }),
        400,
        "INVALID_REQUEST",
        "This endpoint takes a JSON body: send Content-Type: application/json",
      );
    });

    test("a multipart form without an audio part still needs content", async () => {
      const form = new FormData();
      form.set("external_interaction_id", "form-no-content");
      form.set("channel_type", "VOICE");
      assertApiError(
        await api("POST", "/ingress/interactions", { rawBody: form }),
        400,
        "VALIDATION_ERROR",
        noContent,
      );
    });
  });

  describe("error codes", () => {
    let account: CreatedAccount;
    let other: CreatedAccount;
    let api: AccountApi;

    before(async () => {
      account = await cqa.createAccount();
      other = await cqa.createAccount({ name: "Other tenant" });
      api = accountApi(cqa, account);
    });

    test("unknown interactions, jobs, analyses and routes answer 404 NOT_FOUND", async () => {
      const unknownUuid = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
      assertApiError(
        await api("GET", `/ingress/interactions/${unknownUuid}`),
        404,
        "NOT_FOUND",
        /No interaction/,
      );
      assertApiError(
        await api("GET", "/ingress/interactions/no-such-call"),
        404,
        "NOT_FOUND",
        /No interaction 'no-such-call'/,
      );
      assertApiError(
        await api("GET", `/ingress/interactions/batch/${unknownUuid}`),
        404,
        "NOT_FOUND",
        /No batch or file job/,
      );
      assertApiError(
        await api("GET", "/ingress/interactions/batch/not-a-job"),
        404,
        "NOT_FOUND",
        /No batch or file job/,
      );
      assertApiError(await api("GET", `/analyses/${unknownUuid}`), 404, "NOT_FOUND", /No analysis/);
      assertApiError(await api("GET", "/analyses/not-an-id"), 404, "NOT_FOUND", /No analysis/);
      assertApiError(
        await cqa.request("GET", "/api/v1/no-such-thing"),
        404,
        "NOT_FOUND",
        /No such endpoint: GET \/api\/v1\/no-such-thing/,
      );
      assertApiError(await api("DELETE", "/ingress/interactions"), 404, "NOT_FOUND", /No such endpoint/);
    });

    test("another account's interaction is not found, never shown", async () => {
      const created = dataOf(
        await api("POST", "/ingress/interactions", {
          body: { ...chatTextExample, external_interaction_id: "mine-only" },
        }),
        201,
      );
      const otherApi = accountApi(cqa, other);
      assertApiError(await otherApi("GET", "/ingress/interactions/mine-only"), 404, "NOT_FOUND");
      assertApiError(
        await otherApi("GET", `/ingress/interactions/${created.interaction_id}`),
        404,
        "NOT_FOUND",
      );
      // The same external id is free in the other account.
      dataOf(
        await otherApi("POST", "/ingress/interactions", {
          body: { ...chatTextExample, external_interaction_id: "mine-only" },
        }),
        201,
      );
    });

    test("a missing, invalid or foreign API key answers 401 UNAUTHORIZED", async () => {
      const path = `/api/v1/accounts/${account.accountId}/ingress/interactions`;
      const body = { ...chatTextExample, external_interaction_id: "auth-check" };
      assertApiError(
        await cqa.request("POST", path, { body }),
        401,
        "UNAUTHORIZED",
        "Missing API key: send it in the X-API-Key header",
      );
      assertApiError(
        await cqa.request("POST", path, { body, apiKey: "cqa_not_a_real_key" }),
        401,
        "UNAUTHORIZED",
      );
      assertApiError(
        await cqa.request("POST", path, { body, apiKey: other.apiKey }),
        401,
        "UNAUTHORIZED",
        /^These credentials are not valid for/,
      );
      assertApiError(
        await cqa.request("GET", `${path}/auth-check`, { apiKey: `${account.apiKey}x` }),
        401,
        "UNAUTHORIZED",
      );
      // Nothing was ingested by the refused requests.
      assertApiError(await api("GET", "/ingress/interactions/auth-check"), 404, "NOT_FOUND");
    });

    test("a request_id given by the caller is echoed; otherwise one is made up", async () => {
      const echoed = await api("GET", "/ingress/interactions/nothing-here", {
        headers: { "x-request-id": "trace-abc-123" },
      });
      assertApiError(echoed, 404, "NOT_FOUND");
      assert.equal(echoed.body.request_id, "trace-abc-123");
      const made = await api("GET", "/ingress/interactions/nothing-here");
      assert.match(made.body.request_id, /^[0-9a-f-]{36}$/);
      assert.equal(made.headers.get("x-request-id"), made.body.request_id);
    });

    test("tracking query parameters that are not whole numbers answer 400 INVALID_REQUEST", async () => {
      const { id } = dataOf(
        await api("POST", "/ingress/interactions/batch", {
          body: { interactions: [{ ...chatTextExample, external_interaction_id: "paging-1" }] },
        }),
        202,
      );
      assertApiError(
        await api("GET", `/ingress/interactions/batch/${id}?page=-1`),
        400,
        "INVALID_REQUEST",
        /page must be a whole number of 0 or more/,
      );
      assertApiError(
        await api("GET", `/ingress/interactions/batch/${id}?size=0`),
        400,
        "INVALID_REQUEST",
        /size must be a whole number of 1 or more/,
      );
    });
  });
});

describe("internal errors (pglite)", () => {
  test("a database failure answers 500 INTERNAL_ERROR with a request_id and no internals", async () => {
    const cqa = await startTestCqa();
    try {
      const account = await cqa.createAccount();
      await cqa.db.close();
      const response = await cqa.request(
        "GET",
        `/api/v1/accounts/${account.accountId}/ingress/interactions/x`,
        {
          apiKey: account.apiKey,
        },
      );
      assertApiError(
        response,
        500,
        "INTERNAL_ERROR",
        "An unexpected error occurred; it was logged. Quote the request_id to support.",
      );
      assert.doesNotMatch(response.text, /pglite|postgres|sql|closed|stack|at \w+ \(/i);
    } finally {
      await cqa.stop().catch(() => {});
    }
  });
});

for (const backend of backends()) {
  describe(`rate limits and conversation caps (${backend.name})`, () => {
    let cqa: TestCqa;
    const clock = new ManualClock("2026-07-01T18:00:00Z");

    before(async () => {
      cqa = await startTestCqa({ backend, clock });
    });
    after(async () => {
      await cqa?.stop();
    });

    test("more ingest POSTs than ingest_posts_per_minute answer 429 RATE_LIMIT_EXCEEDED with Retry-After", async () => {
      clock.set("2026-07-01T18:00:15Z");
      const account = await cqa.createAccount({
        limits: { conversation_cap: "unlimited", ingest_posts_per_minute: 2 },
      });
      const api = accountApi(cqa, account);
      const post = (n: number) =>
        api("POST", "/ingress/interactions", {
          body: { ...chatTextExample, external_interaction_id: `rate-${n}` },
        });
      dataOf(await post(1), 201);
      dataOf(await post(2), 201);
      const refused = await post(3);
      assertApiError(refused, 429, "RATE_LIMIT_EXCEEDED", /Rate limit of 2 requests per minute exceeded/);
      assert.equal(refused.headers.get("retry-after"), "45");
      // The refused request ingested nothing, and tracking GETs have their own allowance.
      assertApiError(await api("GET", "/ingress/interactions/rate-3"), 404, "NOT_FOUND");
      dataOf(await api("GET", "/ingress/interactions/rate-1"));
      // A new minute, a new allowance.
      clock.advance(60_000);
      dataOf(await post(3), 201);
    });

    test("ingest GETs are limited by ingest_gets_per_minute", async () => {
      const account = await cqa.createAccount({
        limits: { conversation_cap: "unlimited", ingest_gets_per_minute: 1 },
      });
      const api = accountApi(cqa, account);
      assertApiError(await api("GET", "/ingress/interactions/a"), 404, "NOT_FOUND");
      const refused = await api("GET", "/ingress/interactions/a");
      assertApiError(refused, 429, "RATE_LIMIT_EXCEEDED");
      assert.ok(Number(refused.headers.get("retry-after")) > 0);
    });

    test("the third single ingest under a 2/day cap answers 429 CONVERSATION_CAP_EXCEEDED until local midnight", async () => {
      clock.set("2026-07-01T18:00:00Z");
      const account = await cqa.createAccount({
        timezone: "Asia/Kolkata",
        limits: { conversation_cap: { period: "day", limit: 2 } },
      });
      const api = accountApi(cqa, account);
      const post = (id: string) =>
        api("POST", "/ingress/interactions", { body: { ...chatTextExample, external_interaction_id: id } });
      dataOf(await post("cap-1"), 201);
      dataOf(await post("cap-2"), 201);
      // A duplicate is answered as such and uses none of the cap.
      assertApiError(await post("cap-1"), 409, "DUPLICATE");
      const refused = await post("cap-3");
      assertApiError(refused, 429, "CONVERSATION_CAP_EXCEEDED", "Daily conversation cap exceeded: 2/2");
      // 18:00 UTC is 23:30 in Kolkata: the day resets in 30 minutes.
      assert.equal(refused.headers.get("retry-after"), "1800");
      assertApiError(await api("GET", "/ingress/interactions/cap-3"), 404, "NOT_FOUND");
      clock.set("2026-07-01T18:30:00Z");
      dataOf(await post("cap-3"), 201);
    });

    test("a batch under the cap is accepted up to the cap and the rest rejected with the cap message", async () => {
      clock.set("2026-07-02T06:00:00Z");
      const account = await cqa.createAccount({ limits: { conversation_cap: { period: "day", limit: 2 } } });
      const api = accountApi(cqa, account);
      const items = ["bcap-1", "bcap-2", "bcap-3"].map((id) => ({
        ...chatTextExample,
        external_interaction_id: id,
      }));
      const data = dataOf(
        await api("POST", "/ingress/interactions/batch", { body: { interactions: items } }),
        202,
      );
      assert.equal(data.accepted, 2);
      assert.equal(data.rejected, 1);
      assert.equal(data.errors[0].line, 3);
      assert.equal(data.errors[0].external_interaction_id, "bcap-3");
      assert.equal(data.errors[0].reason, "Daily conversation cap exceeded: 2/2");
      dataOf(await api("GET", "/ingress/interactions/bcap-2"));
      assertApiError(await api("GET", "/ingress/interactions/bcap-3"), 404, "NOT_FOUND");
      // A batch with no room at all is refused as a whole, with Retry-After.
      const refused = await api("POST", "/ingress/interactions/batch", {
        body: { interactions: [items[2]] },
      });
      assertApiError(refused, 429, "CONVERSATION_CAP_EXCEEDED", /Daily conversation cap exceeded: 2\/2/);
      assert.equal(refused.headers.get("retry-after"), String(18 * 3600));
      const account2 = dataOf(
        await cqa.request("GET", `/api/v1/accounts/${account.accountId}`, { apiKey: account.apiKey }),
      );
      assert.equal(account2.conversation_usage.used, 2);
    });

    test("an account without a configured cap gets the trial cap of 300 conversations a month", async () => {
      clock.set("2026-07-10T12:00:00Z");
      const account = await cqa.createAccount({ limits: {} });
      const api = accountApi(cqa, account);
      for (let batch = 0; batch < 3; batch++) {
        const items = Array.from({ length: 100 }, (_, i) => ({
          ...chatTextExample,
          external_interaction_id: `trial-${batch}-${i}`,
        }));
        const data = dataOf(
          await api("POST", "/ingress/interactions/batch", { body: { interactions: items } }),
          202,
        );
        assert.equal(data.rejected, undefined);
      }
      const refused = await api("POST", "/ingress/interactions", {
        body: { ...chatTextExample, external_interaction_id: "trial-301" },
      });
      assertApiError(refused, 429, "CONVERSATION_CAP_EXCEEDED", "Monthly conversation cap exceeded: 300/300");
      // Until 1 August, UTC.
      assert.equal(refused.headers.get("retry-after"), String((21 * 24 + 12) * 3600));
      // The operator can lift the cap.
      const lifted = await cqa.request("PUT", `/api/v1/accounts/${account.accountId}/limits`, {
        bearer: operatorToken,
        body: { conversation_cap: "unlimited" },
      });
      dataOf(lifted);
      dataOf(
        await api("POST", "/ingress/interactions", {
          body: { ...chatTextExample, external_interaction_id: "trial-301" },
        }),
        201,
      );
    });
  });
}
