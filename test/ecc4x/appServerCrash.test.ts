// ECC4x, approach 2: cqa polls the App Server API (simulated). `cqa serve` is killed with SIGKILL in the
// middle of a poll of 1,000 calls across 20 pages and started again: every call is ingested once — none
// lost, none read twice — on the embedded database and on PostgreSQL.
import assert from "node:assert/strict";
import { describe, type TestContext, test } from "node:test";
import {
  type ChildLog,
  type CqaChild,
  childLog,
  crashStorages,
  freePort,
  operatorToken,
  startCqaChild,
} from "../reliability/support/cqaProcess.ts";
import {
  simulatedCall,
  startAppServerSimulator,
  startVoiceLogSimulator,
} from "../support/ecc4xSimulators.ts";

const calls = 1_000;
const pageSize = 50;

async function call(child: CqaChild, method: string, path: string, apiKey?: string, body?: unknown) {
  const response = await fetch(`${child.url}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(apiKey ? { "x-api-key": apiKey } : { authorization: `Bearer ${operatorToken}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  return { status: response.status, body: (text ? JSON.parse(text) : null) as any, text };
}

async function until(what: string, check: () => Promise<boolean>, ms = 150_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`timed out waiting until ${what}`);
}

for (const storage of crashStorages()) {
  describe(`ECC4x App Server poller killed mid-poll (${storage.name})`, () => {
    test("1,000 calls across 20 pages, kill -9 mid-poll, restart: each call is ingested exactly once", async (t: TestContext) => {
      const store = await storage.create();
      const appServer = await startAppServerSimulator();
      const voiceLog = await startVoiceLogSimulator();
      const log: ChildLog = childLog();
      const port = await freePort();
      const env = {
        CQA_TRANSCRIBER: "none",
        CQA_WORKER_CONCURRENCY: "2",
        ...(storage.name === "postgres" ? { CQA_JOB_LEASE_MS: "3000" } : {}),
      };
      let child = startCqaChild({ storage: store, port, log, label: "first", env });
      try {
        const sids = Array.from({ length: calls }, (_, i) => simulatedCall("CAPOLL", i).call_sid);
        appServer.add(...Array.from({ length: calls }, (_, i) => simulatedCall("CAPOLL", i)));
        voiceLog.publish(...sids);
        appServer.delayMs = 40;
        await child.ready;
        const account = await call(child, "POST", "/api/v1/accounts", undefined, {
          name: "ECC4x poller",
          timezone: "Asia/Kolkata",
          limits: { conversation_cap: "unlimited" },
        });
        assert.equal(account.status, 201, account.text);
        const { account_id: accountId, api_key: apiKey } = account.body.data;
        const base = `/api/v1/accounts/${accountId}/integrations`;
        const created = await call(child, "POST", base, apiKey, {
          kind: "ecc4x_app_server",
          name: "App Server",
          config: appServer.config({
            voice_log: voiceLog.config(),
            paging: { style: "offset", page_size: pageSize },
          }),
          schedule: null,
        });
        assert.equal(created.status, 201, created.text);
        const integrationId = created.body.data.integration_id as string;
        assert.equal((await call(child, "POST", `${base}/${integrationId}/run`, apiKey, {})).status, 202);

        // Killed while the poll is between its pages.
        await until("a third of the pages are read", async () => appServer.pagesServed() >= 7);
        await child.kill9();
        const before = await store.inspect(async (db) =>
          Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM interactions")).rows[0]?.n ?? 0),
        );
        assert.ok(before > 0 && before < calls, `killed mid-poll: ${before} of ${calls} stored`);

        child = startCqaChild({ storage: store, port, log, label: "second", env });
        await child.ready;
        appServer.delayMs = 0;
        const runs = async () =>
          (await call(child, "GET", `${base}/${integrationId}/runs?limit=100`, apiKey)).body.data.runs as {
            ingested: number;
            duplicate: number;
            rejected: number;
            status: string;
          }[];
        // The interrupted run continues from its checkpoint (on PostgreSQL once its lease ran out).
        await until(
          "all 1,000 calls are ingested",
          async () => (await runs()).reduce((n, r) => n + r.ingested, 0) >= calls,
        );
        const all = await runs();
        assert.equal(
          all.reduce((n, r) => n + r.ingested, 0),
          calls,
          "each call ingested once",
        );
        assert.equal(
          all.reduce((n, r) => n + r.duplicate, 0),
          0,
          "no call was read twice",
        );
        assert.equal(
          all.reduce((n, r) => n + r.rejected, 0),
          0,
        );
        await child.stop();

        const stored = await store.inspect(async (db) =>
          (await db.query<{ id: string }>("SELECT external_interaction_id AS id FROM interactions")).rows.map(
            (r) => r.id,
          ),
        );
        assert.equal(stored.length, calls);
        assert.deepEqual([...stored].sort(), [...sids].sort());
      } catch (error) {
        t.diagnostic(log.text().slice(-4000));
        throw error;
      } finally {
        await child.stop().catch(() => {});
        await appServer.close();
        await voiceLog.close();
        await store.dispose();
      }
    });
  });
}
