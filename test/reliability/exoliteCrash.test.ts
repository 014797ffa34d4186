// Kill -9 of `cqa serve` in the middle of an Exolite backfill (2,500 calls over 3 days, against the
// bulk call API simulator), then a restart on the same storage: the run continues from its checkpoint
// and every call with a recording is stored exactly once. On the embedded database and PostgreSQL.
import assert from "node:assert/strict";
import { describe, type TestContext, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { startExoliteSimulator } from "../simulators/exoliteSimulator.ts";
import {
  type ChildLog,
  type CqaChild,
  type CrashStorage,
  childLog,
  crashStorages,
  freePort,
  operatorToken,
  startCqaChild,
} from "./support/cqaProcess.ts";

async function call(
  child: CqaChild,
  method: string,
  path: string,
  options: { apiKey?: string; bearer?: string; body?: unknown } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.apiKey) headers["x-api-key"] = options.apiKey;
  if (options.bearer) headers["authorization"] = `Bearer ${options.bearer}`;
  const response = await fetch(`${child.url}${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

for (const kind of crashStorages()) {
  describe(`Exolite backfill survives kill -9 (${kind.name})`, () => {
    test("killing cqa mid-run and restarting loses and duplicates nothing", async (t: TestContext) => {
      const storage: CrashStorage = await kind.create();
      // Slow pages, so the run is still going when cqa is killed; recordings "not published yet",
      // so the analysis of what was pulled stays idle (this test is about the pull).
      const sim = await startExoliteSimulator({ pageDelayMs: 120, recordingsPublished: false });
      const log: ChildLog = childLog();
      const env = storage.name === "postgres" ? { CQA_JOB_LEASE_MS: "5000" } : {};
      const port = await freePort();
      let child: CqaChild | null = null;
      t.after(async () => {
        await child?.stop().catch(() => {});
        await sim.close();
        await storage.dispose();
      });
      const onFailure = (error: unknown) => {
        console.error(log.text());
        throw error;
      };
      try {
        const from = new Date(Date.now() - 5 * 86_400_000);
        const to = new Date(from.getTime() + 3 * 86_400_000);
        const calls = sim.addCalls(2_500, { from, to, prefix: "kill", noRecordingEvery: 5 });
        const expected = calls.filter((c) => c.hasRecording).map((c) => c.sid);

        child = startCqaChild({
          storage,
          port,
          log,
          label: "first",
          env: { ...env, CQA_TRANSCRIBER: "none" },
        });
        await child.ready;
        const created = await call(child, "POST", "/api/v1/accounts", {
          bearer: operatorToken,
          body: {
            name: "Exolite crash test",
            timezone: "Asia/Kolkata",
            limits: { conversation_cap: "unlimited" },
          },
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const accountId = created.body.data.account_id as string;
        const apiKey = created.body.data.api_key as string;
        const base = `/api/v1/accounts/${accountId}/integrations`;
        const integration = await call(child, "POST", base, {
          apiKey,
          body: {
            kind: "exolite",
            name: "Exolite",
            schedule: null,
            config: {
              region: "custom",
              base_url: sim.url,
              account_sid: sim.accountSid,
              api_key: sim.apiKey,
              api_token: sim.apiToken,
              requests_per_minute: 100_000,
              // Pages of 50: more commits, so the kill lands between two of them.
              page_size: 50,
            },
          },
        });
        assert.equal(integration.status, 201, JSON.stringify(integration.body));
        const id = integration.body.data.integration_id as string;
        const queued = await call(child, "POST", `${base}/${id}/run`, {
          apiKey,
          body: { from: from.toISOString(), to: to.toISOString() },
        });
        assert.equal(queued.status, 202, JSON.stringify(queued.body));

        // Kill once part of the calls is stored, well before the end.
        let ingestedAtKill = 0;
        const deadline = Date.now() + 120_000;
        while (Date.now() < deadline) {
          const status = await call(child, "GET", `${base}/${id}/status`, { apiKey });
          ingestedAtKill = status.body.data.latest_run?.ingested ?? 0;
          if (ingestedAtKill >= 400) break;
          await delay(20);
        }
        await child.kill9();
        assert.ok(
          ingestedAtKill >= 400 && ingestedAtKill < expected.length,
          `killed mid-run (${ingestedAtKill} stored)`,
        );

        child = startCqaChild({
          storage,
          port,
          log,
          label: "second",
          env: { ...env, CQA_TRANSCRIBER: "none" },
        });
        await child.ready;
        let run: { status: string; ingested: number; duplicate: number } | null = null;
        const finish = Date.now() + 180_000;
        while (Date.now() < finish) {
          const status = await call(child, "GET", `${base}/${id}/status`, { apiKey });
          run = status.body.data.latest_run;
          if (run?.status === "succeeded") break;
          await delay(100);
        }
        assert.equal(run?.status, "succeeded", JSON.stringify(run));
        await child.stop();
        child = null;

        const stored = await storage.inspect(async (db) =>
          (
            await db.query<{ id: string }>(
              "SELECT external_interaction_id AS id FROM interactions WHERE integration_id = $1",
              [id],
            )
          ).rows.map((r) => r.id),
        );
        assert.equal(stored.length, expected.length, "every call with a recording is stored");
        assert.equal(new Set(stored).size, stored.length, "none twice");
        assert.deepEqual([...stored].sort(), [...expected].sort());
        const runs = await storage.inspect(
          async (db) =>
            (
              await db.query<{ ingested: number; duplicate: number; rejected: number }>(
                "SELECT ingested, duplicate, rejected FROM integration_runs WHERE integration_id = $1",
                [id],
              )
            ).rows,
        );
        assert.equal(runs.length, 1, "the restarted job continued the same run");
        assert.equal(runs[0]?.ingested, expected.length, "the run's count matches what was stored");
        assert.equal(runs[0]?.duplicate, 0, "nothing read twice was counted");
      } catch (error) {
        onFailure(error);
      }
    });
  });
}
