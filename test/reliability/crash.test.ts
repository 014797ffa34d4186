// Kill -9 of `cqa serve` mid-work, on the embedded database and on PostgreSQL: nothing accepted is
// lost, nothing is analysed twice, every webhook arrives (at least once, always with the same
// deliveryId and a valid signature). The child's logs are printed when a test fails.
import assert from "node:assert/strict";
import { describe, type TestContext, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import type { Database } from "../../src/storage/db.ts";
import {
  type LocalServer,
  startLocalServer,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../support/httpPeers.ts";
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

const batches = 5;
const batchSize = 100;
const total = batches * batchSize;
const events = ["INTERACTION_INGESTED", "INTERACTION_ANALYSIS_IN_PROGRESS", "INTERACTION_ANALYSIS_COMPLETED"];
// Well under the default 5-minute job lease: the embedded restart must take orphaned jobs back at
// once, and on PostgreSQL the children run with a short lease (another worker's view of a crash).
const restartDeadlineMs = 150_000;
const leaseFor = (storage: CrashStorage): Record<string, string> =>
  storage.name === "postgres" ? { CQA_JOB_LEASE_MS: "10000" } : {};

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  body: any;
}

async function call(
  child: CqaChild,
  method: string,
  path: string,
  options: { apiKey?: string; bearer?: string; body?: unknown } = {},
): Promise<Answer> {
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

/** The peers a run needs: a slow transcript server and a webhook receiver in this process. */
interface Peers {
  files: LocalServer;
  receiver: WebhookReceiver;
  account: { id: string; apiKey: string; secret: string };
}

const transcript = (n: number) =>
  `Agent: Thank you for calling, my name is Sam. How can I help you today?\n` +
  `Customer: Hello, I was charged twice for order ${n}.\n` +
  `Agent: I am sorry about that. Let me check the order for you.\n` +
  `Customer: Thank you.\nAgent: Is there anything else I can help you with?`;

async function startPeers(): Promise<Omit<Peers, "account"> & { setSecret(secret: string): void }> {
  let secret = "not yet known";
  // Slow enough that work is still in flight when the process is killed.
  const files = await startLocalServer(async (request, response) => {
    await delay(20 + Math.floor(Math.random() * 30));
    const n = Number(/\/t\/(\d+)\.txt$/.exec(request.path)?.[1] ?? Number.NaN);
    if (Number.isNaN(n)) {
      response.statusCode = 404;
      response.end();
      return;
    }
    response.setHeader("content-type", "text/plain");
    response.end(transcript(n));
  });
  const receiver = await startWebhookReceiver(() => secret);
  return {
    files,
    receiver,
    setSecret: (value) => {
      secret = value;
    },
  };
}

function batchItems(peers: Omit<Peers, "account">, batch: number) {
  return Array.from({ length: batchSize }, (_, i) => {
    const n = batch * batchSize + i;
    return {
      external_interaction_id: `crash-call-${n}`,
      channel_type: n % 2 === 0 ? "VOICE" : "CHAT",
      source: "crash-test",
      transcript_url: `${peers.files.url}/t/${n}.txt`,
      callback_url: `${peers.receiver.url}/hooks/cqa`,
      metadata: { batch, n },
    };
  });
}

async function createAccount(child: CqaChild): Promise<Peers["account"]> {
  const created = await call(child, "POST", "/api/v1/accounts", {
    bearer: operatorToken,
    // A cap far above the test's volume, so that usage is counted (and must not be counted twice).
    body: {
      name: "Crash test contact centre",
      limits: { conversation_cap: { period: "month", limit: 100_000 } },
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return {
    id: created.body.data.account_id,
    apiKey: created.body.data.api_key,
    secret: created.body.data.webhook_signing_secret,
  };
}

async function ingestBatch(child: CqaChild, peers: Peers, batch: number): Promise<Answer> {
  return call(child, "POST", `/api/v1/accounts/${peers.account.id}/ingress/interactions/batch`, {
    apiKey: peers.account.apiKey,
    body: { interactions: batchItems(peers, batch) },
  });
}

/** Logical events received so far: `event interactionId` → the deliveryIds of every reception. */
function receivedEvents(receiver: WebhookReceiver): Map<string, string[]> {
  const byEvent = new Map<string, string[]>();
  for (const event of receiver.events()) {
    const key = `${event.event} ${String(event["interactionId"])}`;
    byEvent.set(key, [...(byEvent.get(key) ?? []), event.deliveryId]);
  }
  return byEvent;
}

function countReceived(receiver: WebhookReceiver, event: string): number {
  return [...receivedEvents(receiver).keys()].filter((key) => key.startsWith(`${event} `)).length;
}

async function waitFor(
  what: string,
  done: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await delay(100);
  }
}

async function statusCounts(db: Database, accountId: string): Promise<Record<string, number>> {
  const result = await db.query<{ status: string; n: number }>(
    "SELECT status, count(*)::int AS n FROM interactions WHERE account_id = $1 GROUP BY status",
    [accountId],
  );
  return Object.fromEntries(result.rows.map((r) => [r.status, r.n]));
}

/**
 * Everything accepted finished exactly once: every interaction completed with one analysis, no job
 * left or dead, three delivered outbox messages per interaction, and the receiver got each of them
 * (duplicates allowed) with the outbox's deliveryId and a valid signature.
 */
async function assertEffectivelyOnce(t: TestContext, storage: CrashStorage, peers: Peers): Promise<void> {
  const { receiver, account } = peers;
  assert.deepEqual(receiver.badSignatures(), [], "every webhook signature verifies");
  const state = await storage.inspect(async (db) => ({
    interactions: await db.query<{ id: string; external_interaction_id: string; status: string }>(
      "SELECT id, external_interaction_id, status FROM interactions WHERE account_id = $1",
      [account.id],
    ),
    analyses: await db.query<{ interaction_id: string; n: number; completed: number }>(
      `SELECT interaction_id, count(*)::int AS n, count(*) FILTER (WHERE status = 'completed')::int AS completed
       FROM analyses WHERE account_id = $1 GROUP BY interaction_id`,
      [account.id],
    ),
    jobs: await db.query<{ status: string; n: number; last_error: string | null }>(
      "SELECT status, count(*)::int AS n, max(last_error) AS last_error FROM jobs WHERE account_id = $1 GROUP BY status",
      [account.id],
    ),
    usage: await db.query<{ used: number }>(
      "SELECT coalesce(sum(used), 0)::int AS used FROM account_usage WHERE account_id = $1",
      [account.id],
    ),
    outbox: await db.query<{ id: string; event: string; interaction_id: string; status: string }>(
      "SELECT id, event, interaction_id, status FROM outbox WHERE account_id = $1",
      [account.id],
    ),
  }));

  const externalIds = state.interactions.rows.map((r) => r.external_interaction_id).sort();
  assert.deepEqual(
    externalIds,
    Array.from({ length: total }, (_, n) => `crash-call-${n}`).sort(),
    "every interaction sent is stored, once",
  );
  const notCompleted = state.interactions.rows.filter((r) => r.status !== "completed");
  assert.deepEqual(notCompleted, [], "every interaction completed");
  const analyses = new Map(state.analyses.rows.map((r) => [r.interaction_id, r]));
  const wrongAnalyses = state.interactions.rows.filter((r) => {
    const a = analyses.get(r.id);
    return a?.n !== 1 || a.completed !== 1;
  });
  assert.deepEqual(wrongAnalyses, [], "each interaction has exactly one completed analysis");
  assert.deepEqual(state.jobs.rows, [], "no job left behind, none dead");
  assert.equal(
    state.usage.rows[0]?.used,
    total,
    "each interaction counted once against the conversation cap",
  );

  const outboxKeys = state.outbox.rows.map((r) => `${r.event} ${r.interaction_id}`);
  assert.equal(outboxKeys.length, total * events.length, "three outbox messages per interaction");
  assert.equal(new Set(outboxKeys).size, outboxKeys.length, "no event written twice");
  assert.deepEqual(
    state.outbox.rows.filter((r) => r.status !== "delivered"),
    [],
    "every message delivered",
  );

  const received = receivedEvents(receiver);
  const missing: string[] = [];
  const mixed: string[] = [];
  let duplicates = 0;
  for (const row of state.outbox.rows) {
    const key = `${row.event} ${row.interaction_id}`;
    const deliveryIds = received.get(key);
    if (!deliveryIds) missing.push(key);
    else if (deliveryIds.some((id) => id !== row.id)) mixed.push(key);
    else duplicates += deliveryIds.length - 1;
  }
  assert.deepEqual(missing, [], "every event received at least once");
  assert.deepEqual(mixed, [], "every reception of an event carries its one deliveryId");
  assert.equal(received.size, outboxKeys.length, "nothing received that was not in the outbox");
  t.diagnostic(`webhooks: ${receiver.requests.length} requests, ${duplicates} re-deliveries`);
}

/** Notes how long each phase took, as a diagnostic of the test. */
function phases(t: TestContext): (phase: string) => void {
  let last = Date.now();
  const spent: string[] = [];
  return (phase) => {
    const now = Date.now();
    spent.push(`${phase} ${((now - last) / 1000).toFixed(1)} s`);
    last = now;
    if (phase === "verified") t.diagnostic(`phases: ${spent.join(", ")}`);
  };
}

/** Runs `body`; on failure prints the children's logs so the cause can be found. */
async function withLogs(t: TestContext, log: ChildLog, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    process.stderr.write(
      `\n---- cqa child logs (${t.name}) ----\n${log.text().slice(-20_000)}\n---- end ----\n`,
    );
    throw error;
  }
}

/** What each crash test starts from: a storage, local peers, and a way to start cqa children on it. */
interface CrashRig {
  storage: CrashStorage;
  peers: Awaited<ReturnType<typeof startPeers>>;
  /** Starts `cqa serve` on the rig's storage and waits until it answers. */
  start(label: string): Promise<CqaChild>;
  phase: ReturnType<typeof phases>;
}

/** Runs `scenario` on a fresh storage and peers, prints the children's logs if it fails, cleans up. */
async function withCrashRig(
  t: TestContext,
  backend: ReturnType<typeof crashStorages>[number],
  scenario: (rig: CrashRig) => Promise<void>,
): Promise<void> {
  const storage = await backend.create();
  const peers = await startPeers();
  const log = childLog();
  const children: CqaChild[] = [];
  try {
    await withLogs(t, log, async () => {
      const phase = phases(t);
      const start = async (label: string) => {
        const child = startCqaChild({ storage, port: await freePort(), log, label, env: leaseFor(storage) });
        children.push(child);
        await child.ready;
        phase(label === "first" ? "started" : label);
        return child;
      };
      await scenario({ storage, peers, start, phase });
    });
  } finally {
    for (const child of children) await child.kill9().catch(() => {});
    await peers.files.close();
    await peers.receiver.close();
    await storage.dispose();
  }
}

for (const backend of crashStorages()) {
  // On PostgreSQL the two runs mostly wait for leases to run out, so they wait side by side.
  describe(`kill -9 of cqa serve on ${backend.name} storage`, {
    concurrency: backend.name === "postgres",
  }, () => {
    test("while 500 interactions are in flight: after restart all complete, each analysed once, every webhook received", {
      timeout: 300_000,
    }, async (t) => {
      await withCrashRig(t, backend, async ({ storage, peers, start, phase }) => {
        const first = await start("first");
        const account = await createAccount(first);
        peers.setSecret(account.secret);
        const run: Peers = { ...peers, account };
        for (let batch = 0; batch < batches; batch++) {
          const answer = await ingestBatch(first, run, batch);
          assert.equal(answer.status, 202, JSON.stringify(answer.body));
        }
        await waitFor(
          "the first analyses to complete",
          () => countReceived(peers.receiver, "INTERACTION_ANALYSIS_COMPLETED") >= 50,
          120_000,
        );
        phase("ingested, partly processed");
        await first.kill9();

        const atKill = await storage.inspect((db) => statusCounts(db, account.id));
        t.diagnostic(`at the kill: ${JSON.stringify(atKill)}`);
        const finished = atKill["completed"] ?? 0;
        assert.ok(finished > 0, "some interactions had finished at the kill");
        assert.ok(finished < total, "some interactions had not finished at the kill");
        assert.equal(
          Object.values(atKill).reduce((a, b) => a + b, 0),
          total,
          "every accepted interaction is stored",
        );

        phase("inspected");
        const second = await start("restarted");
        await waitFor(
          "every interaction's webhooks after the restart",
          () => events.every((event) => countReceived(peers.receiver, event) === total),
          restartDeadlineMs,
        );
        phase("all done");
        await second.stop();
        await assertEffectivelyOnce(t, storage, run);
        phase("verified");
      });
    });

    test("during ingest: an accepted batch is never half-stored, and a re-sent batch is not stored twice", {
      timeout: 300_000,
    }, async (t) => {
      await withCrashRig(t, backend, async ({ storage, peers, start, phase }) => {
        const first = await start("first");
        const account = await createAccount(first);
        peers.setSecret(account.secret);
        const run: Peers = { ...peers, account };
        const acknowledged: string[] = [];
        for (const batch of [0, 1]) {
          const answer = await ingestBatch(first, run, batch);
          assert.equal(answer.status, 202, JSON.stringify(answer.body));
          acknowledged.push(answer.body.data.id);
        }
        // The third batch is in flight when the process dies: its sender never hears back.
        const inFlight = ingestBatch(first, run, 2).catch((error: unknown) => error);
        // Anywhere from before the request arrives to after its transaction committed.
        await delay(Math.floor(Math.random() * 100));
        await first.kill9();
        phase("ingested, killed mid-batch");
        const thirdAnswer = await inFlight;
        t.diagnostic(
          `third batch answer: ${thirdAnswer instanceof Error ? thirdAnswer.message : JSON.stringify(thirdAnswer)}`,
        );

        const perBatch = await storage.inspect(async (db) => {
          // A finished interaction may still have its job row (killed before the job was removed).
          const rows = await db.query<{ batch: string; n: number; covered: number; ingested: number }>(
            `SELECT i.metadata->>'batch' AS batch, count(DISTINCT i.id)::int AS n,
                   count(DISTINCT i.id) FILTER (WHERE j.id IS NOT NULL OR i.status IN ('completed', 'failed'))::int
                     AS covered,
                   count(DISTINCT i.id) FILTER (WHERE o.id IS NOT NULL)::int AS ingested
                 FROM interactions i
                 LEFT JOIN jobs j ON j.payload->>'interactionId' = i.id::text
                 LEFT JOIN outbox o ON o.interaction_id = i.id AND o.event = 'INTERACTION_INGESTED'
                 WHERE i.account_id = $1 GROUP BY 1`,
            [account.id],
          );
          const jobRows = await db.query<{ id: string; accepted: number }>(
            "SELECT id, accepted FROM ingest_jobs WHERE account_id = $1",
            [account.id],
          );
          return { rows: rows.rows, jobs: jobRows.rows };
        });
        t.diagnostic(`after the kill: ${JSON.stringify(perBatch.rows)}`);
        const stored = new Map(perBatch.rows.map((r) => [Number(r.batch), r]));
        for (const batch of [0, 1]) {
          assert.equal(stored.get(batch)?.n, batchSize, `acknowledged batch ${batch} is all there`);
        }
        const third = stored.get(2)?.n ?? 0;
        assert.ok(
          third === 0 || third === batchSize,
          `the batch in flight is all or nothing (found ${third})`,
        );
        for (const row of perBatch.rows) {
          assert.equal(
            row.covered,
            row.n,
            `batch ${row.batch}: every interaction is finished or has its job`,
          );
          assert.equal(row.ingested, row.n, `batch ${row.batch}: every interaction has its INGESTED event`);
        }
        for (const id of acknowledged) {
          assert.equal(
            perBatch.jobs.find((j) => j.id === id)?.accepted,
            batchSize,
            "the batch job is recorded",
          );
        }

        phase("inspected");
        const second = await start("restarted");
        // The sender did not hear back about the third batch, so it sends it again.
        const resent = await ingestBatch(second, run, 2);
        if (third === batchSize) {
          assert.equal(resent.status, 409, "stored before the kill: every item is a duplicate");
          assert.equal(resent.body.error?.code, "DUPLICATE", JSON.stringify(resent.body));
        } else {
          assert.equal(resent.status, 202, JSON.stringify(resent.body));
        }
        for (const batch of [3, 4]) {
          const answer = await ingestBatch(second, run, batch);
          assert.equal(answer.status, 202, JSON.stringify(answer.body));
        }
        await waitFor(
          "every interaction's webhooks after the restart",
          () => events.every((event) => countReceived(peers.receiver, event) === total),
          restartDeadlineMs,
        );
        phase("all done");
        await second.stop();
        await assertEffectivelyOnce(t, storage, run);
        phase("verified");
      });
    });
  });
}
