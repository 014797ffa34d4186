// The Exolite connector against the simulator of the published bulk call details API: backfills,
// paging by NextPageUri, the one-month window limit, 429 with Retry-After, calls without recordings,
// late-filled fields, recordings fetched with the account's credentials, pre-signed URLs refreshed.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { signRedirectToken } from "../../src/connectors/exolite/redirectLink.ts";
import { integrationRunHandler } from "../../src/connectors/supervisor.ts";
import { ManualClock } from "../../src/core/clock.ts";
import { JobWorker } from "../../src/pipeline/jobWorker.ts";
import { type ExoliteSimulator, startExoliteSimulator } from "../simulators/exoliteSimulator.ts";
import { type CreatedAccount, startTestCqa, type TestCqa } from "../support/testCqa.ts";

const clock = new ManualClock("2026-05-10T06:30:00Z");

describe("Exolite connector against the bulk call API simulator", () => {
  let cqa: TestCqa;
  let account: CreatedAccount;
  let sim: ExoliteSimulator;
  const path = (suffix = "") => `/api/v1/accounts/${account.accountId}/integrations${suffix}`;
  const call = (method: string, suffix: string, body?: unknown) =>
    cqa.request(method, path(suffix), { apiKey: account.apiKey, ...(body === undefined ? {} : { body }) });
  const config = (overrides: Record<string, unknown> = {}) => ({
    region: "custom",
    base_url: sim.url,
    account_sid: sim.accountSid,
    api_key: sim.apiKey,
    api_token: sim.apiToken,
    requests_per_minute: 100_000,
    ...overrides,
  });
  const create = async (name: string, overrides: Record<string, unknown> = {}) => {
    const answer = await call("POST", "", {
      kind: "exolite",
      name,
      config: config(overrides),
      schedule: null,
    });
    assert.equal(answer.status, 201, answer.text);
    return answer.body.data.integration_id as string;
  };
  /** Runs only integration runs (not the analysis of what they ingest). */
  const runPolls = async () => {
    const worker = new JobWorker({
      db: cqa.db,
      clock,
      concurrency: 1,
      leaseMs: 60_000,
      onError: () => {},
      handlers: [integrationRunHandler(cqa.running.services.connectors)],
    });
    await worker.drain();
  };
  const storedSids = async (integrationId: string) =>
    (
      await cqa.db.query<{ id: string }>(
        "SELECT external_interaction_id AS id FROM interactions WHERE integration_id = $1",
        [integrationId],
      )
    ).rows.map((r) => r.id);

  before(async () => {
    sim = await startExoliteSimulator({ now: () => clock.now() });
    cqa = await startTestCqa({ clock, env: { CQA_TRANSCRIBER: "none" } });
    account = await cqa.createAccount({ timezone: "Asia/Kolkata" });
  });
  after(async () => {
    await cqa?.stop();
    await sim?.close();
  });

  test("the catalogue lists exolite: daily by default, backfills, the API token and redirect secret write-only", async () => {
    const kinds = (await cqa.request("GET", "/api/v1/connector-kinds")).body.data.connector_kinds;
    const exolite = kinds.find((k: { kind: string }) => k.kind === "exolite");
    assert.equal(exolite.mode, "poll");
    assert.equal(exolite.supports_range, true);
    assert.deepEqual(exolite.default_schedule, { type: "daily", at: "02:00" });
    assert.deepEqual(exolite.secret_fields, ["api_token", "redirect.secret"]);
    const bad = await call("POST", "", {
      kind: "exolite",
      name: "bad",
      config: {
        region: "custom",
        account_sid: "x",
        api_key: "k",
        api_token: "t",
        recording: { url_validity_minutes: 90 },
      },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /base_url is required when region is custom/);
    assert.match(bad.body.message, /url_validity_minutes must be from 5 to 60/);
  });

  test("test connection: accepted credentials pass; a wrong token is named as such", async () => {
    const good = await create("connection ok");
    const ok = (await call("POST", `/${good}/test`)).body.data;
    assert.equal(ok.ok, true, JSON.stringify(ok.checks));
    const wrong = await create("connection wrong", { api_token: "not-the-token" });
    const refused = (await call("POST", `/${wrong}/test`)).body.data;
    assert.equal(refused.ok, false);
    const auth = refused.checks.find((c: { name: string }) => c.name === "auth");
    assert.equal(auth.ok, false);
    assert.match(auth.message, /refused the API key and token \(401\).*check api_key, api_token/);
  });

  test("the simulator answers a DateCreated range over one month with the documented 400", async () => {
    const response = await fetch(
      `${sim.url}/v1/Accounts/${sim.accountSid}/Calls.json?DateCreated=${encodeURIComponent("gte:2026-03-01 00:00:00;lte:2026-04-10 00:00:00")}`,
      {
        headers: {
          authorization: `Basic ${Buffer.from(`${sim.apiKey}:${sim.apiToken}`).toString("base64")}`,
        },
      },
    );
    assert.equal(response.status, 400);
    const body = (await response.json()) as { RestException: { Status: number; Message: string } };
    assert.equal(body.RestException.Status, 400);
    assert.match(body.RestException.Message, /more than 1 month/);
  });

  test("recordings are fetched with the account's credentials; expired pre-signed URLs are refreshed", async () => {
    const recent = new Date(clock.now().getTime() - 30 * 60_000);
    sim.addCall({ sid: "rec-basic-1", createdAt: recent });
    const basic = await create("recordings", { lookback_minutes: 60 });
    await call("POST", `/${basic}/run`, { from: new Date(recent.getTime() - 1000).toISOString() });
    const failuresBefore = sim.stats.recordingAuthFailures;
    await cqa.drain();
    const done = await cqa.request(
      "GET",
      `/api/v1/accounts/${account.accountId}/ingress/interactions/rec-basic-1`,
      {
        apiKey: account.apiKey,
      },
    );
    assert.equal(done.body.data.status, "completed", JSON.stringify(done.body.data));
    assert.equal(sim.stats.recordingAuthFailures, failuresBefore, "sent with HTTP Basic auth");
    const recordingAnswer = await cqa.request(
      "GET",
      `/api/v1/accounts/${account.accountId}/ingress/interactions/rec-basic-1/recording`,
      { apiKey: account.apiKey },
    );
    assert.equal(recordingAnswer.status, 200, "the recording is kept by cqa");

    const created = new Date(clock.now().getTime() - 20 * 60_000);
    sim.addCall({ sid: "rec-presigned-1", createdAt: created });
    const presigned = await create("presigned", {
      lookback_minutes: 60,
      recording: { source: "presigned", url_validity_minutes: 5 },
    });
    await call("POST", `/${presigned}/run`, { from: new Date(created.getTime() - 1000).toISOString() });
    await runPolls();
    // The pipeline gets to it after the 5-minute URL has expired.
    clock.advance(10 * 60_000);
    const expiredBefore = sim.stats.expiredPresigned;
    const detailsBefore = sim.stats.callRequests;
    await cqa.drain();
    const refreshed = await cqa.request(
      "GET",
      `/api/v1/accounts/${account.accountId}/ingress/interactions/rec-presigned-1`,
      { apiKey: account.apiKey },
    );
    assert.equal(refreshed.body.data.status, "completed", JSON.stringify(refreshed.body.data));
    assert.equal(sim.stats.expiredPresigned, expiredBefore + 1, "the stored URL had expired");
    assert.equal(sim.stats.callRequests, detailsBefore + 1, "a fresh one was asked for by Sid");
  });

  test("a 3-day backfill of 2,500 calls ingests each call with a recording exactly once, through paging, 429s and no-recording calls", async () => {
    const from = new Date("2026-05-04T18:30:00Z"); // 2026-05-05 00:00 in Kolkata
    const to = new Date("2026-05-07T18:30:00Z");
    const calls = sim.addCalls(2_500, { from, to, prefix: "bf", noRecordingEvery: 5 });
    const withRecording = calls.filter((c) => c.hasRecording).map((c) => c.sid);
    assert.equal(withRecording.length, 2_000);
    const id = await create("backfill");
    const pagesBefore = sim.stats.listRequests;
    const rangeErrorsBefore = sim.stats.rangeErrors;
    sim.throttleNext(2, 1);
    const queued = await call("POST", `/${id}/run`, { from: from.toISOString(), to: to.toISOString() });
    assert.equal(queued.status, 202, queued.text);
    await runPolls();

    const stored = await storedSids(id);
    assert.equal(stored.length, 2_000, "every call with a recording, and only those");
    assert.equal(new Set(stored).size, stored.length, "none twice");
    assert.deepEqual([...stored].sort(), [...withRecording].sort());
    const [run] = (await call("GET", `/${id}/runs`)).body.data.runs;
    assert.equal(run.status, "succeeded", JSON.stringify(run));
    assert.equal(run.trigger, "backfill");
    assert.deepEqual([run.seen, run.ingested, run.duplicate, run.rejected], [2_500, 2_000, 0, 0]);
    assert.equal(sim.stats.throttled, 2, "the 429s were answered and waited out");
    assert.equal(sim.stats.rangeErrors, rangeErrorsBefore, "never asked for more than the API allows");
    assert.ok(sim.stats.listRequests - pagesBefore >= 25, "paged through NextPageUri (100 per page)");

    const one = await cqa.request(
      "GET",
      `/api/v1/accounts/${account.accountId}/ingress/interactions/${withRecording[7]}`,
      {
        apiKey: account.apiKey,
      },
    );
    assert.equal(one.status, 200);
    assert.equal(one.body.data.channel_type, "VOICE");
    assert.equal(one.body.data.source, "exolite");
    assert.match(
      one.body.data.audio_url,
      new RegExp(`/recordings/${sim.accountSid}/${withRecording[7]}\\.wav$`),
    );
    assert.equal(one.body.data.metadata.exolite_account_sid, sim.accountSid);
    assert.ok(["inbound", "outbound-api"].includes(one.body.data.metadata.direction));

    // Backfilling the same days again reads them and stores nothing new.
    await call("POST", `/${id}/run`, { from: from.toISOString(), to: to.toISOString() });
    await runPolls();
    assert.equal((await storedSids(id)).length, 2_000);
    const [again] = (await call("GET", `/${id}/runs`)).body.data.runs;
    assert.deepEqual([again.status, again.ingested, again.duplicate], ["succeeded", 0, 0]);
  });

  test("a backfill over ten weeks is split into windows of at most a month: the API never answers 400", async () => {
    const from = new Date("2026-02-20T00:00:00Z");
    const to = new Date("2026-05-01T00:00:00Z");
    sim.addCalls(70, { from, to, prefix: "lw", noRecordingEvery: 0 });
    const id = await create("long backfill");
    const before = sim.stats.listRequests;
    const rangeErrorsBefore = sim.stats.rangeErrors;
    await call("POST", `/${id}/run`, { from: from.toISOString(), to: to.toISOString() });
    await runPolls();
    assert.equal((await storedSids(id)).filter((s) => s.startsWith("lw")).length, 70);
    assert.equal(sim.stats.rangeErrors, rangeErrorsBefore);
    assert.ok(sim.stats.listRequests - before >= 3, "three monthly windows at least");
    const old = await call("POST", `/${id}/run`, {
      from: "2025-06-01T00:00:00Z",
      to: "2025-07-01T00:00:00Z",
    });
    assert.equal(old.status, 202);
    await runPolls();
    const [refused] = (await call("GET", `/${id}/runs`)).body.data.runs;
    assert.equal(refused.status, "failed");
    assert.match(refused.error, /keeps call details for 6 months/);
  });

  test("late-filled fields: a call without its duration and recording yet is taken by the next run's look-back, once", async () => {
    const id = await create("daily pull", { lookback_minutes: 60 });
    // The first run covers the previous local day up to now.
    await call("POST", `/${id}/run`, {});
    await runPolls();
    const young = sim.addCall({
      sid: "late-fields-1",
      createdAt: new Date(clock.now().getTime() - 2 * 60_000),
      filledAt: new Date(clock.now().getTime() + 5 * 60_000),
    });
    await call("POST", `/${id}/run`, {});
    await runPolls();
    assert.ok(!(await storedSids(id)).includes(young.sid), "not taken while its fields are empty");
    clock.advance(10 * 60_000);
    await call("POST", `/${id}/run`, {});
    await runPolls();
    await call("POST", `/${id}/run`, {});
    await runPolls();
    assert.deepEqual(
      (await storedSids(id)).filter((s) => s === young.sid),
      [young.sid],
      "taken once the fields are there, and only once",
    );
    const detail = await cqa.request(
      "GET",
      `/api/v1/accounts/${account.accountId}/ingress/interactions/${young.sid}`,
      {
        apiKey: account.apiKey,
      },
    );
    assert.equal(detail.body.data.audio_url.endsWith(`${young.sid}.wav`), true);
    const status = (await call("GET", `/${id}/status`)).body.data;
    assert.equal(status.checkpoint.position, null);
    assert.equal(status.checkpoint.through, clock.now().toISOString());
  });

  test("the dashboard redirect can create the user on first sign-in, with the integration's default role", async () => {
    const secret = "another-exolite-redirect-secret-0123456789";
    const id = await create("redirect", {
      redirect: { secret, create_users: true, default_role: "supervisor" },
    });
    const at = Math.floor(clock.now().getTime() / 1000);
    const token = signRedirectToken(
      {
        int: id,
        sub: "New.Lead@Acme.example",
        name: "New Lead",
        target: "/insights",
        iat: at,
        exp: at + 60,
        nonce: "first-sign-in-1",
      },
      secret,
    );
    const answer = await cqa.request("GET", `/api/v1/exolite/launch?token=${token}`);
    assert.equal(answer.status, 200, answer.text);
    assert.match(
      answer.headers.get("set-cookie") ?? "",
      /^cqa_session=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Strict/,
    );
    assert.match(answer.text, /<meta http-equiv="refresh" content="0;url=\/insights">/);
    assert.equal(answer.headers.get("referrer-policy"), "no-referrer");
    const users = await cqa.db.query<{ email: string; role: string; display_name: string }>(
      "SELECT email, role, display_name FROM users WHERE account_id = $1 AND email = 'new.lead@acme.example'",
      [account.accountId],
    );
    assert.deepEqual(users.rows, [
      { email: "new.lead@acme.example", role: "supervisor", display_name: "New Lead" },
    ]);
    const replay = await cqa.request("GET", `/api/v1/exolite/launch?token=${token}`);
    assert.equal(replay.status, 403);
    assert.match(replay.text, /This sign-in link was used already/);
    const missing = await cqa.request("GET", "/api/v1/exolite/launch");
    assert.equal(missing.status, 400);
    assert.match(missing.text, /This sign-in link is not complete/);
  });
});
