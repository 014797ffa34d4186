import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import {
  feedChat,
  startFeedPeer,
  testFeedConnector,
  testStreamConnector,
} from "../support/testConnectors.ts";
import { backends, type CreatedAccount, startTestCqa, type TestCqa } from "../support/testCqa.ts";

for (const backend of backends()) {
  describe(`connector framework on ${backend.name}`, () => {
    let cqa: TestCqa;
    let account: CreatedAccount;
    let peer: Awaited<ReturnType<typeof startFeedPeer>>;
    const clock = new ManualClock("2026-05-01T08:00:00Z");
    const path = (suffix = "") => `/api/v1/accounts/${account.accountId}/integrations${suffix}`;
    const call = (method: string, suffix: string, body?: unknown) =>
      cqa.request(method, path(suffix), { apiKey: account.apiKey, ...(body === undefined ? {} : { body }) });
    const create = async (name: string, overrides: Record<string, unknown> = {}, kind = "test_feed") => {
      const answer = await call("POST", "", { kind, name, config: peer.config(), ...overrides });
      assert.equal(answer.status, 201, answer.text);
      return answer.body.data.integration_id as string;
    };

    before(async () => {
      cqa = await startTestCqa({ backend, clock, connectors: [testFeedConnector, testStreamConnector] });
      account = await cqa.createAccount({ timezone: "Asia/Kolkata" });
      peer = await startFeedPeer();
    });
    after(async () => {
      await cqa.stop();
      await peer.close();
    });

    test("the catalogue lists each kind with its config schema, secrets write-only", async () => {
      const answer = await cqa.request("GET", "/api/v1/connector-kinds");
      assert.equal(answer.status, 200);
      const feed = answer.body.data.connector_kinds.find((k: { kind: string }) => k.kind === "test_feed");
      assert.equal(feed.mode, "poll");
      assert.deepEqual(feed.secret_fields, ["token"]);
      assert.equal(feed.config_schema.properties.token.writeOnly, true);
      assert.ok(feed.config_schema.required.includes("url"));
    });

    test("a bad config is refused with every problem named by its config path; unknown kinds list the known", async () => {
      const bad = await call("POST", "", {
        kind: "test_feed",
        name: "bad",
        config: { url: "not a url", page_size: 0 },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, "VALIDATION_ERROR");
      assert.match(bad.body.message, /config\.url must be the feed's http\(s\) URL/);
      assert.match(bad.body.message, /config\.token is required/);
      assert.match(bad.body.message, /config\.page_size must be at least 1/);
      const unknown = await call("POST", "", { kind: "carrier_pigeon", name: "x", config: {} });
      assert.equal(unknown.status, 400);
      assert.match(
        unknown.body.message,
        /kind 'carrier_pigeon' is not a connector kind; use one of: .*test_feed/,
      );
      const schedule = await call("POST", "", {
        kind: "test_feed",
        name: "s",
        config: peer.config(),
        schedule: { type: "daily", at: "9am" },
      });
      assert.equal(schedule.status, 400);
      assert.match(schedule.body.message, /HH:MM|02:30/);
    });

    test("secrets are sealed at rest, shown masked, kept on edit unless replaced; names are unique", async () => {
      const id = await create("sealed");
      const shown = await call("GET", `/${id}`);
      assert.equal(shown.body.data.config.token, "********");
      assert.deepEqual(shown.body.data.secret_fields_set, ["token"]);
      const row = await cqa.db.query<{ config: unknown; sealed_secrets: string }>(
        "SELECT config, sealed_secrets FROM integrations WHERE id = $1",
        [id],
      );
      assert.ok(!JSON.stringify(row.rows[0]).includes(peer.token), "the token is not stored in clear");
      const kept = await call("PUT", `/${id}`, {
        kind: "test_feed",
        name: "sealed",
        config: { url: peer.config().url, page_size: 5 },
      });
      assert.equal(kept.status, 200, kept.text);
      assert.equal(kept.body.data.config_version, 2);
      assert.equal((await call("POST", `/${id}/test`)).body.data.ok, true, "the kept token still works");
      await call("PUT", `/${id}`, {
        kind: "test_feed",
        name: "sealed",
        config: { ...peer.config(), token: "wrong" },
      });
      const refused = await call("POST", `/${id}/test`);
      assert.equal(refused.body.data.ok, false);
      assert.deepEqual(
        refused.body.data.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok]),
        [
          ["reach", true],
          ["auth", false],
        ],
      );
      assert.match(refused.body.data.checks[1].message, /refused the token/);
      const duplicate = await call("POST", "", { kind: "test_feed", name: "SEALED", config: peer.config() });
      assert.equal(duplicate.status, 409);
      assert.equal(duplicate.body.error.code, "DUPLICATE");
    });

    test("test connection names an unreachable peer", async () => {
      const id = await create("unreachable", {
        config: { ...peer.config(), url: "http://127.0.0.1:9/feed" },
      });
      const checks = await call("POST", `/${id}/test`);
      assert.equal(checks.body.data.ok, false);
      assert.equal(checks.body.data.checks[0].name, "reach");
      assert.match(checks.body.data.checks[0].message, /cannot be reached/);
    });

    test("a run ingests through the canonical path, advances the checkpoint, and the next run re-reads nothing", async () => {
      for (let i = 0; i < 25; i++) peer.add(feedChat(`feed-${i}`));
      peer.add("{not json", { external_interaction_id: "feed-no-content", channel_type: "CHAT" });
      const id = await create("runs");
      const queued = await call("POST", `/${id}/run`, {});
      assert.equal(queued.status, 202, queued.text);
      const again = await call("POST", `/${id}/run`, {});
      assert.equal(again.status, 409, "one run at a time");
      await cqa.drain();

      const runs = await call("GET", `/${id}/runs`);
      const [run] = runs.body.data.runs;
      assert.equal(run.status, "succeeded");
      assert.deepEqual([run.seen, run.ingested, run.duplicate, run.rejected], [27, 25, 0, 2]);
      const status = await call("GET", `/${id}/status`);
      assert.equal(status.body.data.state, "idle");
      assert.deepEqual(status.body.data.checkpoint, { cursor: 27 });
      assert.ok(status.body.data.last_success_at);
      const stored = await cqa.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM interactions WHERE integration_id = $1",
        [id],
      );
      assert.equal(stored.rows[0]?.n, 25);

      const letters = await call("GET", `/${id}/dead-letters`);
      assert.equal(letters.body.data.pagination.total, 2);
      const reasons = letters.body.data.dead_letters.map(
        (l: { code: string; reason: string }) => `${l.code}: ${l.reason}`,
      );
      assert.ok(reasons.some((r: string) => /INVALID_JSON: not JSON/.test(r)));
      assert.ok(
        reasons.some((r: string) => /At least one of audio_url, transcript_url or transcript_text/.test(r)),
      );

      await call("POST", `/${id}/run`, {});
      await cqa.drain();
      const second = (await call("GET", `/${id}/runs`)).body.data.runs[0];
      assert.equal(second.status, "succeeded");
      assert.equal(second.seen, 0, "nothing was read again");
    });

    test("a dead letter retried after the peer's record was fixed is ingested; a second retry is refused", async () => {
      const id = await create("retries");
      peer.add({ external_interaction_id: "feed-fix-me", channel_type: "CHAT" });
      await call("POST", `/${id}/run`, {});
      await cqa.drain();
      const letters = (await call("GET", `/${id}/dead-letters?status=open`)).body.data.dead_letters;
      const letter = letters.find((l: { payload: string }) => l.payload.includes("feed-fix-me"));
      const stillBad = await call("POST", `/${id}/dead-letters/${letter.dead_letter_id}/retry`);
      assert.equal(stillBad.status, 200);
      assert.equal(stillBad.body.data.outcome, "rejected");
      // The sender fixes the record and the operator retries: the stored payload is what is retried,
      // so here the fix is made in the stored payload (as the dashboard's edit-and-retry does).
      await cqa.db.query("UPDATE dead_letters SET payload = $2 WHERE id = $1", [
        letter.dead_letter_id,
        JSON.stringify(feedChat("feed-fix-me")),
      ]);
      const fixed = await call("POST", `/${id}/dead-letters/${letter.dead_letter_id}/retry`);
      assert.equal(fixed.body.data.outcome, "accepted", fixed.text);
      assert.equal(fixed.body.data.dead_letter.status, "retried");
      assert.equal(fixed.body.data.dead_letter.attempts, 2);
      const twice = await call("POST", `/${id}/dead-letters/${letter.dead_letter_id}/retry`);
      assert.equal(twice.status, 400);
      assert.match(twice.body.message, /already ingested/);
    });

    test("a run interrupted by a failing peer is retried and continues from its checkpoint: nothing twice", async () => {
      const id = await create("interrupted", { config: peer.config({ page_size: 5 }) });
      const before = peer.size;
      for (let i = 0; i < 12; i++) peer.add(feedChat(`flaky-${i}`));
      await cqa.db.query("UPDATE integrations SET checkpoint = $2 WHERE id = $1", [
        id,
        JSON.stringify({ cursor: before }),
      ]);
      // The first page is read and stored, then the feed fails twice.
      peer.failNext(2, 1);
      await call("POST", `/${id}/run`, {});
      await cqa.drain();
      const midway = (await call("GET", `/${id}/status`)).body.data;
      assert.deepEqual(
        midway.checkpoint,
        { cursor: before + 5 },
        "the first page is committed with its checkpoint",
      );
      assert.equal(midway.state, "failing");
      assert.match(midway.last_error, /answered 503/);
      for (let retry = 0; retry < 3; retry++) {
        clock.advance(10 * 60_000);
        await cqa.drain();
      }
      const stored = await cqa.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM interactions WHERE integration_id = $1 AND external_interaction_id LIKE 'flaky-%'",
        [id],
      );
      assert.equal(stored.rows[0]?.n, 12);
      const runs = (await call("GET", `/${id}/runs`)).body.data.runs;
      assert.equal(runs.length, 1, "the retried job continued the same run");
      assert.equal(runs[0].status, "succeeded");
      assert.equal(runs[0].ingested, 12);
      assert.equal(runs[0].duplicate, 0, "nothing was read twice");
      assert.equal((await call("GET", `/${id}/status`)).body.data.state, "idle", "healthy again");
    });

    test("an interval schedule queues runs when due; a paused integration is skipped until resumed", async () => {
      const id = await create("scheduled", { schedule: { type: "interval", every_seconds: 600 } });
      const supervisor = cqa.running.supervisor!;
      assert.equal(await supervisor.queueDueRuns(), 0, "not due yet");
      clock.advance(600_000);
      assert.equal(await supervisor.queueDueRuns(), 1);
      await cqa.drain();
      const paused = await call("POST", `/${id}/pause`);
      assert.equal(paused.body.data.state, "paused");
      clock.advance(600_000);
      assert.equal(await supervisor.queueDueRuns(), 0, "paused: not queued");
      await call("POST", `/${id}/resume`);
      // Resuming tells the supervisor at once; whichever tick gets there first queues the run.
      await supervisor.tick();
      await cqa.drain();
      const runs = (await call("GET", `/${id}/runs`)).body.data.runs;
      assert.equal(runs.length, 2, JSON.stringify(runs));
      assert.ok(runs.every((r: { trigger: string }) => r.trigger === "schedule"));
    });

    test("a daily schedule runs at the account's local time", async () => {
      const id = await create("daily", { schedule: { type: "daily", at: "02:30" } });
      const shown = (await call("GET", `/${id}`)).body.data;
      // 02:30 in Kolkata = 21:00 UTC the day before; the clock says 2026-05-01 08:00 UTC or later.
      assert.match(shown.next_run_at, /T21:00:00\.000Z$/);
    });

    test("a stream integration is started by the supervisor, stopped on pause, restarted after an edit", async () => {
      const id = await create("streaming", {}, "test_stream");
      const supervisor = cqa.running.supervisor!;
      await supervisor.syncStreams();
      assert.deepEqual(supervisor.runningStreams(), [id]);
      // The feed's records were ingested by other integrations already: the stream meets them as
      // duplicates, and its checkpoint reaches the end of the feed.
      const cursor = async () => (await call("GET", `/${id}/status`)).body.data.checkpoint?.cursor ?? 0;
      const deadline = Date.now() + 20_000;
      while ((await cursor()) < peer.size && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.equal(await cursor(), peer.size, "the stream caught up with the feed");
      const status = await call("GET", `/${id}/status`);
      assert.equal(status.body.data.state, "running");
      await call("POST", `/${id}/pause`);
      await supervisor.syncStreams();
      assert.deepEqual(supervisor.runningStreams(), []);
      await call("POST", `/${id}/resume`);
      await supervisor.syncStreams();
      assert.deepEqual(supervisor.runningStreams(), [id]);
      const replay = await call("POST", `/${id}/run`, { from: "2026-04-01T00:00:00Z" });
      assert.equal(replay.status, 202, replay.text);
      await supervisor.syncStreams();
      assert.deepEqual(supervisor.runningStreams(), [id], "restarted for the replay");
      const runNow = await call("POST", `/${id}/run`, {});
      assert.equal(runNow.status, 400);
      assert.match(runNow.body.message, /consume continuously/);
      await call("DELETE", `/${id}`);
      await supervisor.syncStreams();
      assert.deepEqual(supervisor.runningStreams(), []);
    });

    test("analysis results go back to the integration the interactions came from, at least once, same deliveryId", async () => {
      const id = await create("results");
      peer.add(feedChat("result-1"), feedChat("result-2"));
      peer.failResults(1);
      await call("POST", `/${id}/run`, {});
      await cqa.drain();
      const forThese = () => peer.results.filter((r) => r.externalInteractionId?.startsWith("result-"));
      assert.equal(forThese().length, 0, "the first delivery was refused");
      const pending = await cqa.db.query<{ status: string; attempts: number; last_error: string }>(
        "SELECT status, attempts, last_error FROM outbox WHERE channel = 'integration' AND target = $1",
        [id],
      );
      assert.ok(pending.rows.length >= 2);
      assert.ok(
        pending.rows.every(
          (r) => r.status === "pending" && r.attempts === 1 && /refused the results/.test(r.last_error),
        ),
      );
      clock.advance(60_000);
      await cqa.drain();
      const delivered = forThese();
      assert.deepEqual(delivered.map((r) => r.externalInteractionId).sort(), ["result-1", "result-2"]);
      assert.ok(delivered.every((r) => r.event === "INTERACTION_ANALYSIS_COMPLETED"));
      const body = JSON.parse(delivered[0]!.body);
      assert.equal(body.data.status, "COMPLETED");
      assert.equal(body.deliveryId, delivered[0]!.deliveryId);
    });

    test("a failing integration says so in its status with the last error", async () => {
      const id = await create("failing", { config: { ...peer.config(), token: "bad" } });
      await call("POST", `/${id}/run`, {});
      await cqa.drain();
      const status = (await call("GET", `/${id}/status`)).body.data;
      assert.equal(status.state, "failing");
      assert.match(status.last_error, /refused the token/);
      assert.equal(status.latest_run.status, "failed");
    });
  });
}
